"""Proof that the NumPy reference is the math the torch networks compute."""

import numpy as np
import pytest
import torch

from conftest import TINY
from rnncast import ConfigError, Forecaster
from rnncast.data.windows import masked_inputs
from rnncast.models.networks import NetworkConfig, RecurrentNetwork
from rnncast.reference import (
    clip_grad_norm,
    from_torch,
    grads_from_torch,
    mse_loss,
    network_backward,
    network_forward,
    to_torch,
)

CELLS = ["lstm", "gru", "rnn", "slstm", "mlstm"]
# central differences of the xLSTM cells need a rounding allowance (their own test)
CLASSIC_CELLS = ["lstm", "gru", "rnn"]
STACKS = [(5,), (6, 4, 3)]


def _windows(air, lookback=12, horizon=4, batch=5):
    """Real windows: standardised airline passengers, inputs and targets."""
    y = air["y"].to_numpy()
    z = (y - y.mean()) / y.std()
    starts = np.linspace(0, len(z) - lookback - horizon, batch).astype(int)
    x = np.stack([z[s : s + lookback] for s in starts])[:, :, None]
    target = np.stack([z[s + lookback : s + lookback + horizon] for s in starts])
    return x, target


def _network(cell, hidden, seed=0, **config):
    torch.manual_seed(seed)
    return (
        RecurrentNetwork(NetworkConfig(cell=cell, hidden=hidden, horizon=4, **config))
        .double()
        .eval()
    )


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("hidden", STACKS, ids=["1-layer", "3-layers"])
@pytest.mark.parametrize(
    "head",
    [
        {"level": "none"},
        {"level": "last"},
        {"level": "season", "season_length": 5},
        {"level": "snaive", "season_length": 3},
        {"level": "adaptive", "season_length": 12},
        {"output": "recursive"},
    ],
    ids=["none", "last", "season", "snaive", "adaptive", "recursive"],
)
def test_forward_equals_torch_in_float64(air, cell, hidden, head):
    net = _network(cell, hidden, **head)
    x, _ = _windows(air)
    expected = net(torch.as_tensor(x)).detach().numpy()
    got, _ = network_forward(from_torch(net), x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_detect_level_forward_equals_torch_in_float64(air, cell):
    # level="detect" reads each window's seasonal flag from its last channel.
    net = _network(cell, (5,), level="detect", season_length=4, input_size=2)
    x, _ = _windows(air)
    flags = (np.arange(len(x)) % 2).astype(float)  # every other window seasonal
    x = np.concatenate([x, np.broadcast_to(flags[:, None, None], x.shape)], axis=2)
    expected = net(torch.as_tensor(x)).detach().numpy()
    got, _ = network_forward(from_torch(net), x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_multiplicative_detect_forward_equals_torch_in_float64(air, cell):
    # The channel before the flag is the series' scaled zero c: the windows above
    # it start from multiplicative patterns, the others from additive ones.
    net = _network(
        cell,
        (5,),
        level="detect",
        season_length=4,
        input_size=2,
        multiplicative=True,
    )
    x, _ = _windows(air)
    n = len(x)
    flags = (np.arange(n) % 2).astype(float)  # every other window seasonal
    # c below every value of some windows, inside the range of the others
    zero = np.where(np.arange(n) % 3 == 0, x[:, :, 0].mean(axis=1), x.min() - 1.0)
    extra = [np.broadcast_to(v[:, None, None], x.shape) for v in (zero, flags)]
    x = np.concatenate([x, *extra], axis=2)
    positive = (x[:, :, 0] > zero[:, None]).all(axis=1)
    assert positive.any() and (~positive).any()
    expected = net(torch.as_tensor(x)).detach().numpy()
    got, _ = network_forward(from_torch(net), x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    additive = _network(cell, (5,), level="detect", season_length=4, input_size=2)
    additive.load_state_dict(net.state_dict())
    plain = additive(torch.as_tensor(x[:, :, [0, 2]])).detach().numpy()
    # the patterns differ only where a flagged window lies above its zero
    differs = ~np.isclose(plain, expected, rtol=0, atol=1e-9).all(axis=1)
    np.testing.assert_array_equal(differs, positive & (flags > 0.5))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(
    ("hidden", "dilations", "groups"),
    [
        ((5,), (), ()),
        ((6, 4, 3), (), ()),
        ((6, 4, 3), (1, 2, 5), ()),
        ((6, 4, 6), (1, 2, 5), (1, 2)),
    ],
    ids=["1-layer", "3-layers", "3-layers-dilated", "residual-groups"],
)
def test_bptt_gradients_equal_torch_autograd(air, cell, hidden, dilations, groups):
    net = _network(cell, hidden, seed=1, dilations=dilations, residual_groups=groups)
    x, target = _windows(air, lookback=13)  # no multiple of the dilations
    loss = torch.nn.functional.mse_loss(
        net(torch.as_tensor(x)), torch.as_tensor(target)
    )
    loss.backward()
    torch_layers, torch_W_y, torch_b_y = grads_from_torch(net)

    ref = from_torch(net)
    y_hat, cache = network_forward(ref, x)
    value, d_yhat = mse_loss(y_hat, target)
    layers, dW_y, db_y = network_backward(ref, cache, d_yhat)

    assert value == pytest.approx(loss.item(), abs=1e-12)
    np.testing.assert_allclose(dW_y, torch_W_y, rtol=0, atol=1e-10)
    np.testing.assert_allclose(db_y, torch_b_y, rtol=0, atol=1e-10)
    _assert_same_layer_grads(layers, torch_layers)


def _loss(ref, x, target):
    return mse_loss(network_forward(ref, x)[0], target)[0]


def _reference_gradients(net, x, target):
    """The reference of ``net``, its layers' (parameter, BPTT gradient) pairs, dW_y."""
    ref = from_torch(net)
    y_hat, cache = network_forward(ref, x)
    layers, dW_y, _ = network_backward(ref, cache, mse_loss(y_hat, target)[1])
    pairs = [
        (p.W[k], g.W[k]) for p, g in zip(ref.layers, layers, strict=True) for k in p.W
    ]
    pairs += [
        (p.b[k], g.b[k]) for p, g in zip(ref.layers, layers, strict=True) for k in p.b
    ]
    return ref, pairs, dW_y


def _assert_finite_differences(ref, x, target, arrays, eps, rounding=0.0):
    """Each (parameter, gradient) pair's every entry against central differences.

    Relative error under 1e-6, beyond ``rounding``: the absolute error of a
    central difference from rounding alone, about 1e-16 * loss / eps.
    """
    checked = 0
    for param, grad in arrays:
        for index in np.ndindex(param.shape):
            original = param[index]
            param[index] = original + eps
            up = _loss(ref, x, target)
            param[index] = original - eps
            down = _loss(ref, x, target)
            param[index] = original
            numeric = (up - down) / (2 * eps)
            scale = max(abs(numeric) + abs(grad[index]), 1e-7)
            assert abs(numeric - grad[index]) - rounding < 1e-6 * scale, (
                index,
                numeric,
                grad[index],
            )
            checked += 1
    return checked


def _assert_same_layer_grads(layers, torch_layers):
    for ours, theirs in zip(layers, torch_layers, strict=True):
        for name in ours.W:
            np.testing.assert_allclose(ours.W[name], theirs.W[name], rtol=0, atol=1e-10)
        for name in ours.b:
            np.testing.assert_allclose(ours.b[name], theirs.b[name], rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell", CLASSIC_CELLS)
def test_bptt_gradients_equal_central_finite_differences(air, cell):
    net = _network(cell, (3, 2), seed=2, level="last")
    x, target = _windows(air, lookback=6, horizon=4, batch=3)
    ref, arrays, dW_y = _reference_gradients(net, x, target)
    # Central differences err by ~eps^2 (truncation) plus ~1e-16 * loss / eps
    # (rounding); the sum is smallest near eps = 1e-5 for losses of order 1.
    eps = 1e-5
    arrays.append((ref.W_y, dW_y))
    checked = _assert_finite_differences(ref, x, target, arrays, eps)
    assert checked >= 35  # every weight and bias of the smallest (RNN) network


@pytest.mark.parametrize("cell", CELLS)
def test_torch_to_reference_to_torch_is_the_same_function(air, cell):
    net = _network(cell, (4, 3), seed=3)
    back = to_torch(from_torch(net), dtype=torch.float64)
    x = torch.as_tensor(_windows(air)[0])
    torch.testing.assert_close(back(x), net(x), rtol=0, atol=1e-12)


def test_clipping_equals_torch_clip_grad_norm(air):
    net = _network("lstm", (8, 4), seed=4)
    x, target = _windows(air)
    loss = torch.nn.functional.mse_loss(
        net(torch.as_tensor(x)), torch.as_tensor(target)
    )
    (loss * 1000).backward()  # large gradients, so clipping acts
    grads = [p.grad.detach().numpy().copy() for p in net.parameters()]
    ours = clip_grad_norm(grads, max_norm=0.5)
    theirs = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.5)
    assert ours == pytest.approx(theirs.item(), rel=1e-12)
    assert ours > 0.5
    for g, p in zip(grads, net.parameters(), strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12, atol=0)
    assert np.sqrt(sum((g**2).sum() for g in grads)) == pytest.approx(0.5, rel=1e-5)


def test_clipping_leaves_small_gradients_alone():
    grads = [np.array([0.3, 0.4])]
    assert clip_grad_norm(grads, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads[0], [0.3, 0.4])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("output", ["direct", "recursive"])
@pytest.mark.parametrize("log", [False, True], ids=["raw", "log"])
def test_trained_forecaster_is_reproduced_by_the_reference(
    air_panel, cell, output, log
):
    settings = {"transform": "log", "window_level": "season"} if log else {}
    model = Forecaster(
        horizon=6,
        cell=cell,
        output=output,
        combine="none",
        ensemble=1,
        **{**TINY, "hidden": (8, 4), **settings},
    ).fit(air_panel)
    stats = model.scaler_
    g = np.log(model.context_) if log else model.context_
    scaled = (g - stats.loc[:, None]) / stats.scale[:, None]
    x = scaled[:, :, None]
    if stats.seasonal is not None:  # level "detect": the flags are the last channel
        assert model.network_.config.level == "detect"
        flags = np.broadcast_to(stats.seasonal[:, None, None], x.shape)
        # after each series' scaled zero, for its multiplicative patterns
        assert model.network_.config.multiplicative
        zero = np.broadcast_to((-stats.loc / stats.scale)[:, None, None], x.shape)
        x = np.concatenate([x, zero, flags], axis=2)
    z, _ = network_forward(from_torch(model.network_), x)
    reference = z * stats.scale[:, None] + stats.loc[:, None]
    reference = np.exp(reference) if log else reference
    forecast = model.predict()["yhat"].to_numpy().reshape(len(model.ids_), 6)
    np.testing.assert_allclose(reference, forecast, rtol=1e-5, atol=0)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("output", ["direct", "recursive"])
def test_masked_inputs_forward_equals_torch(air, cell, output):
    net = _network(cell, (5, 3), input_size=2, output=output)
    x, _ = _windows(air)
    gappy = x[:, :, 0].copy()
    gappy[:, [0, 5, 11]] = np.nan  # gaps at the start, inside and at the last step
    inputs = masked_inputs(torch.as_tensor(gappy))  # (batch, lookback, 2)
    expected = net(inputs).detach().numpy()
    got, _ = network_forward(from_torch(net), inputs.numpy())
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


# (hidden, dilations, residual groups): one dilated layer, a dilated stack, and
# residual groups with (4-6 -> 6) and without (1 | 1) dilations
DILATED = [
    ((5,), (3,), ()),
    ((6, 4, 3), (1, 2, 5), ()),
    ((6, 4, 6), (1, 2, 5), (1, 2)),
    ((5, 5), (1, 1), (1, 1)),
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(
    ("hidden", "dilations", "groups"),
    DILATED,
    ids=["1-layer-d3", "3-layers-d125", "residual-d125", "residual-d11"],
)
@pytest.mark.parametrize(
    "head",
    [
        {"level": "last"},
        {"level": "snaive", "season_length": 3},
        {"output": "recursive"},
    ],
    ids=["last", "snaive", "recursive"],
)
def test_dilated_forward_equals_torch_in_float64(
    air, cell, hidden, dilations, groups, head
):
    net = _network(cell, hidden, dilations=dilations, residual_groups=groups, **head)
    x, _ = _windows(air, lookback=13)  # not a multiple of any dilation
    expected = net(torch.as_tensor(x)).detach().numpy()
    got, _ = network_forward(from_torch(net), x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_a_dilated_layer_reads_the_state_d_steps_back(air, cell):
    net = _network(cell, (4,), dilations=(3,), level="none")
    x, _ = _windows(air, lookback=12)
    ref = from_torch(net)
    _, cache = network_forward(ref, x)
    changed = x.copy()
    changed[:, 4] += 1.0  # moves the chain of steps 1, 4, 7, 10 only
    _, moved = network_forward(ref, changed)
    differs = ~np.isclose(moved.hidden[0], cache.hidden[0], rtol=0, atol=0).all(
        axis=(0, 2)
    )
    np.testing.assert_array_equal(np.flatnonzero(differs), [4, 7, 10])


@pytest.mark.parametrize("cell", CLASSIC_CELLS)
def test_dilated_bptt_gradients_equal_central_finite_differences(air, cell):
    net = _network(cell, (3, 2), seed=2, level="last", dilations=(2, 3))
    x, target = _windows(air, lookback=7, horizon=4, batch=3)
    ref, arrays, _ = _reference_gradients(net, x, target)
    checked = _assert_finite_differences(ref, x, target, arrays, eps=1e-5)
    assert checked >= 27  # every weight and bias of the smallest (RNN) network


@pytest.mark.parametrize("cell", CLASSIC_CELLS)
def test_residual_bptt_gradients_equal_central_finite_differences(air, cell):
    net = _network(
        cell, (3, 3), seed=2, level="last", dilations=(2, 3), residual_groups=(1, 1)
    )
    x, target = _windows(air, lookback=7, horizon=4, batch=3)
    ref, arrays, _ = _reference_gradients(net, x, target)
    checked = _assert_finite_differences(ref, x, target, arrays, eps=1e-5)
    assert checked >= 36  # every weight and bias of the (RNN) network


def test_a_residual_group_adds_its_input_to_its_output(air):
    net = _network("lstm", (4, 3, 4), level="none", residual_groups=(1, 2))
    x, _ = _windows(air)
    _, cache = network_forward(from_torch(net), x)
    np.testing.assert_array_equal(cache.top, cache.hidden[2] + cache.hidden[0])
    plain = _network("lstm", (4, 3, 4), level="none")  # the same weights
    _, plain_cache = network_forward(from_torch(plain), x)
    np.testing.assert_array_equal(plain_cache.top, plain_cache.hidden[2])


def test_dilations_must_fit_the_layers():
    with pytest.raises(ConfigError, match="dilations"):
        NetworkConfig(hidden=(8, 8), dilations=(1,))
    with pytest.raises(ConfigError, match="dilations"):
        NetworkConfig(hidden=(8,), dilations=(0,))
    with pytest.raises(ConfigError, match="split the 3 layers"):
        NetworkConfig(hidden=(8, 8, 8), residual_groups=(1, 1))
    with pytest.raises(ConfigError, match=r"layer 2 must end as wide.*\(8\)"):
        NetworkConfig(hidden=(8, 4), residual_groups=(1, 1))


# weights and biases of layers 3 and 2 wide on 1 input: the sLSTM's four gates read
# [h, x]; the mLSTM's q, k, v, o (and scalar i, f) read x only
XLSTM_PARAMETERS = {
    "slstm": 4 * (3 * (3 + 1) + 3 + 2 * (2 + 3) + 2),
    "mlstm": (4 * 3 + 2) * (1 + 1) + (4 * 2 + 2) * (3 + 1),
}


@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_xlstm_bptt_gradients_equal_central_finite_differences(air, cell):
    net = _network(cell, (3, 2), seed=2, level="last")
    x, target = _windows(air, lookback=6, horizon=4, batch=3)
    ref, arrays, _ = _reference_gradients(net, x, target)
    # some of their gradients are ~1e-6, where the differences' rounding error
    # (~1e-16 * loss / eps = 1e-11 here) exceeds 1e-6 relative: allow that much
    checked = _assert_finite_differences(
        ref, x, target, arrays, eps=1e-5, rounding=1e-10
    )
    assert checked == XLSTM_PARAMETERS[cell]  # every weight and bias


@pytest.mark.parametrize(
    ("cell", "input_rows", "forget_rows"),
    [("slstm", slice(4, 8), slice(8, 12)), ("mlstm", slice(16, 17), slice(17, 18))],
)
def test_the_xlstm_stabiliser_keeps_long_inputs_finite(cell, input_rows, forget_rows):
    # input-gate pre-activations near 50 at every step: e^(50 * 5000) overflows
    # any float, the stabilised states do not
    net = _network(cell, (4,), level="none")
    with torch.no_grad():
        net.layers[0].bias_ih_l0[input_rows] = 50.0  # the input gate i
        net.layers[0].bias_ih_l0[forget_rows] = 30.0  # the forget gate: f close to 1
    x = np.random.default_rng(0).normal(size=(2, 5000, 1))
    out, state = net.layers[0](torch.as_tensor(x))
    assert torch.isfinite(out).all() and all(torch.isfinite(s).all() for s in state)
    if cell == "slstm":  # c / n is a weighted mean of tanh values: |h| <= 1
        assert (out.abs() <= 1).all()
    got, _ = network_forward(from_torch(net), x[:, :300])
    expected = net(torch.as_tensor(x[:, :300])).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
