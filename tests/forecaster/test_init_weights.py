"""init_weights: a fit whose networks start from a saved model's weights."""

import pytest
import torch
from tests.conftest import TINY

from rnncast import ConfigError, Forecaster

# One optimiser step at a vanishing learning rate: the weights stay where they
# started, so the test sees where that was.
BARELY = {
    "epochs": 1,
    "max_steps": 1,
    "learning_rate": 1e-12,
    "validation": False,
    "combine": None,
    "intervals": None,
    "progress": False,
}


def test_a_fit_starts_from_a_saved_model_folder(air_panel, tmp_path):
    pretrained = Forecaster(horizon=6, lookback=24, **TINY, ensemble=2, progress=False)
    pretrained.fit(air_panel).save(tmp_path / "model")
    tuned = Forecaster(
        horizon=6,
        lookback=24,
        hidden=TINY["hidden"],
        ensemble=2,
        init_weights=str(tmp_path / "model"),
        **BARELY,
    ).fit(air_panel[air_panel["unique_id"] == "sqrt"])
    for mine, theirs in zip(
        tuned.network_.members, pretrained.network_.members, strict=True
    ):
        for a, b in zip(mine.parameters(), theirs.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-9)
    fresh = Forecaster(horizon=6, lookback=24, hidden=TINY["hidden"], **BARELY)
    fresh_weight = fresh.fit(air_panel).network_.layers[0].weight_hh_l0
    started = pretrained.network_.members[0].layers[0].weight_hh_l0
    assert not torch.allclose(fresh_weight, started)


def test_a_source_of_other_layers_or_no_source_is_refused(air_panel, tmp_path):
    Forecaster(horizon=6, lookback=24, **TINY, progress=False).fit(air_panel).save(
        tmp_path / "model"
    )
    wider = Forecaster(horizon=6, lookback=24, hidden=(16,), **BARELY)
    with pytest.raises(ConfigError, match=r"hidden=\(8,\)"):
        wider.set_params(init_weights=str(tmp_path / "model")).fit(air_panel)
    with pytest.raises(ConfigError, match="is not there"):
        wider.set_params(init_weights=str(tmp_path / "nothing")).fit(air_panel)
