"""The networks and the Forecaster on a CUDA GPU.

CI machines have no GPU, so this module only runs where one is present (the device
check of benchmarks/gpu_check.sh runs it on a GPU machine); everything it tests also
runs on the CPU in the other modules.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from test_reference import CELLS, _network, _windows

from conftest import TINY
from rnncast import Forecaster, backtest, training
from rnncast.reference import (
    from_torch,
    grads_from_torch,
    mse_loss,
    network_backward,
    network_forward,
)

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"
)


@pytest.mark.parametrize("cell", CELLS)
def test_cudnn_forward_and_bptt_equal_the_reference_in_float64(air, cell):
    # cuDNN runs backward only in training mode (the network has no dropout)
    net = _network(cell, (6, 4, 3), seed=1).cuda().train()
    x, target = _windows(air)
    y_hat = net(torch.as_tensor(x, device="cuda"))
    loss = torch.nn.functional.mse_loss(y_hat, torch.as_tensor(target, device="cuda"))
    loss.backward()
    got = y_hat.detach().cpu().numpy()
    net.cpu()  # moves the gradients too

    ref = from_torch(net)
    expected, cache = network_forward(ref, x)
    layers, dW_y, _ = network_backward(ref, cache, mse_loss(expected, target)[1])
    torch_layers, torch_W_y, _ = grads_from_torch(net)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dW_y, torch_W_y, rtol=0, atol=1e-10)
    for ours, theirs in zip(layers, torch_layers, strict=True):
        for name in ours.W:
            np.testing.assert_allclose(ours.W[name], theirs.W[name], rtol=0, atol=1e-10)


def test_fit_on_cuda_saves_a_model_the_cpu_predicts_alike(air_panel, tmp_path):
    model = Forecaster(horizon=6, lookback=24, device="cuda", seed=0, **TINY)
    on_gpu = model.fit(air_panel).predict()
    assert next(model.network_.parameters()).is_cuda
    assert np.isfinite(on_gpu["yhat"]).all()
    model.save(tmp_path / "model")
    on_cpu = Forecaster.load(tmp_path / "model", device="cpu").predict()
    # float32 cuDNN and oneDNN kernels round differently; the weights are the same.
    np.testing.assert_allclose(on_cpu["yhat"], on_gpu["yhat"], rtol=1e-4)


def test_one_seed_gives_the_same_forecast_twice_on_cuda(air_panel):
    def forecast() -> pd.DataFrame:
        model = Forecaster(horizon=6, lookback=24, device="cuda", seed=3, **TINY)
        return model.fit(air_panel).predict()

    pd.testing.assert_frame_equal(forecast(), forecast())


@pytest.mark.parametrize("intervals", ["conformal", "quantile"])
def test_intervals_on_cuda_are_ordered(air_panel, intervals):
    model = Forecaster(
        horizon=6, lookback=24, device="cuda", intervals=intervals, seed=0, **TINY
    )
    out = model.fit(air_panel).predict(level=[80, 95])
    bands = out[["yhat-lo-95", "yhat-lo-80", "yhat", "yhat-hi-80", "yhat-hi-95"]]
    assert (np.diff(bands.to_numpy(), axis=1) >= 0).all()


def test_gaps_and_ensembles_train_on_cuda(gappy_panel):
    model = Forecaster(
        horizon=6,
        lookback=24,
        missing="mask",
        ensemble=2,
        device="cuda",
        seed=0,
        **TINY,
    )
    out = model.fit(gappy_panel).predict()
    assert np.isfinite(out["yhat"]).all()
    assert len(out) == 3 * 6


def test_backtest_on_cuda(air_panel):
    result = backtest(
        air_panel,
        ["lstm"],
        horizon=6,
        n_windows=2,
        neural_params={"lookback": 24, "device": "cuda", **TINY},
    )
    board = result.leaderboard
    if "model" in board.columns:
        board = board.set_index("model")
    assert np.isfinite(board.loc["lstm", "mase"])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"cell": "gru", "hidden": (8, 4), "loss": "mse", "dropout": 0.0},
        {"intervals": "quantile"},
        {"ensemble": 2, "validation": False},
    ],
    ids=["lstm-mae", "gru-2-layers-mse", "quantile-heads", "ensemble"],
)
def test_cuda_graphs_train_the_same_network_as_eager_steps(
    air_panel, monkeypatch, params
):
    captured = []
    original = training.captured_step

    def spy(*args, **kwargs):
        step, graphed = original(*args, **kwargs)
        captured.append(graphed)
        return step, graphed

    monkeypatch.setattr(training, "captured_step", spy)

    def fit(cuda_graphs: bool) -> Forecaster:
        settings = {**TINY, "batch_size": 50, **params}  # 50: a shorter last batch
        model = Forecaster(
            horizon=6, lookback=24, device="cuda", cuda_graphs=cuda_graphs, **settings
        )
        return model.fit(air_panel)

    graphed = fit(True)
    # one capture per member and training: the validated one, then the refit on
    # whole series (with validation), and the naive check's if it ran
    trainings = 1 + graphed.validation * graphed.refit_full
    scores = graphed.window_level_scores_
    trainings += scores is not None and "last" in scores
    expected = params.get("ensemble", 1) * trainings
    assert captured == [True] * expected
    assert graphed.n_train_windows_ % 50 != 0
    eager = fit(False)
    assert len(captured) == expected  # no capture without graphs
    pd.testing.assert_frame_equal(graphed.predict(), eager.predict())
    assert graphed.history_ == eager.history_
