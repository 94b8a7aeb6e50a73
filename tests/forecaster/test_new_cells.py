"""Dilated layers and the xLSTM cells end to end: fit, heads, files, explain, CLI."""

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TINY, TINY_ARGS
from rnncast import ConfigError, Forecaster
from rnncast.cli import main
from rnncast.explain import gate_activations
from rnncast.reference import from_torch, network_forward

DILATED = {**TINY, "hidden": (8, 8), "dilations": (1, 12), "seed": 0}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"output": "recursive"},
        {"intervals": "conformal", "levels": (80,)},
        {"ensemble": 2},
        {"missing": "mask"},
    ],
    ids=["direct", "recursive", "conformal", "ensemble", "masked"],
)
def test_a_dilated_network_fits_saves_and_predicts(air_panel, tmp_path, extra):
    model = Forecaster(horizon=6, **DILATED, **extra).fit(air_panel)
    assert model.network_.config.dilations == (1, 12)
    predicted = model.predict(level=(80,) if "levels" in extra else None)
    assert predicted["yhat"].notna().all()
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(
        loaded.predict(level=(80,) if "levels" in extra else None), predicted
    )


def test_the_reference_reproduces_a_fitted_dilated_network(air_panel):
    model = Forecaster(horizon=6, **DILATED, combine="none").fit(air_panel)
    phases = model.season_phases(model.last_ds_)
    x = model.network_inputs(
        model.context_, model.scaler_, torch.float64, phases=phases
    ).numpy()
    network = model.network_.double()
    expected = network(torch.as_tensor(x)).detach().numpy()
    got, _ = network_forward(from_torch(network), x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_explain_shows_the_gates_of_dilated_layers(air_panel):
    model = Forecaster(horizon=6, **DILATED, combine="none").fit(air_panel)
    trace = gate_activations(model)
    assert {(2, "forget f"), (2, "hidden h")} <= set(trace.gates)
    assert trace.gates[(2, "hidden h")].shape == (model.lookback_, 8)


def test_dilations_must_give_every_layer_one(air_panel):
    with pytest.raises(ConfigError, match="dilations"):
        Forecaster(horizon=6, **{**DILATED, "dilations": (12,)}).fit(air_panel)
    with pytest.raises(ConfigError, match="dilations"):
        Forecaster(horizon=6, dilations=(0, 2)).checked_params()


def test_the_command_line_takes_dilations(air_panel, write_csv, tmp_path):
    data = write_csv(air_panel)
    args = ["forecast", str(data), "--horizon", "6", *TINY_ARGS]
    args += ["--hidden", "8,8", "--dilations", "1,12", "-o", str(tmp_path / "f.csv")]
    assert main(args) == 0
    assert len(pd.read_csv(tmp_path / "f.csv")) == 6 * air_panel["unique_id"].nunique()


# the M4 winner's layout in small: a plain layer, then a residual group of two
# dilated ones (4 and 12 months)
GROUPED = {**TINY, "hidden": (8, 8, 8), "dilations": ((1,), (4, 12)), "seed": 0}


@pytest.mark.parametrize("output", ["direct", "recursive"])
def test_residual_dilation_groups_fit_save_predict_and_match_the_reference(
    air_panel, tmp_path, output
):
    model = Forecaster(horizon=6, **GROUPED, output=output, combine="none")
    predicted = model.fit(air_panel).predict()
    config = model.network_.config
    assert (config.dilations, config.residual_groups) == ((1, 4, 12), (1, 2))
    model.save(tmp_path / "m")
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "m").predict(), predicted)
    x = model.network_inputs(
        model.context_,
        model.scaler_,
        torch.float64,
        phases=model.season_phases(model.last_ds_),
    ).numpy()
    network = model.network_.double()
    expected = network(torch.as_tensor(x)).detach().numpy()
    got, _ = network_forward(from_torch(network), x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "dilations",
    [((1,), 4), ((),), ((1, 0),), "1,4", ((1, 2), (3, "4"))],
    ids=["mixed", "empty-group", "zero", "text", "text-in-group"],
)
def test_dilation_groups_are_checked(dilations):
    with pytest.raises(ConfigError, match="dilations"):
        Forecaster(horizon=6, hidden=(8, 8, 8), dilations=dilations).checked_params()


@pytest.mark.parametrize("text", ["1/4,12", "(1),(4,12)"])
def test_the_command_line_takes_dilation_groups(air_panel, write_csv, tmp_path, text):
    data = write_csv(air_panel)
    out = tmp_path / "f.csv"
    args = ["forecast", str(data), "--horizon", "6", *TINY_ARGS, "--hidden", "8,8,8"]
    assert (
        main(
            [
                *args,
                "--dilations",
                text,
                "--save-model",
                str(tmp_path / "m"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert pd.read_csv(out)["yhat"].notna().all()
    config = Forecaster.load(tmp_path / "m").network_.config
    assert (config.dilations, config.residual_groups) == ((1, 4, 12), (1, 2))


@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
@pytest.mark.parametrize(
    "extra",
    [{}, {"output": "recursive"}, {"dilations": (1, 12)}, {"missing": "mask"}],
    ids=["direct", "recursive", "dilated", "masked"],
)
def test_an_xlstm_fits_saves_predicts_and_is_explained(
    air_panel, tmp_path, cell, extra
):
    params = {**TINY, "hidden": (8, 8), "seed": 0, "cell": cell, **extra}
    model = Forecaster(horizon=6, **params).fit(air_panel)
    predicted = model.predict()
    assert predicted["yhat"].notna().all()
    model.save(tmp_path / "m")
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "m").predict(), predicted)
    alone = Forecaster(horizon=6, **params, combine="none").fit(air_panel)
    trace = gate_activations(alone)
    assert {(1, "input i'"), (2, "forget f'"), (2, "hidden h")} <= set(trace.gates)
    # the reference reproduces the fitted network's forecast
    last = trace.forecast["yhat"].to_numpy()
    expected = alone.predict()
    first = expected[expected["unique_id"] == alone.ids_[0]]["yhat"].to_numpy()
    np.testing.assert_allclose(last, first, rtol=1e-5)


@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_the_command_line_fits_the_xlstm_cells(air_panel, write_csv, tmp_path, cell):
    data = write_csv(air_panel)
    out = str(tmp_path / "f.csv")
    args = ["forecast", str(data), "--horizon", "6", *TINY_ARGS, "--cell", cell]
    assert main([*args, "-o", out]) == 0
    assert pd.read_csv(out)["yhat"].notna().all()
