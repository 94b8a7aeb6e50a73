r"""The recurrence math in plain NumPy: forward and backward (BPTT) passes, float64.

Every cell is written gate by gate in the concatenated form ``W · [h_{t-1}, x_t] + b``
so that the code reads like the textbook equations. The tests prove that these
functions compute exactly what the fast torch networks of
:mod:`rnncast.models.networks` compute (forward within 1e-10 in float64), that their
gradients equal central finite differences and torch autograd, and that a trained
:class:`~rnncast.Forecaster` loaded here reproduces its own forecasts.

Parameter mapping (torch <-> reference), the one place it is written down
-------------------------------------------------------------------------
torch keeps, per layer, ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih`` and
``bias_hh`` (G*H,), with the G gates stacked in its own order: LSTM ``i, f, g, o``,
GRU ``r, z, n``, RNN a single block. For gate ``k`` occupying rows ``k*H:(k+1)*H``:

* ``W_k = [weight_hh[k], weight_ih[k]]`` (H, H + D): the columns for ``h_{t-1}`` come
  first, then those for ``x_t``, matching ``[h_{t-1}, x_t]``;
* ``b_k = bias_ih[k] + bias_hh[k]``: both biases enter every gate additively, except
* the GRU candidate, where torch multiplies the hidden part by the reset gate
  *including its bias*; there ``b_n = bias_ih[n]`` and ``b_nh = bias_hh[n]`` stay apart.

Reference gate names: LSTM ``f, i, C, o`` (torch ``g`` is the candidate ``C``),
GRU ``r, z, n``, RNN ``h``. Conversion back (:func:`to_torch`) puts each ``b_k`` in
``bias_ih`` and zeros in ``bias_hh`` (``b_nh`` in ``bias_hh`` for the GRU): the same
function, another split of the bias.

Shapes: ``x`` is (batch, T, D); hidden states are (batch, T, H).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from rnncast.exceptions import ConfigError
from rnncast.models.networks import SNAIVE_LEVELS, NetworkConfig, RecurrentNetwork

__all__ = [
    "GATES",
    "LayerParams",
    "ReferenceNetwork",
    "centre",
    "clip_grad_norm",
    "from_torch",
    "grads_from_torch",
    "layer_backward",
    "layer_forward",
    "mse_loss",
    "network_backward",
    "network_forward",
    "sigmoid",
    "to_torch",
]

Array = NDArray[np.float64]

GATES = {"lstm": ("f", "i", "C", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}
_TORCH_ORDER = {"lstm": ("i", "f", "C", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}


def sigmoid(a: Array) -> Array:
    r"""Logistic function :math:`\sigma(a) = 1 / (1 + e^{-a})`, computed stably."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass
class LayerParams:
    """One recurrent layer in concatenated form.

    ``W[k]`` is (H, H + D) acting on ``[h_{t-1}, x_t]`` and ``b[k]`` is (H,) for each
    gate ``k`` of ``GATES[cell]``; the GRU also has ``b["nh"]`` (see module notes).
    """

    cell: str
    W: dict[str, Array]
    b: dict[str, Array]

    @property
    def hidden_size(self) -> int:
        """Number of units H."""
        return next(iter(self.W.values())).shape[0]


@dataclass
class ReferenceNetwork:
    """A :class:`~rnncast.models.networks.RecurrentNetwork` as plain arrays."""

    config: NetworkConfig
    layers: list[LayerParams]
    W_y: Array  # (out, H_last): the linear head
    b_y: Array  # (out,)


# --------------------------------------------------------------------- cells
def lstm_step(
    p: LayerParams, x: Array, h: Array, c: Array
) -> tuple[Array, Array, dict]:
    r"""One LSTM step.

    .. math::
        f_t &= \sigma(W_f [h_{t-1}, x_t] + b_f) \\
        i_t &= \sigma(W_i [h_{t-1}, x_t] + b_i) \\
        \tilde C_t &= \tanh(W_C [h_{t-1}, x_t] + b_C) \\
        C_t &= f_t * C_{t-1} + i_t * \tilde C_t \\
        o_t &= \sigma(W_o [h_{t-1}, x_t] + b_o) \\
        h_t &= o_t * \tanh(C_t)

    Returns ``h_t``, ``C_t`` and the cache that :func:`lstm_step_backward` needs.
    """
    hx = np.concatenate([h, x], axis=1)  # (batch, H + D)
    f = sigmoid(hx @ p.W["f"].T + p.b["f"])
    i = sigmoid(hx @ p.W["i"].T + p.b["i"])
    C_tilde = np.tanh(hx @ p.W["C"].T + p.b["C"])
    c_new = f * c + i * C_tilde
    o = sigmoid(hx @ p.W["o"].T + p.b["o"])
    tanh_c = np.tanh(c_new)
    h_new = o * tanh_c
    cache = {
        "hx": hx,
        "f": f,
        "i": i,
        "C": C_tilde,
        "o": o,
        "c_prev": c,
        "c": c_new,
        "tanh_c": tanh_c,
    }
    return h_new, c_new, cache


def lstm_step_backward(
    p: LayerParams, cache: dict, dh: Array, dc_next: Array, grads: LayerParams
) -> tuple[Array, Array, Array]:
    r"""Back-propagate one LSTM step; accumulate into ``grads``.

    With :math:`\delta h_t` the total gradient reaching :math:`h_t` and
    :math:`\delta C_t` the gradient from step :math:`t+1` into :math:`C_t`:

    .. math::
        \delta o_t &= \delta h_t \tanh C_t, \quad
        \delta C_t \mathrel{+}= \delta h_t\, o_t (1 - \tanh^2 C_t) \\
        \delta f_t &= \delta C_t\, C_{t-1}, \quad \delta i_t = \delta C_t \tilde C_t,
        \quad \delta \tilde C_t = \delta C_t\, i_t, \quad
        \delta C_{t-1} = \delta C_t f_t \\
        \delta a_k &= \delta k_t\, k_t (1 - k_t) \ (k = f, i, o), \quad
        \delta a_C = \delta \tilde C_t (1 - \tilde C_t^2) \\
        \delta W_k &\mathrel{+}= \delta a_k^\top [h_{t-1}, x_t], \quad
        \delta [h_{t-1}, x_t] = \textstyle\sum_k \delta a_k W_k

    Returns the gradients reaching ``h_{t-1}`` (through this step), ``x_t`` and
    ``C_{t-1}``.
    """
    H = dh.shape[1]
    do = dh * cache["tanh_c"]
    dc = dc_next + dh * cache["o"] * (1.0 - cache["tanh_c"] ** 2)
    d_pre = {
        "f": dc * cache["c_prev"] * cache["f"] * (1.0 - cache["f"]),
        "i": dc * cache["C"] * cache["i"] * (1.0 - cache["i"]),
        "C": dc * cache["i"] * (1.0 - cache["C"] ** 2),
        "o": do * cache["o"] * (1.0 - cache["o"]),
    }
    dhx = _accumulate(p, grads, d_pre, cache["hx"])
    return dhx[:, :H], dhx[:, H:], dc * cache["f"]


def gru_step(p: LayerParams, x: Array, h: Array) -> tuple[Array, dict]:
    r"""One GRU step, in the form torch (and cuDNN) computes it.

    .. math::
        r_t &= \sigma(W_r [h_{t-1}, x_t] + b_r) \\
        z_t &= \sigma(W_z [h_{t-1}, x_t] + b_z) \\
        n_t &= \tanh(W_n^{x} x_t + b_n + r_t * (W_n^{h} h_{t-1} + b_{nh})) \\
        h_t &= (1 - z_t) * n_t + z_t * h_{t-1}

    where :math:`W_n = [W_n^{h}, W_n^{x}]`. Cho et al. (2014) apply the reset gate
    before the matrix, :math:`W_n [r_t * h_{t-1}, x_t]`; torch applies it after, and
    the reference follows torch so the two agree to rounding.
    """
    H = h.shape[1]
    hx = np.concatenate([h, x], axis=1)  # (batch, H + D)
    r = sigmoid(hx @ p.W["r"].T + p.b["r"])
    z = sigmoid(hx @ p.W["z"].T + p.b["z"])
    hn = h @ p.W["n"][:, :H].T + p.b["nh"]
    n = np.tanh(x @ p.W["n"][:, H:].T + p.b["n"] + r * hn)
    h_new = (1.0 - z) * n + z * h
    return h_new, {"hx": hx, "r": r, "z": z, "n": n, "hn": hn, "h_prev": h, "x": x}


def gru_step_backward(
    p: LayerParams, cache: dict, dh: Array, grads: LayerParams
) -> tuple[Array, Array]:
    r"""Back-propagate one GRU step; accumulate into ``grads``.

    .. math::
        \delta n_t &= \delta h_t (1 - z_t), \quad
        \delta z_t = \delta h_t (h_{t-1} - n_t), \quad
        \delta a_n = \delta n_t (1 - n_t^2) \\
        \delta r_t &= \delta a_n (W_n^{h} h_{t-1} + b_{nh}), \quad
        \delta a_r = \delta r_t\, r_t (1 - r_t), \quad
        \delta a_z = \delta z_t\, z_t (1 - z_t) \\
        \delta h_{t-1} &= \delta h_t z_t + (\delta a_n r_t) W_n^{h}
        + [\delta a_r W_r + \delta a_z W_z]_{h}

    Returns the gradients reaching ``h_{t-1}`` (through this step) and ``x_t``.
    """
    H = dh.shape[1]
    W_nh, W_nx = p.W["n"][:, :H], p.W["n"][:, H:]
    dn = dh * (1.0 - cache["z"])
    dz = dh * (cache["h_prev"] - cache["n"])
    da_n = dn * (1.0 - cache["n"] ** 2)
    d_hn = da_n * cache["r"]  # gradient of W_n^h h + b_nh
    d_pre = {
        "r": da_n * cache["hn"] * cache["r"] * (1.0 - cache["r"]),
        "z": dz * cache["z"] * (1.0 - cache["z"]),
    }
    dhx = _accumulate(p, grads, d_pre, cache["hx"])
    grads.W["n"][:, H:] += da_n.T @ cache["x"]
    grads.W["n"][:, :H] += d_hn.T @ cache["h_prev"]
    grads.b["n"] += da_n.sum(axis=0)
    grads.b["nh"] += d_hn.sum(axis=0)
    dh_prev = dh * cache["z"] + dhx[:, :H] + d_hn @ W_nh
    dx = dhx[:, H:] + da_n @ W_nx
    return dh_prev, dx


def rnn_step(p: LayerParams, x: Array, h: Array) -> tuple[Array, dict]:
    r"""One vanilla (Elman) RNN step: :math:`h_t = \tanh(W_h [h_{t-1}, x_t] + b_h)`."""
    hx = np.concatenate([h, x], axis=1)  # (batch, H + D)
    h_new = np.tanh(hx @ p.W["h"].T + p.b["h"])
    return h_new, {"hx": hx, "h": h_new}


def rnn_step_backward(
    p: LayerParams, cache: dict, dh: Array, grads: LayerParams
) -> tuple[Array, Array]:
    r"""Back-propagate one RNN step: :math:`\delta a = \delta h_t (1 - h_t^2)`,
    :math:`\delta W_h \mathrel{+}= \delta a^\top [h_{t-1}, x_t]`,
    :math:`\delta [h_{t-1}, x_t] = \delta a W_h`.
    """  # noqa: D205
    H = dh.shape[1]
    dhx = _accumulate(p, grads, {"h": dh * (1.0 - cache["h"] ** 2)}, cache["hx"])
    return dhx[:, :H], dhx[:, H:]


def _accumulate(
    p: LayerParams, grads: LayerParams, d_pre: dict[str, Array], hx: Array
) -> Array:
    """Add each gate's weight and bias gradient; return the gradient of ``[h, x]``."""
    dhx = np.zeros_like(hx)
    for k, da in d_pre.items():
        grads.W[k] += da.T @ hx
        grads.b[k] += da.sum(axis=0)
        dhx += da @ p.W[k]
    return dhx


# ------------------------------------------------------------------- layers
@dataclass
class LayerCache:
    """What a layer's forward pass keeps for its backward pass and for inspection."""

    steps: list[dict] = field(default_factory=list)
    states: tuple[Array, ...] = ()  # final (h_T,) or (h_T, C_T)


def layer_forward(
    p: LayerParams, x: Array, state: tuple[Array, ...] | None = None
) -> tuple[Array, LayerCache]:
    """Run one layer over a sequence ``x`` (batch, T, D); return (batch, T, H) states.

    ``state`` is the initial ``(h_0,)`` or ``(h_0, C_0)``; zeros if omitted.
    """
    batch, H = x.shape[0], p.hidden_size
    h = np.zeros((batch, H)) if state is None else state[0]
    c = np.zeros((batch, H)) if state is None or p.cell != "lstm" else state[1]
    outputs, cache = [], LayerCache()
    for t in range(x.shape[1]):
        if p.cell == "lstm":
            h, c, step = lstm_step(p, x[:, t], h, c)
        elif p.cell == "gru":
            h, step = gru_step(p, x[:, t], h)
        else:
            h, step = rnn_step(p, x[:, t], h)
        outputs.append(h)
        cache.steps.append(step)
    cache.states = (h, c) if p.cell == "lstm" else (h,)
    return np.stack(outputs, axis=1), cache


def layer_backward(
    p: LayerParams, cache: LayerCache, dh_out: Array
) -> tuple[LayerParams, Array, Array]:
    """Backpropagation through time for one layer.

    Parameters
    ----------
    dh_out : (batch, T, H)
        Gradient of the loss with respect to each output ``h_t`` from above.

    Returns
    -------
    grads : LayerParams
        Gradients of every ``W_k`` and ``b_k``.
    dx : (batch, T, D)
        Gradient with respect to each input ``x_t``.
    dh : (batch, T, H)
        Total gradient reaching each ``h_t`` (from above and from step ``t + 1``).
    """
    grads = LayerParams(
        p.cell,
        {k: np.zeros_like(v) for k, v in p.W.items()},
        {k: np.zeros_like(v) for k, v in p.b.items()},
    )
    T = dh_out.shape[1]
    dx, dh_total = [None] * T, np.zeros_like(dh_out)
    dh_next = np.zeros_like(dh_out[:, 0])
    dc_next = np.zeros_like(dh_next)
    for t in reversed(range(T)):
        dh = dh_out[:, t] + dh_next
        dh_total[:, t] = dh
        step = cache.steps[t]
        if p.cell == "lstm":
            dh_next, dx[t], dc_next = lstm_step_backward(p, step, dh, dc_next, grads)
        elif p.cell == "gru":
            dh_next, dx[t] = gru_step_backward(p, step, dh, grads)
        else:
            dh_next, dx[t] = rnn_step_backward(p, step, dh, grads)
    return grads, np.stack(dx, axis=1), dh_total


# ------------------------------------------------------------------ network
@dataclass
class NetworkCache:
    """Forward-pass record of :func:`network_forward` (direct head)."""

    layers: list[LayerCache]
    hidden: list[Array]  # output sequence of every layer, (batch, T, H_k)


def network_forward(net: ReferenceNetwork, x: Array) -> tuple[Array, NetworkCache]:
    r"""Forecast ``horizon`` steps from ``x`` (batch, lookback, inputs) like torch.

    With ``level="last"`` (``"season"``) the layers read :math:`x_t - l` and the
    forecast is :math:`l + \hat y`, with :math:`l` the last value (the mean of the
    last ``season_length`` values) of the target channel; ``"snaive"`` centres
    like ``"season"`` but adds :math:`\hat y` to the window's seasonal-naive
    forecast. See :func:`centre`.
    The direct head is :math:`\hat y = W_y h_T + b_y`; the recursive head applies
    a one-step head and feeds each forecast back as the next input, carrying every
    layer's state.
    """
    cfg = net.config
    centred, offset = centre(
        x, cfg.level, cfg.season_length, cfg.horizon, multiplicative=cfg.multiplicative
    )
    seq, states, caches, hidden = centred, [], [], []
    for p in net.layers:
        seq, cache = layer_forward(p, seq)
        caches.append(cache)
        hidden.append(seq)
        states.append(cache.states)
    step = seq[:, -1] @ net.W_y.T + net.b_y  # (batch, horizon) or (batch, 1)
    if cfg.output == "recursive":
        steps = [step]
        for _ in range(cfg.horizon - 1):
            seq = np.concatenate([step, np.ones((len(step), x.shape[2] - 1))], axis=1)[
                :, None, :
            ]  # a fed-back forecast counts as observed
            for k, p in enumerate(net.layers):
                seq, cache = layer_forward(p, seq, states[k])
                states[k] = cache.states
            step = seq[:, -1] @ net.W_y.T + net.b_y
            steps.append(step)
        step = np.concatenate(steps, axis=1)
    return offset + step, NetworkCache(caches, hidden)


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
    flat = np.repeat(levels[:, None], horizon, axis=1)
    if level not in SNAIVE_LEVELS:
        return centred, flat
    repeats = -(-horizon // season_length)
    if level == "detect":
        whole = (x.shape[1] // season_length) * season_length
        seasons = x[:, x.shape[1] - whole :, 0].reshape(len(x), -1, season_length)
        profile = (seasons - seasons.mean(axis=2, keepdims=True)).mean(axis=1)
        pattern = levels[:, None] + profile
        if zero is not None:
            above = seasons - zero[:, :, None]  # (batch, K, m), from the data's 0
            positive = (x[:, :, 0] > zero).all(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):  # not positive
                ratios = (above / above.mean(axis=2, keepdims=True)).mean(axis=1)
            scaled = zero + (levels[:, None] - zero) * ratios
            pattern[positive] = scaled[positive]
        start = np.tile(pattern, repeats)[:, :horizon]
        return centred, np.where(x[:, -1:, -1] > 0.5, start, flat)
    snaive = np.tile(x[:, -season_length:, 0], repeats)[:, :horizon]
    if level == "snaive":
        return centred, snaive
    return centred, np.where(_seasonal(x[:, :, 0], season_length), snaive, flat)


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

    :math:`\delta W_y = \delta\hat y^\top h_T`, :math:`\delta b_y = \sum \delta \hat y`,
    :math:`\delta h_T = \delta \hat y\, W_y`; then :func:`layer_backward` from the top
    layer down, each layer's ``dx`` being the ``dh_out`` of the layer below.

    Returns
    -------
    (layer grads, dW_y, db_y)
    """
    if net.config.output != "direct":
        raise ConfigError("the reference backward pass covers the direct head only.")
    top = cache.hidden[-1]
    dW_y = d_yhat.T @ top[:, -1]
    db_y = d_yhat.sum(axis=0)
    dh_out = np.zeros_like(top)
    dh_out[:, -1] = d_yhat @ net.W_y
    layer_grads = []
    for p, layer_cache in zip(
        reversed(net.layers), reversed(cache.layers), strict=True
    ):
        grads, dh_out, _ = layer_backward(p, layer_cache, dh_out)
        layer_grads.append(grads)
    return layer_grads[::-1], dW_y, db_y


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
    tensors = [
        module.weight_ih_l0,
        module.weight_hh_l0,
        module.bias_ih_l0,
        module.bias_hh_l0,
    ]
    W_ih, W_hh, b_ih, b_hh = (_np(t.grad if gradients else t) for t in tensors)
    H = module.hidden_size
    W, b = {}, {}
    for k, gate in enumerate(_TORCH_ORDER[cell]):
        rows = slice(k * H, (k + 1) * H)
        W[gate] = np.concatenate([W_hh[rows], W_ih[rows]], axis=1)  # (H, H + D)
        separate = gradients or (cell, gate) == ("gru", "n")
        b[gate] = b_ih[rows] if separate else b_ih[rows] + b_hh[rows]
    if cell == "gru":
        b["nh"] = b_hh[2 * H : 3 * H]
    return LayerParams(cell, W, b)


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
    network = RecurrentNetwork(net.config).to(dtype)
    state: dict[str, Any] = {"head.weight": net.W_y, "head.bias": net.b_y}
    for index, p in enumerate(net.layers):
        H, gates = p.hidden_size, _TORCH_ORDER[p.cell]
        prefix = f"layers.{index}."
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
