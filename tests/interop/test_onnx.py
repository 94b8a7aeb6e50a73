"""Exported ONNX graphs run in onnxruntime and give the network's outputs (1e-5)."""

import numpy as np
import pytest
import torch

from rnncast import DataError, Forecaster
from rnncast.interop import export_onnx, onnx_metadata

ort = pytest.importorskip("onnxruntime", reason="pip install 'rnncast[onnx]'")
pytest.importorskip("onnxscript", reason="pip install 'rnncast[onnx]'")

FAST = {"horizon": 6, "epochs": 2, "hidden": (8,), "seed": 0, "progress": False}


def _run(path, inputs, future=None):
    runtime = ort.InferenceSession(str(path))
    feed = {"inputs": inputs.numpy()}
    if future is not None:
        feed["future"] = future.numpy()
    return runtime.run(["forecast"], feed)[0]


def _network(model, inputs, future=None):
    with torch.no_grad():
        return model.fitted_.network(inputs, future).numpy()


@pytest.mark.parametrize(
    "settings",
    [
        {},  # LSTM, one member, point head
        {"cell": "gru", "ensemble": 3, "intervals": "quantile"},
        {"cell": "rnn", "output": "recursive", "season_length": 12},
        {"cell": "mlstm"},
        {"hidden": (8, 8), "dilations": (1, 4), "missing": "mask"},
    ],
    ids=[
        "lstm",
        "gru-ensemble-quantiles",
        "rnn-recursive",
        "mlstm",
        "dilated-masked",
    ],
)
def test_onnxruntime_gives_the_networks_forecasts(air_panel, tmp_path, settings):
    model = Forecaster(**{**FAST, **settings}).fit(air_panel)
    path = export_onnx(model, tmp_path / "model.onnx")
    inputs = model.forecast_inputs().inputs  # every series: a batch of several
    assert len(inputs) > 2
    np.testing.assert_allclose(
        _run(path, inputs), _network(model, inputs), rtol=1e-5, atol=1e-5
    )
    one = inputs[:1]  # any batch size
    np.testing.assert_allclose(_run(path, one), _network(model, one), atol=1e-5)
    about = onnx_metadata(path)
    assert about["lookback"] == model.fitted_.lookback
    assert about["horizon"] == 6 and about["transform"] == model.fitted_.transform


def test_future_known_covariates_are_a_second_input(tmp_path, promo_days):
    frame = promo_days
    train, future = frame.iloc[:-6], frame.iloc[-6:].drop(columns="y")
    model = Forecaster(**FAST, futr_exog=["promo"]).fit(train)
    path = export_onnx(model, tmp_path / "model.onnx")
    inputs = model.forecast_inputs(futr_df=future)
    np.testing.assert_allclose(
        _run(path, inputs.inputs, inputs.future),
        _network(model, inputs.inputs, inputs.future),
        atol=1e-5,
    )
    assert onnx_metadata(path)["future_size"] == 1


def test_export_needs_a_fitted_model_and_writes_nothing_on_failure(tmp_path):
    from rnncast import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(Forecaster(horizon=3), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    model = Forecaster(**FAST).fit(np.sin(np.arange(60.0)))
    with pytest.raises(DataError, match="does not exist"):
        export_onnx(model, tmp_path / "missing" / "x.onnx")
    assert list(tmp_path.iterdir()) == []


def test_the_export_command_writes_a_file_onnxruntime_runs(air_panel, tmp_path):
    from rnncast.cli import main

    model = Forecaster(**FAST).fit(air_panel)
    model.save(tmp_path / "model")
    out = tmp_path / "model.onnx"
    assert main(["export", str(tmp_path / "model"), "--onnx", str(out), "-q"]) == 0
    inputs = model.forecast_inputs().inputs
    np.testing.assert_allclose(_run(out, inputs), _network(model, inputs), atol=1e-5)


def test_the_serving_recipe_reproduces_predict(air_panel, tmp_path):
    """docs/serving.md: graph, then the Theta mix, then the scaling undone."""
    from rnncast.data.scaling import inverse_transform, transform_rows

    model = Forecaster(**FAST).fit(air_panel)  # the default mix with Theta
    path = export_onnx(model, tmp_path / "model.onnx")
    prepared = model.forecast_inputs()
    z = _run(path, prepared.inputs).astype(np.float64)
    mix = model.fitted_.mix
    assert mix.method == "theta"
    z = mix.apply(z, transform_rows(prepared.classical, prepared.stats), None)
    served = inverse_transform(z, prepared.stats)
    expected = model.predict()["yhat"].to_numpy().reshape(served.shape)
    np.testing.assert_allclose(served, expected, rtol=1e-5)
