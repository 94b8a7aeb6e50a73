import numpy as np
import pytest
import torch

from rnncast.data.windows import training_starts, validation_starts
from rnncast.exceptions import ConfigError
from rnncast.models.networks import NetworkConfig, RecurrentNetwork
from rnncast.training import (
    TrainConfig,
    keep_tensor_lr,
    seed_everything,
    smape_loss,
    train,
)


def _setup(air, epochs=30, level="last", **config):
    y = air["y"].to_numpy()
    z = torch.as_tensor((y - y.mean()) / y.std(), dtype=torch.float32)
    offsets = np.array([0, len(y)])
    tr = torch.as_tensor(training_starts(offsets, 24, 6, holdout=6))
    va = torch.as_tensor(validation_starts(offsets, 24, 6))
    generator = seed_everything(0)
    net = RecurrentNetwork(NetworkConfig(hidden=(16,), horizon=6, level=level))
    cfg = TrainConfig(epochs=epochs, batch_size=32, **config)
    return net, z, tr, va, cfg, generator


def test_training_lowers_the_loss(air):
    net, z, tr, va, cfg, g = _setup(air, level="none")
    history = train(net, z, tr, va, lookback=24, horizon=6, config=cfg, generator=g)
    assert history[-1].train_loss < 0.5 * history[0].train_loss
    assert all(r.val_loss is not None for r in history)


def test_best_weights_are_restored(air):
    net, z, tr, va, cfg, g = _setup(air, epochs=15)
    snapshots = []

    def keep(record):
        snapshots.append({k: v.clone() for k, v in net.state_dict().items()})

    history = train(
        net, z, tr, va, lookback=24, horizon=6, config=cfg, generator=g, on_epoch=keep
    )
    best = int(np.argmin([r.val_loss for r in history]))
    for name, value in net.state_dict().items():
        torch.testing.assert_close(value, snapshots[best][name])


def test_early_stopping_stops_after_patience(air):
    net, z, tr, va, cfg, g = _setup(air, epochs=500, patience=3, learning_rate=0.05)
    history = train(net, z, tr, va, lookback=24, horizon=6, config=cfg, generator=g)
    assert len(history) < 500
    best = int(np.argmin([r.val_loss for r in history]))
    assert len(history) - 1 - best == 3


def test_gradient_norm_is_clipped(air, monkeypatch):
    norms = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm):
        params = list(params)
        total = original(params, max_norm)
        norms.append(torch.sqrt(sum((p.grad**2).sum() for p in params)).item())
        return total

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    net, z, tr, va, cfg, g = _setup(air, epochs=2, clip_norm=0.01)
    train(net, z, tr, va, lookback=24, horizon=6, config=cfg, generator=g)
    assert norms and max(norms) <= 0.01 * (1 + 1e-5)


def test_without_validation_the_training_loss_is_monitored(air):
    net, z, tr, _, cfg, g = _setup(air, epochs=3)
    history = train(
        net,
        z,
        tr,
        torch.empty(0, dtype=torch.int64),
        lookback=24,
        horizon=6,
        config=cfg,
        generator=g,
    )
    assert [r.val_loss for r in history] == [None, None, None]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "rmsle"}, "unknown loss"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"learning_rate": 0}, "learning_rate must be > 0"),
        ({"clip_norm": -1.0}, "clip_norm must be > 0 or None"),
    ],
    ids=["loss", "epochs", "lr", "clip"],
)
def test_bad_train_configs(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs)


def test_learning_rate_reductions_reach_the_tensor_captured_steps_read():
    # CUDA graphs read Adam's learning rate from a tensor; a reduction must change
    # that very tensor, whether the scheduler fills it (torch >= 2.4) or assigns
    # a float to the group (older torch).
    lr = torch.tensor(0.1)
    optimiser = torch.optim.Adam(torch.nn.Linear(2, 1).parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimiser, factor=0.5, patience=0
    )
    schedule.step(1.0)
    schedule.step(2.0)  # worse: reduced to 0.05
    keep_tensor_lr(optimiser, lr)
    assert optimiser.param_groups[0]["lr"] is lr
    assert lr.item() == pytest.approx(0.05)
    optimiser.param_groups[0]["lr"] = 0.025  # what older schedulers did
    keep_tensor_lr(optimiser, lr)
    assert optimiser.param_groups[0]["lr"] is lr
    assert lr.item() == pytest.approx(0.025)


@pytest.mark.parametrize(("max_steps", "epochs_run"), [(1, 1), (5, 2), (8, 2), (9, 3)])
def test_a_step_budget_stops_training_mid_epoch(
    air, monkeypatch, max_steps, epochs_run
):
    net, z, tr, va, cfg, g = _setup(air, epochs=10, max_steps=max_steps)
    assert -(-len(tr) // 32) == 4  # 4 steps an epoch: 109 windows, batches of 32
    steps = []
    original = torch.optim.Adam.step

    def count(self, *args, **kwargs):
        steps.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", count)
    history = train(net, z, tr, va, lookback=24, horizon=6, config=cfg, generator=g)
    assert len(steps) == max_steps
    assert len(history) == epochs_run  # a partial last epoch is scored too
    assert all(r.val_loss is not None for r in history)


def test_a_step_budget_must_be_positive():
    with pytest.raises(ConfigError, match="max_steps"):
        TrainConfig(max_steps=0)
    with pytest.raises(ConfigError, match="windows_per_epoch"):
        TrainConfig(windows_per_epoch=0)
    with pytest.raises(ConfigError, match="time_limit"):
        TrainConfig(time_limit=-1.0)


def _trained_windows(air, monkeypatch, **config):
    """The window starts of every step of a 3-epoch training, per epoch."""
    from rnncast import training

    net, z, tr, va, cfg, g = _setup(air, epochs=3, **config)
    batches = []
    original = training.gather

    def record(values, starts, *args, **kwargs):
        if torch.is_grad_enabled():  # training steps, not the validation passes
            batches.append(starts.clone())
        return original(values, starts, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(training, "gather", record)
        train(net, z, tr, va, lookback=24, horizon=6, config=cfg, generator=g)
    return tr, batches


def test_an_epoch_draws_windows_per_epoch_distinct_windows(air, monkeypatch):
    tr, batches = _trained_windows(air, monkeypatch, windows_per_epoch=50)
    assert [len(b) for b in batches] == [32, 18] * 3  # 50 windows an epoch
    epochs = [torch.cat(batches[i : i + 2]) for i in (0, 2, 4)]
    for drawn in epochs:
        assert len(set(drawn.tolist())) == 50  # without replacement
        assert set(drawn.tolist()) <= set(tr.tolist())
    assert set(epochs[0].tolist()) != set(epochs[1].tolist())  # a new draw each


def test_more_windows_per_epoch_than_there_are_is_every_window(air, monkeypatch):
    tr, every = _trained_windows(air, monkeypatch)
    _, capped = _trained_windows(air, monkeypatch, windows_per_epoch=len(tr) + 1)
    assert len(every) == len(capped) == 12
    for a, b in zip(every, capped, strict=True):
        assert torch.equal(a, b)  # the same order: the same training


def test_a_time_limit_stops_training_after_its_first_step(air, monkeypatch):
    _, batches = _trained_windows(air, monkeypatch, time_limit=0.0)
    assert len(batches) == 1  # one step always, then the limit holds


def test_smape_loss_is_the_competition_formula_without_its_100():
    y = torch.tensor([[10.0, 0.0, 4.0]])
    yhat = torch.tensor([[8.0, 0.0, 5.0]])
    expected = (2 * 2 / 18 + 0.0 + 2 * 1 / 9) / 3  # the 0/0 term counts 0
    assert smape_loss(yhat, y).item() == pytest.approx(expected)


def test_smape_training_scores_windows_in_the_data_units(air, monkeypatch):
    # With loss="smape" the loss sees z * scale + loc of each window's series.
    from rnncast import Forecaster
    from rnncast import training as training_module

    seen = []
    original = training_module.smape_loss

    def spy(forecasts, targets):
        seen.append(targets.detach().clone())
        return original(forecasts, targets)

    monkeypatch.setattr(training_module, "smape_loss", spy)
    model = Forecaster(horizon=4, lookback=24, loss="smape", hidden=(8,), epochs=2)
    model.fit(air)
    targets = torch.cat([t.reshape(-1) for t in seen])
    assert targets.min() >= air["y"].min() - 1e-3  # passengers, not scaled values
    assert targets.max() <= air["y"].max() + 1e-3 and targets.max() > 400
    assert np.isfinite(model.predict()["yhat"]).all()
