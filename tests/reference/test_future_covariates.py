"""The direct head with future-known covariates: the reference equals torch."""

import numpy as np
import pytest
import torch
from test_reference import CELLS, _windows  # airline windows, horizon 4

from rnncast import ConfigError
from rnncast.models.networks import EnsembleNetwork, NetworkConfig, RecurrentNetwork
from rnncast.reference import (
    from_torch,
    grads_from_torch,
    mse_loss,
    network_backward,
    network_forward,
)

HORIZON = 4  # as _windows cuts its targets


def _future(batch, size, seed=0):
    """Covariates of the forecast steps: (batch, horizon, size)."""
    return np.random.default_rng(seed).normal(size=(batch, HORIZON, size))


def _network(cell, hidden=(5,), future_size=2, seed=0, **config):
    torch.manual_seed(seed)
    config = NetworkConfig(
        cell=cell, hidden=hidden, horizon=HORIZON, future_size=future_size, **config
    )
    return RecurrentNetwork(config).double().eval()


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("hidden", [(5,), (6, 3)], ids=["1-layer", "2-layers"])
@pytest.mark.parametrize(
    "head",
    [
        {"level": "last", "future_size": 1},
        {"level": "snaive", "season_length": 3, "future_size": 3},
        {"level": "none", "quantiles": (0.1, 0.5, 0.9), "future_size": 2},
    ],
    ids=["last-1", "snaive-3", "quantiles-2"],
)
def test_forward_with_future_covariates_equals_torch(air, cell, hidden, head):
    net = _network(cell, hidden, **head)
    x, _ = _windows(air)
    future = _future(len(x), head["future_size"])
    expected = net(torch.as_tensor(x), torch.as_tensor(future)).detach().numpy()
    got, _ = network_forward(from_torch(net), x, future)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dilations", [(), (1, 2)], ids=["plain", "dilated"])
def test_recursive_head_feeds_back_each_step_s_known_inputs_as_torch(
    air, cell, dilations
):
    x, _ = _windows(air)
    x = np.concatenate([x, _future(len(x), 2, seed=3)[:, :1].repeat(x.shape[1], 1)], 2)
    net = _network(
        cell,
        (5, 3),
        future_size=2,
        level="last",
        output="recursive",
        input_size=3,
        dilations=dilations,
    )
    future = _future(len(x), 2, seed=4)
    expected = net(torch.as_tensor(x), torch.as_tensor(future)).detach().numpy()
    got, _ = network_forward(from_torch(net), x, future)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    later = future.copy()
    later[:, 1:] += 1.0
    moved, _ = network_forward(from_torch(net), x, later)
    assert np.abs(moved[:, 0] - got[:, 0]).max() == 0  # step 1 reads f_{T+1} only
    assert np.abs(moved[:, 1:] - got[:, 1:]).min() > 0  # each step its own f


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_with_future_covariates_equal_torch_autograd(air, cell):
    net = _network(cell, (6, 3), future_size=2, seed=1, level="last")
    x, target = _windows(air)
    future = _future(len(x), 2)
    loss = torch.nn.functional.mse_loss(
        net(torch.as_tensor(x), torch.as_tensor(future)), torch.as_tensor(target)
    )
    loss.backward()
    torch_layers, torch_W_y, torch_b_y = grads_from_torch(net)

    ref = from_torch(net)
    y_hat, cache = network_forward(ref, x, future)
    value, d_yhat = mse_loss(y_hat, target)
    layers, dW_y, db_y = network_backward(ref, cache, d_yhat)

    assert value == pytest.approx(loss.item(), abs=1e-12)
    np.testing.assert_allclose(dW_y, torch_W_y, rtol=0, atol=1e-10)
    np.testing.assert_allclose(db_y, torch_b_y, rtol=0, atol=1e-10)
    for ours, theirs in zip(layers, torch_layers, strict=True):
        for name in ours.W:
            np.testing.assert_allclose(ours.W[name], theirs.W[name], atol=1e-10)


def test_the_head_reads_each_step_s_covariates_through_its_own_columns(air):
    net = _network("lstm", (5,), future_size=2, level="none")
    ref = from_torch(net)
    x, _ = _windows(air)
    future = _future(len(x), 2)
    base, _ = network_forward(ref, x, future)
    moved = future.copy()
    moved[:, 2, 1] += 1.5  # the second covariate of the third forecast step
    shifted, _ = network_forward(ref, x, moved)
    column = 5 + 2 * 2 + 1  # after h_T (5), steps 1-2 (2 each), then covariate 2
    np.testing.assert_allclose(
        shifted - base, np.broadcast_to(1.5 * ref.W_y[:, column], base.shape)
    )


def test_an_ensemble_passes_the_covariates_to_every_member(air):
    members = [_network("gru", (4,), future_size=1, seed=s) for s in (0, 1, 2)]
    lookbacks = [12, 8, 10]
    ensemble = EnsembleNetwork(members, lookbacks)
    x, _ = _windows(air)
    x, future = torch.as_tensor(x), torch.as_tensor(_future(len(x), 1))
    each = torch.stack(
        [m(x[:, -k:], future) for m, k in zip(members, lookbacks, strict=True)]
    )
    torch.testing.assert_close(ensemble(x, future), each.median(dim=0).values)


def test_covariates_must_come_as_the_network_reads_them(air):
    net = _network("lstm", future_size=2)
    x = torch.as_tensor(_windows(air)[0])
    with pytest.raises(ConfigError, match=r"of shape \(5, 4, 2\).*got None"):
        net(x)
    with pytest.raises(ConfigError, match=r"got \(5, 3, 2\)"):
        net(x, torch.zeros(5, 3, 2, dtype=torch.float64))
    plain = _network("lstm", future_size=0)
    with pytest.raises(ConfigError, match="reads no future-known covariates"):
        plain(x, torch.zeros(5, 4, 2, dtype=torch.float64))
    with pytest.raises(ConfigError, match="fewer than input_size"):
        NetworkConfig(horizon=HORIZON, future_size=2, output="recursive")
    with pytest.raises(ConfigError, match="at least 0"):
        NetworkConfig(horizon=HORIZON, future_size=-1)
