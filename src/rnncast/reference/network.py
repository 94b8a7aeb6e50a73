"""The reference network: stacked layers, the window level, heads, torch mapping.

See :mod:`rnncast.reference` for the notation and the mapping to torch's layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from rnncast.exceptions import ConfigError
from rnncast.models.networks import NetworkConfig, RecurrentNetwork
from rnncast.reference.cells import (
    TORCH_ORDER,
    LayerCache,
    LayerParams,
    layer_backward,
    layer_forward,
)

__all__ = [
    "NetworkCache",
    "ReferenceNetwork",
    "centre",
    "clip_grad_norm",
    "from_torch",
    "grads_from_torch",
    "mse_loss",
    "network_backward",
    "network_forward",
    "stack_forward",
    "to_torch",
]

Array = NDArray[np.float64]


@dataclass
class ReferenceNetwork:
    """A :class:`~rnncast.models.networks.RecurrentNetwork` as plain arrays."""

    config: NetworkConfig
    layers: list[LayerParams]
    W_y: Array  # (out, H_last): the linear head
    b_y: Array  # (out,)


# ------------------------------------------------------------------ network
@dataclass
class NetworkCache:
    """Forward-pass record of :func:`network_forward` (direct head)."""

    layers: list[LayerCache]
    hidden: list[Array]  # output sequence of every layer, (batch, T, H_k)
    top: Array  # the sequence the head reads: the last group's output (+ input)
    head_input: Array  # what the direct head reads: h_T, then the future covariates


def network_forward(
    net: ReferenceNetwork, x: Array, future: Array | None = None
) -> tuple[Array, NetworkCache]:
    r"""Forecast ``horizon`` steps from ``x`` (batch, lookback, inputs) like torch.

    With ``level="last"`` (``"season"``) the layers read :math:`x_t - l` and the
    forecast is :math:`l + \hat y`, with :math:`l` the last value (the mean of the
    last ``season_length`` values) of the target channel; ``"snaive"`` centres
    like ``"season"`` but adds :math:`\hat y` to the window's seasonal-naive
    forecast. See :func:`centre`.
    The direct head is :math:`\hat y = W_y h_T + b_y`, or with ``future``
    (batch, horizon, future_size) covariates known for the forecast steps
    :math:`\hat y = W_y [h_T, f_{T+1}, \dots, f_{T+H}] + b_y`; the recursive
    head applies a one-step head and feeds each forecast back as the next
    input, carrying every layer's state; with ``future`` its step :math:`T+k`
    is :math:`w_y [h_{T+k-1}, f_{T+k}] + b_y` and the input fed back for it
    ends with :math:`f_{T+k}`.
    """
    cfg = net.config
    centred, offset = centre(
        x, cfg.level, cfg.season_length, cfg.horizon, multiplicative=cfg.multiplicative
    )
    top, caches, hidden = stack_forward(net, centred)
    recursive = cfg.output == "recursive"
    head_input = top[:, -1]
    if future is not None:  # the direct head: every step's; recursive: step 1's
        read = future[:, :1] if recursive else future
        head_input = np.concatenate([head_input, read.reshape(len(x), -1)], axis=1)
    step = head_input @ net.W_y.T + net.b_y  # (batch, horizon) or (batch, 1)
    if recursive:
        states = [c.states for c in caches]
        steps, inputs = [step], centred
        size = 0 if future is None else future.shape[2]
        for k in range(1, cfg.horizon):
            ones = np.ones((len(step), x.shape[2] - 1 - size))  # counts as observed
            known = [] if future is None else [future[:, k - 1]]  # the fed-back step's
            seq = np.concatenate([step, ones, *known], axis=1)[:, None, :]
            inputs = np.concatenate([inputs, seq], axis=1)
            if cfg.dilated:  # the step reads states d back: the whole window again
                seq, _, _ = stack_forward(net, inputs)
            else:
                seq, step_caches, _ = stack_forward(net, seq, states)
                states = [c.states for c in step_caches]
            read = [] if future is None else [future[:, k]]  # the next step's
            step = np.concatenate([seq[:, -1], *read], axis=1) @ net.W_y.T + net.b_y
            steps.append(step)
        step = np.concatenate(steps, axis=1)
    cache = NetworkCache(caches, hidden, top, head_input)
    if cfg.quantiles:  # (batch, horizon, n_quantiles), each from the same start
        return offset[:, :, None] + step.reshape(len(x), cfg.horizon, -1), cache
    return offset + step, cache


def stack_forward(
    net: ReferenceNetwork, x: Array, states: list[Any] | None = None
) -> tuple[Array, list[LayerCache], list[Array]]:
    r"""Run the stacked layers over ``x`` from ``states`` (zeros if None).

    Layer ``k`` reads layer ``k - 1``'s output sequence; with residual groups
    every group after the first adds its input to its output,
    :math:`h^{(g)} = F_g(h^{(g-1)}) + h^{(g-1)}`. Returns the top sequence,
    every layer's cache (its ``states`` the last step's) and output sequence.
    """
    caches: list[LayerCache] = []
    hidden: list[Array] = []
    seq = x
    for first, stop in net.config.layer_groups:
        group_input = seq
        for k in range(first, stop):
            seq, cache = layer_forward(
                net.layers[k], seq, None if states is None else states[k]
            )
            caches.append(cache)
            hidden.append(seq)
        if first > 0:
            seq = seq + group_input
    return seq, caches, hidden


def centre(
    x: Array,
    level: str,
    season_length: int = 1,
    horizon: int = 1,
    *,
    multiplicative: bool = False,
) -> tuple[Array, Array]:
    r"""Subtract each window's level from its target channel (channel 0).

    The level is the last value (``"last"``), the mean of the last
    ``season_length`` values (``"season"``, ``"snaive"``, ``"adaptive"``,
    ``"detect"``) or 0
    (``"none"``); other channels pass unchanged. Returns the centred windows and
    the offset (batch, horizon) that the network's output is added to: the level,
    or for ``"snaive"`` the seasonal-naive forecast
    :math:`x_{T+k-m\lceil k/m \rceil}`; ``"adaptive"`` takes the seasonal naive
    in the windows where it fits the window better than the previous season's
    mean (:func:`_seasonal`), the level elsewhere; ``"detect"`` takes for the
    windows whose last channel (the series' seasonal flag) is 1 the level plus
    the window's mean seasonal deviations over its whole seasons. With
    ``multiplicative`` the channel before the flag is the series' scaled zero
    :math:`c`, dropped from the centred windows; a flagged window whose values
    all exceed :math:`c` starts from :math:`c + (l - c)\,r_j` instead, with
    :math:`r_j` its mean seasonal ratios (value over its season's mean, both
    measured from :math:`c`).
    """
    zero = None
    if multiplicative:
        zero = x[:, -1:, -2]  # (batch, 1)
        x = np.concatenate([x[:, :, :-2], x[:, :, -1:]], axis=2)
    if level == "none":
        return x, np.zeros((len(x), horizon))
    steps = 1 if level == "last" else season_length
    levels = x[:, -steps:, 0].mean(axis=1)
    centred = x.copy()
    centred[:, :, 0] -= levels[:, None]
    return centred, _STARTS[level](x, levels, season_length, horizon, zero)


def _flat_start(
    x: Array, levels: Array, m: int, horizon: int, zero: Array | None
) -> Array:
    """Return the level itself at every step (``"last"``, ``"season"``)."""
    return np.repeat(levels[:, None], horizon, axis=1)


def _snaive_start(
    x: Array, levels: Array, m: int, horizon: int, zero: Array | None
) -> Array:
    """Return the window's last season, repeated (``"snaive"``)."""
    return np.tile(x[:, -m:, 0], -(-horizon // m))[:, :horizon]


def _adaptive_start(
    x: Array, levels: Array, m: int, horizon: int, zero: Array | None
) -> Array:
    """Return the seasonal naive in windows it describes better, else flat."""
    snaive = _snaive_start(x, levels, m, horizon, zero)
    flat = _flat_start(x, levels, m, horizon, zero)
    return np.where(_seasonal(x[:, :, 0], m), snaive, flat)


def _detect_start(
    x: Array, levels: Array, m: int, horizon: int, zero: Array | None
) -> Array:
    """Return the mean seasonal pattern (or ratios) for flagged series, else flat."""
    whole = (x.shape[1] // m) * m
    seasons = x[:, x.shape[1] - whole :, 0].reshape(len(x), -1, m)
    profile = (seasons - seasons.mean(axis=2, keepdims=True)).mean(axis=1)
    pattern = levels[:, None] + profile
    if zero is not None:
        above = seasons - zero[:, :, None]  # (batch, K, m), from the data's 0
        positive = (x[:, :, 0] > zero).all(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):  # not positive
            ratios = (above / above.mean(axis=2, keepdims=True)).mean(axis=1)
        scaled = zero + (levels[:, None] - zero) * ratios
        pattern[positive] = scaled[positive]
    start = np.tile(pattern, -(-horizon // m))[:, :horizon]
    flat = _flat_start(x, levels, m, horizon, zero)
    return np.where(x[:, -1:, -1] > 0.5, start, flat)


# The starts of rnncast.models.window_levels, one function per window level.
_STARTS = {
    "last": _flat_start,
    "season": _flat_start,
    "snaive": _snaive_start,
    "adaptive": _adaptive_start,
    "detect": _detect_start,
}


def _seasonal(y: Array, m: int) -> Array:
    """Windows (batch, 1) where the seasonal naive beats the previous season's mean.

    Errors over ``t = m .. L-1`` of each window: ``|y_t - y_{t-m}|`` against
    ``|y_t - mean(y_{t-m} .. y_{t-1})|``; all windows when ``L <= m``.
    """
    if y.shape[1] <= m:
        return np.ones((len(y), 1), dtype=bool)
    previous = np.stack([y[:, t - m : t].mean(axis=1) for t in range(m, y.shape[1])], 1)
    seasonal_error = np.abs(y[:, m:] - y[:, :-m]).mean(axis=1)
    level_error = np.abs(y[:, m:] - previous).mean(axis=1)
    return (seasonal_error < level_error)[:, None]


def network_backward(
    net: ReferenceNetwork, cache: NetworkCache, d_yhat: Array
) -> tuple[list[LayerParams], Array, Array]:
    r"""Gradients of every parameter from the gradient of the forecast (direct head).

    :math:`\delta W_y = \delta\hat y^\top h_T` (:math:`[h_T, f]` with future
    covariates), :math:`\delta b_y = \sum \delta \hat y`,
    :math:`\delta h_T = \delta \hat y\, W_y` (the columns that read
    :math:`h_T`); then :func:`layer_backward` from the top
    layer down, each layer's ``dx`` being the ``dh_out`` of the layer below; a
    residual group's input also receives its output's gradient unchanged.

    Returns
    -------
    (layer grads, dW_y, db_y)
    """
    if net.config.output != "direct":
        raise ConfigError("the reference backward pass covers the direct head only.")
    top = cache.top
    dW_y = d_yhat.T @ cache.head_input
    db_y = d_yhat.sum(axis=0)
    dh_out = np.zeros_like(top)
    dh_out[:, -1] = d_yhat @ net.W_y[:, : top.shape[2]]  # future columns: no layer
    layer_grads: list[LayerParams] = [net.layers[0]] * len(net.layers)
    for first, stop in reversed(net.config.layer_groups):
        d_group_output = dh_out
        for k in reversed(range(first, stop)):
            layer_grads[k], dh_out, _ = layer_backward(
                net.layers[k], cache.layers[k], dh_out
            )
        if first > 0:  # the residual path carries the output's gradient past
            dh_out = dh_out + d_group_output
    return layer_grads, dW_y, db_y


def mse_loss(y_hat: Array, y: Array) -> tuple[float, Array]:
    r"""Mean squared error and its gradient: :math:`L = \frac1N\sum(\hat y - y)^2`,
    :math:`\partial L / \partial \hat y = \frac2N(\hat y - y)`.
    """  # noqa: D205
    diff = y_hat - y
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


def clip_grad_norm(grads: list[Array], max_norm: float, eps: float = 1e-6) -> float:
    r"""Scale gradients in place so their global L2 norm is at most ``max_norm``.

    :math:`\|g\| = \sqrt{\sum_j \|g_j\|_2^2}` over all arrays; if
    :math:`\|g\| > \text{max\_norm}` every array is multiplied by
    :math:`c = \text{max\_norm} / (\|g\| + \epsilon)`, exactly as
    ``torch.nn.utils.clip_grad_norm_`` does (which clamps :math:`c` to at most 1).
    Rescaling keeps the gradient's direction while bounding the step, the usual
    remedy for exploding gradients in BPTT (Pascanu et al., 2013).

    Returns the norm before clipping.
    """
    total = float(np.sqrt(sum(float(np.sum(g**2)) for g in grads)))
    coefficient = min(max_norm / (total + eps), 1.0)
    for g in grads:
        g *= coefficient
    return total


# --------------------------------------------------------------- conversion
def from_torch(network: RecurrentNetwork) -> ReferenceNetwork:
    """Copy a torch network's weights into the reference (float64)."""
    if not isinstance(network, RecurrentNetwork):
        raise ConfigError(
            "the NumPy reference (and explain) covers one network, not an ensemble; "
            "fit with ensemble=1 to explain a model."
        )
    layers = [_layer_from_torch(network.config.cell, m) for m in network.layers]
    for layer, dilation in zip(layers, network.config.layer_dilations, strict=True):
        layer.dilation = dilation
    return ReferenceNetwork(
        config=network.config,
        layers=layers,
        W_y=_np(network.head.weight),
        b_y=_np(network.head.bias),
    )


def _layer_from_torch(
    cell: str, module: torch.nn.RNNBase, *, gradients: bool = False
) -> LayerParams:
    """Rearrange one torch layer's weights (or their ``.grad``) as in the module notes.

    For weights, ``b_k = bias_ih[k] + bias_hh[k]``. For gradients, ``b_k`` takes the
    gradient of ``bias_ih`` alone: both biases enter additively, so their gradients
    are equal, and each is the gradient of their sum.
    """
    if cell == "mlstm":
        return _mlstm_from_torch(module, gradients)
    tensors = [
        module.weight_ih_l0,
        module.weight_hh_l0,
        module.bias_ih_l0,
        module.bias_hh_l0,
    ]
    W_ih, W_hh, b_ih, b_hh = (_np(t.grad if gradients else t) for t in tensors)
    H = module.hidden_size
    W, b = {}, {}
    for k, gate in enumerate(TORCH_ORDER[cell]):
        rows = slice(k * H, (k + 1) * H)
        W[gate] = np.concatenate([W_hh[rows], W_ih[rows]], axis=1)  # (H, H + D)
        separate = gradients or (cell, gate) == ("gru", "n")
        b[gate] = b_ih[rows] if separate else b_ih[rows] + b_hh[rows]
    if cell == "gru":
        b["nh"] = b_hh[2 * H : 3 * H]
    return LayerParams(cell, W, b)


def _mlstm_from_torch(module: torch.nn.Module, gradients: bool) -> LayerParams:
    """Split the mLSTM's rows ``q, k, v, o`` (H each), ``i``, ``f`` into gates."""
    W_ih, b_ih = (
        _np(t.grad if gradients else t)
        for t in (module.weight_ih_l0, module.bias_ih_l0)
    )
    H = module.hidden_size
    sizes = dict(zip(TORCH_ORDER["mlstm"], (H, H, H, H, 1, 1), strict=True))
    W, b, start = {}, {}, 0
    for gate, size in sizes.items():
        W[gate], b[gate] = W_ih[start : start + size], b_ih[start : start + size]
        start += size
    return LayerParams("mlstm", W, b)


def grads_from_torch(
    network: RecurrentNetwork,
) -> tuple[list[LayerParams], Array, Array]:
    """Torch's ``.grad`` of every parameter, arranged as the reference's gradients.

    ``b_k`` receives the gradient of ``bias_ih`` (equal to that of ``bias_hh``, as
    both enter additively), except ``b_nh`` of the GRU, which receives ``bias_hh``'s.
    """
    cell = network.config.cell
    layers = [_layer_from_torch(cell, m, gradients=True) for m in network.layers]
    return layers, _np(network.head.weight.grad), _np(network.head.bias.grad)


def to_torch(
    net: ReferenceNetwork, dtype: torch.dtype = torch.float32
) -> RecurrentNetwork:
    """Build a torch network that computes the same function as ``net``."""
    dilations = zip(net.layers, net.config.layer_dilations, strict=True)
    if any(p.dilation != d for p, d in dilations):
        raise ConfigError("the layers' dilations disagree with the network config.")
    network = RecurrentNetwork(net.config).to(dtype)
    state: dict[str, Any] = {"head.weight": net.W_y, "head.bias": net.b_y}
    for index, p in enumerate(net.layers):
        H, gates = p.hidden_size, TORCH_ORDER[p.cell]
        prefix = f"layers.{index}."
        if p.cell == "mlstm":  # input weights only, the gates' rows in order
            state[prefix + "weight_ih_l0"] = np.concatenate([p.W[g] for g in gates])
            state[prefix + "bias_ih_l0"] = np.concatenate([p.b[g] for g in gates])
            continue
        state[prefix + "weight_hh_l0"] = np.concatenate([p.W[g][:, :H] for g in gates])
        state[prefix + "weight_ih_l0"] = np.concatenate([p.W[g][:, H:] for g in gates])
        state[prefix + "bias_ih_l0"] = np.concatenate([p.b[g] for g in gates])
        bias_hh = np.zeros(len(gates) * H)
        if p.cell == "gru":
            bias_hh[2 * H :] = p.b["nh"]
        state[prefix + "bias_hh_l0"] = bias_hh
    network.load_state_dict(
        {k: torch.as_tensor(v, dtype=dtype) for k, v in state.items()}
    )
    return network.eval()


def _np(tensor: torch.Tensor | None) -> Array:
    if tensor is None:
        raise ConfigError("the torch network has no gradients; run backward() first.")
    return tensor.detach().cpu().double().numpy().copy()
