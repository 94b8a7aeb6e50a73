"""The cells and layers of the reference: one gate per line, forward and BPTT.

See :mod:`rnncast.reference` for the notation and the mapping to torch's layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "GATES",
    "TORCH_ORDER",
    "LayerCache",
    "LayerParams",
    "layer_backward",
    "layer_forward",
    "sigmoid",
]

Array = NDArray[np.float64]

GATES = {"lstm": ("f", "i", "C", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}
TORCH_ORDER = {"lstm": ("i", "f", "C", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}


def sigmoid(a: Array) -> Array:
    r"""Logistic function :math:`\sigma(a) = 1 / (1 + e^{-a})`, computed stably."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass
class LayerParams:
    """One recurrent layer in concatenated form.

    ``W[k]`` is (H, H + D) acting on ``[h_{t-1}, x_t]`` and ``b[k]`` is (H,) for each
    gate ``k`` of ``GATES[cell]``; the GRU also has ``b["nh"]`` (see module notes).
    With ``dilation`` :math:`d > 1` every step reads the states of step
    :math:`t - d` in place of :math:`t - 1` (zeros before the first :math:`d`).
    """

    cell: str
    W: dict[str, Array]
    b: dict[str, Array]
    dilation: int = 1

    @property
    def hidden_size(self) -> int:
        """Number of units H."""
        return next(iter(self.W.values())).shape[0]


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

    ``state`` is the initial ``(h_0,)`` or ``(h_0, C_0)``; zeros if omitted. Step
    ``t`` reads the states of step ``t - p.dilation`` (the initial state before
    the first ``dilation`` steps).
    """
    batch, H = x.shape[0], p.hidden_size
    h0 = np.zeros((batch, H)) if state is None else state[0]
    c0 = np.zeros((batch, H)) if state is None or p.cell != "lstm" else state[1]
    d = p.dilation
    hs: list[Array] = []
    cs: list[Array] = []
    cache = LayerCache()
    for t in range(x.shape[1]):
        h = hs[t - d] if t >= d else h0
        if p.cell == "lstm":
            c = cs[t - d] if t >= d else c0
            h, c, step = lstm_step(p, x[:, t], h, c)
            cs.append(c)
        elif p.cell == "gru":
            h, step = gru_step(p, x[:, t], h)
        else:
            h, step = rnn_step(p, x[:, t], h)
        hs.append(h)
        cache.steps.append(step)
    cache.states = (hs[-1], cs[-1]) if p.cell == "lstm" else (hs[-1],)
    return np.stack(hs, axis=1), cache


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
        Total gradient reaching each ``h_t`` (from above and from step
        ``t + dilation``, the step that read it).
    """
    grads = LayerParams(
        p.cell,
        {k: np.zeros_like(v) for k, v in p.W.items()},
        {k: np.zeros_like(v) for k, v in p.b.items()},
    )
    T, d = dh_out.shape[1], p.dilation
    dx, dh_total = [None] * T, np.zeros_like(dh_out)
    dh_later = np.zeros_like(dh_out)  # into h_t from step t + d, which read it
    dc_later = np.zeros_like(dh_out)  # into C_t from step t + d
    for t in reversed(range(T)):
        dh = dh_out[:, t] + dh_later[:, t]
        dh_total[:, t] = dh
        step = cache.steps[t]
        dc_prev = None
        if p.cell == "lstm":
            dh_prev, dx[t], dc_prev = lstm_step_backward(
                p, step, dh, dc_later[:, t], grads
            )
        elif p.cell == "gru":
            dh_prev, dx[t] = gru_step_backward(p, step, dh, grads)
        else:
            dh_prev, dx[t] = rnn_step_backward(p, step, dh, grads)
        if t >= d:
            dh_later[:, t - d] += dh_prev
            if dc_prev is not None:
                dc_later[:, t - d] += dc_prev
    return grads, np.stack(dx, axis=1), dh_total
