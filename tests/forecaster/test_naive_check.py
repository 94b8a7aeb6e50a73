"""level="auto"'s naive check: a network that cannot beat the last value on
validation is compared with one that forecasts changes from the last value."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import rnncast.forecaster
from conftest import TINY
from rnncast import Forecaster, ModelFileError
from rnncast.cli import main
from rnncast.datasets import load_ili
from rnncast.forecaster.members import refit_epochs
from rnncast.training import TrainConfig, naive_loss


@pytest.fixture(scope="module")
def ili_to_may_2020() -> pd.DataFrame:
    """Weekly US ILI, 300 weeks to May 2020: validation holds the spring-2020 drop."""
    ili = load_ili()
    return ili.iloc[len(ili) - 308 : len(ili) - 8].reset_index(drop=True)


def test_naive_loss_is_the_mean_absolute_change_from_the_last_input():
    values = torch.tensor([0.0, 1.0, 3.0, 2.0, 5.0, 4.0, 4.0, 7.0])
    starts = torch.tensor([0, 3])  # windows of lookback 3 + horizon 2
    loss = naive_loss(
        values, starts, lookback=3, horizon=2, config=TrainConfig(loss="mae")
    )
    # window 0: last input 3, targets 2, 5; window 3: last input 4, targets 4, 7
    assert loss == pytest.approx((1 + 2 + 0 + 3) / 4)
    squared = naive_loss(
        values, starts, lookback=3, horizon=2, config=TrainConfig(loss="mse")
    )
    assert squared == pytest.approx((1 + 4 + 0 + 9) / 4)


def test_naive_loss_skips_unobserved_targets():
    values = torch.tensor([0.0, 1.0, 3.0, float("nan"), 5.0])
    loss = naive_loss(
        values,
        torch.tensor([0]),
        lookback=3,
        horizon=2,
        config=TrainConfig(loss="mae"),
        masked=True,
    )
    assert loss == pytest.approx(2.0)  # only the target 5 counts


def test_a_seasonal_start_worse_than_the_last_value_is_replaced(ili_to_may_2020):
    horizon = 8
    model = Forecaster(horizon=horizon, validation_windows=1, **TINY, seed=0).fit(
        ili_to_may_2020
    )

    scores = model.window_level_scores_
    assert set(scores) == {"naive", "detect", "last"}
    assert scores["detect"] >= scores["naive"]  # what started the check
    assert scores["last"] < scores["detect"]
    assert model.window_level_ == "last"
    assert model.network_.config.level == "last"
    assert model.window_level == "auto"  # the parameter is left as given
    # the naive score is the MASE of the last value on the held-out last weeks
    y = ili_to_may_2020["y"].to_numpy()
    seen, held_out = y[:-horizon], y[-horizon:]
    scale = np.mean(np.abs(seen[52:] - seen[:-52]))
    assert scores["naive"] == pytest.approx(
        np.mean(np.abs(held_out - seen[-1])) / scale, rel=1e-5
    )
    # the refit continued the chosen network, for a share of its best epochs
    validated = [r for r in model.history_ if not r.refit]
    refit = [r for r in model.history_ if r.refit]
    best = 1 + int(np.argmin([r.val_loss for r in validated]))
    assert len(refit) == refit_epochs(best)
    assert min(r.val_loss for r in validated) == pytest.approx(scores["last"])
    last = Forecaster(
        horizon=horizon, validation_windows=1, **TINY, seed=0, window_level="last"
    )
    pd.testing.assert_frame_equal(model.predict(), last.fit(ili_to_may_2020).predict())


def test_the_choice_is_saved_with_the_model(ili_to_may_2020, tmp_path):
    model = Forecaster(horizon=8, **TINY, seed=0).fit(ili_to_may_2020)
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    assert loaded.window_level_ == "last"
    assert loaded.window_level_scores_ == pytest.approx(model.window_level_scores_)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_an_explicit_level_is_never_replaced(ili_to_may_2020):
    model = Forecaster(horizon=8, **TINY, seed=0, window_level="detect").fit(
        ili_to_may_2020
    )
    assert model.window_level_ == "detect"
    assert set(model.window_level_scores_) == {"naive", "detect"}
    assert model.window_level_scores_["detect"] >= model.window_level_scores_["naive"]


def test_a_network_that_beats_the_last_value_is_kept_without_a_second_training(air):
    model = Forecaster(horizon=12, **TINY, seed=0).fit(air)
    assert model.window_level_ == "detect"
    assert set(model.window_level_scores_) == {"naive", "detect"}
    assert model.window_level_scores_["detect"] < model.window_level_scores_["naive"]
    assert len([r for r in model.history_ if not r.refit]) <= TINY["epochs"]


def test_the_first_network_is_restored_when_the_last_value_start_is_worse(
    air, monkeypatch
):
    """Every network fails a naive loss of 0; the seasonal one is then still better."""
    settings = {"horizon": 12, **TINY, "seed": 0}
    monkeypatch.setattr(rnncast.forecaster.fitting, "naive_loss", lambda *a, **k: 0.0)
    model = Forecaster(**settings).fit(air)
    assert set(model.window_level_scores_) == {"naive", "detect", "last"}
    assert model.window_level_scores_["last"] >= model.window_level_scores_["detect"]
    assert model.window_level_ == "detect"
    detect = Forecaster(**settings, window_level="detect").fit(air)
    pd.testing.assert_frame_equal(model.predict(), detect.predict())
    assert model.history_ == detect.history_


def test_without_validation_there_is_no_check(air):
    model = Forecaster(horizon=12, **TINY, seed=0, validation=False).fit(air)
    assert model.window_level_scores_ is None
    assert model.window_level_ == "detect"


def test_the_check_also_runs_without_the_refit(ili_to_may_2020):
    model = Forecaster(horizon=8, **TINY, seed=0, refit_full=False).fit(ili_to_may_2020)
    assert model.window_level_ == "last"
    assert not any(r.refit for r in model.history_)


def test_the_cli_says_what_the_check_chose(
    ili_to_may_2020, write_csv, tmp_path, capsys
):
    data = write_csv(ili_to_may_2020)
    out = tmp_path / "fc.csv"
    args = ["forecast", str(data), "--horizon", "8", "--hidden", "8", "--epochs", "3"]
    assert main([*args, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("level:"))
    assert "'detect' network did not beat the last value" in line
    assert line.endswith("kept 'last'.")


def test_an_ensemble_is_checked_on_its_members_mean_best_loss(ili_to_may_2020):
    model = Forecaster(horizon=8, **TINY, seed=0, ensemble=2).fit(ili_to_may_2020)
    assert model.window_level_ == "last"
    assert all(m.config.level == "last" for m in model.network_.members)
    validated = [r for r in model.history_ if not r.refit]
    best = [min(r.val_loss for r in validated if r.member == k) for k in (0, 1)]
    assert model.window_level_scores_["last"] == pytest.approx(np.mean(best))


@pytest.mark.parametrize("choice", ["last", "season"])
def test_a_level_choice_that_disagrees_with_the_saved_network_is_refused(
    air, tmp_path, choice
):
    Forecaster(horizon=12, **TINY, seed=0).fit(air).save(tmp_path / "m")  # detect
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config["fitted"]["level_choice"] = choice
    path.write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="do not fit this rnncast"):
        Forecaster.load(tmp_path / "m")
