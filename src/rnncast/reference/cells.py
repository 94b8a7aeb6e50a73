"""The cells and layers of the reference: one gate per line, forward and BPTT.

See :mod:`rnncast.reference` for the notation and the mapping to torch's layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "GATES",
    "STATES",
    "TORCH_ORDER",
    "LayerCache",
    "LayerParams",
    "layer_backward",
    "layer_forward",
    "sigmoid",
]

Array = NDArray[np.float64]

GATES = {
    "lstm": ("f", "i", "C", "o"),
    "gru": ("r", "z", "n"),
    "rnn": ("h",),
    "slstm": ("z", "i", "f", "o"),
    "mlstm": ("q", "k", "v", "o", "i", "f"),  # weight_ih rows; no weight_hh
}
TORCH_ORDER = {
    "lstm": ("i", "f", "C", "o"),
    "gru": ("r", "z", "n"),
    "rnn": ("h",),
    "slstm": ("z", "i", "f", "o"),
    "mlstm": ("q", "k", "v", "o", "i", "f"),
}
# the states each cell carries from step to step, the first its output h; the
# xLSTM cells carry h, c (the mLSTM a matrix C), the normaliser n, the stabiliser m
STATES = {"lstm": 2, "gru": 1, "rnn": 1, "slstm": 4, "mlstm": 4}
# the states (other than h) whose gradients flow back to the step before, by
# their name in a step's cache
CARRIED = {
    "lstm": ("c",),
    "gru": (),
    "rnn": (),
    "slstm": ("c", "n"),
    "mlstm": ("C", "n"),
}


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


def slstm_step(
    p: LayerParams, x: Array, h: Array, c: Array, n: Array, m: Array
) -> tuple[tuple[Array, Array, Array, Array], dict]:
    r"""One sLSTM step (Beck et al., 2024): exponential input gate, normaliser state.

    .. math::
        z_t &= \tanh(W_z [h_{t-1}, x_t] + b_z), \quad
        o_t = \sigma(W_o [h_{t-1}, x_t] + b_o) \\
        \tilde\imath_t &= W_i [h_{t-1}, x_t] + b_i, \quad
        \log f_t = \log\sigma(W_f [h_{t-1}, x_t] + b_f) \\
        m_t &= \max(\log f_t + m_{t-1},\ \tilde\imath_t), \quad
        i'_t = e^{\tilde\imath_t - m_t}, \quad
        f'_t = e^{\log f_t + m_{t-1} - m_t} \\
        c_t &= f'_t c_{t-1} + i'_t z_t, \quad
        n_t = f'_t n_{t-1} + i'_t, \quad
        h_t = o_t\, c_t / n_t

    The input gate :math:`e^{\tilde\imath_t}` is unbounded; the stabiliser
    :math:`m_t` divides :math:`c_t` and :math:`n_t` by :math:`e^{m_t}` alike,
    which keeps them finite and leaves :math:`h_t` (their ratio) unchanged, so
    :math:`m_t` has no gradient and the backward pass holds it constant.
    :math:`n_t \ge i'_t > 0` after the first step. All states start at zero.
    """
    hx = np.concatenate([h, x], axis=1)  # (batch, H + D)
    z = np.tanh(hx @ p.W["z"].T + p.b["z"])
    o = sigmoid(hx @ p.W["o"].T + p.b["o"])
    i_pre = hx @ p.W["i"].T + p.b["i"]
    f_pre = hx @ p.W["f"].T + p.b["f"]
    log_f = -np.logaddexp(0.0, -f_pre)  # log sigmoid, computed stably
    m_new = np.maximum(log_f + m, i_pre)
    i = np.exp(i_pre - m_new)
    f = np.exp(log_f + m - m_new)
    c_new = f * c + i * z
    n_new = f * n + i
    h_new = o * c_new / n_new
    cache = {
        "hx": hx, "z": z, "o": o, "i": i, "f": f, "sig_f": np.exp(log_f),
        "c_prev": c, "n_prev": n, "c": c_new, "n": n_new, "m": m_new,
    }  # fmt: skip
    return (h_new, c_new, n_new, m_new), cache


def slstm_step_backward(
    p: LayerParams,
    cache: dict,
    dh: Array,
    dc_next: Array,
    dn_next: Array,
    grads: LayerParams,
) -> tuple[Array, Array, Array, Array]:
    r"""Back-propagate one sLSTM step; accumulate into ``grads``.

    With :math:`\delta c_t`, :math:`\delta n_t` the gradients from the step that
    reads these states:

    .. math::
        \delta o_t &= \delta h_t\, c_t / n_t, \quad
        \delta c_t \mathrel{+}= \delta h_t\, o_t / n_t, \quad
        \delta n_t \mathrel{+}= -\delta h_t\, o_t c_t / n_t^2 \\
        \delta f'_t &= \delta c_t c_{t-1} + \delta n_t n_{t-1}, \quad
        \delta i'_t = \delta c_t z_t + \delta n_t, \quad
        \delta z_t = \delta c_t i'_t \\
        \delta a_f &= \delta f'_t f'_t (1 - \sigma(a_f)), \quad
        \delta a_i = \delta i'_t i'_t, \quad
        \delta a_z = \delta z_t (1 - z_t^2), \quad
        \delta a_o = \delta o_t o_t (1 - o_t) \\
        \delta c_{t-1} &= \delta c_t f'_t, \quad \delta n_{t-1} = \delta n_t f'_t

    Returns the gradients reaching ``h_{t-1}``, ``x_t``, ``c_{t-1}`` and ``n_{t-1}``.
    """
    H = dh.shape[1]
    ratio = cache["c"] / cache["n"]
    do = dh * ratio
    dc = dc_next + dh * cache["o"] / cache["n"]
    dn = dn_next - dh * cache["o"] * ratio / cache["n"]
    df = dc * cache["c_prev"] + dn * cache["n_prev"]
    di = dc * cache["z"] + dn
    d_pre = {
        "z": dc * cache["i"] * (1.0 - cache["z"] ** 2),
        "i": di * cache["i"],
        "f": df * cache["f"] * (1.0 - cache["sig_f"]),
        "o": do * cache["o"] * (1.0 - cache["o"]),
    }
    dhx = _accumulate(p, grads, d_pre, cache["hx"])
    return dhx[:, :H], dhx[:, H:], dc * cache["f"], dn * cache["f"]


def mlstm_step(
    p: LayerParams, x: Array, h: Array, C: Array, n: Array, m: Array
) -> tuple[tuple[Array, Array, Array, Array], dict]:
    r"""One mLSTM step (Beck et al., 2024): a matrix memory, no recurrent weights.

    .. math::
        q_t &= W_q x_t + b_q, \quad k_t = (W_k x_t + b_k) / \sqrt{H}, \quad
        v_t = W_v x_t + b_v, \quad o_t = \sigma(W_o x_t + b_o) \\
        \tilde\imath_t &= w_i x_t + b_i, \quad
        \log f_t = \log\sigma(w_f x_t + b_f) \quad \text{(scalars)} \\
        m_t &= \max(\log f_t + m_{t-1}, \tilde\imath_t), \quad
        i'_t = e^{\tilde\imath_t - m_t}, \quad f'_t = e^{\log f_t + m_{t-1} - m_t} \\
        C_t &= f'_t C_{t-1} + i'_t v_t k_t^\top, \quad
        n_t = f'_t n_{t-1} + i'_t k_t \\
        h_t &= o_t * \frac{C_t q_t}{\max(|n_t^\top q_t|, e^{-m_t})}

    The memory :math:`C_t` is (H, H) per window: a key-value store that
    :math:`q_t` reads. The gates read only :math:`x_t` (``h`` is not used: the
    steps are independent given the memory). The stabiliser scales
    :math:`C_t`, :math:`n_t` and the floor :math:`e^{-m_t}` alike, so
    :math:`h_t` does not depend on it and the backward pass holds it constant.
    """
    H = p.hidden_size
    q = x @ p.W["q"].T + p.b["q"]
    k = (x @ p.W["k"].T + p.b["k"]) / np.sqrt(H)
    v = x @ p.W["v"].T + p.b["v"]
    o = sigmoid(x @ p.W["o"].T + p.b["o"])
    i_pre = x @ p.W["i"].T + p.b["i"]  # (batch, 1)
    log_f = -np.logaddexp(0.0, -(x @ p.W["f"].T + p.b["f"]))
    m_new = np.maximum(log_f + m, i_pre)
    i = np.exp(i_pre - m_new)
    f = np.exp(log_f + m - m_new)
    C_new = f[:, :, None] * C + i[:, :, None] * v[:, :, None] * k[:, None, :]
    n_new = f * n + i * k
    dot = (n_new * q).sum(axis=1, keepdims=True)
    floor = np.exp(-m_new)
    use_dot = np.abs(dot) > floor
    denom = np.where(use_dot, np.abs(dot), floor)
    read = np.einsum("bij,bj->bi", C_new, q)
    h_new = o * read / denom
    cache = {
        "x": x, "q": q, "k": k, "v": v, "o": o, "i": i, "f": f,
        "sig_f": np.exp(log_f), "C_prev": C, "n_prev": n, "C": C_new, "n": n_new,
        "dot": dot, "use_dot": use_dot, "denom": denom, "read": read,
    }  # fmt: skip
    return (h_new, C_new, n_new, m_new), cache


def mlstm_step_backward(
    p: LayerParams,
    cache: dict,
    dh: Array,
    dC_next: Array,
    dn_next: Array,
    grads: LayerParams,
) -> tuple[Array, Array, Array]:
    r"""Back-propagate one mLSTM step; accumulate into ``grads``.

    With :math:`u = C_t q_t`, :math:`d` the denominator, :math:`\delta C_t`,
    :math:`\delta n_t` the gradients from the next step:

    .. math::
        \delta o_t &= \delta h_t u / d, \quad
        \delta u = \delta h_t o_t / d, \quad
        \delta d = -\textstyle\sum \delta h_t o_t u / d^2, \quad
        \delta(n_t^\top q_t) = \delta d \operatorname{sign}(n_t^\top q_t)
        \text{ where } d = |n_t^\top q_t| \\
        \delta C_t &\mathrel{+}= \delta u\, q_t^\top, \quad
        \delta q_t = C_t^\top \delta u + \delta(n^\top q)\, n_t, \quad
        \delta n_t \mathrel{+}= \delta(n^\top q)\, q_t \\
        \delta f'_t &= \langle \delta C_t, C_{t-1} \rangle + \delta n_t^\top n_{t-1},
        \quad \delta i'_t = v_t^\top \delta C_t k_t + \delta n_t^\top k_t \\
        \delta v_t &= i'_t \delta C_t k_t, \quad
        \delta k_t = i'_t (\delta C_t^\top v_t + \delta n_t), \quad
        \delta C_{t-1} = f'_t \delta C_t, \quad \delta n_{t-1} = f'_t \delta n_t

    Returns the gradients reaching ``x_t``, ``C_{t-1}`` and ``n_{t-1}``.
    """
    H = p.hidden_size
    q, k, v, o = cache["q"], cache["k"], cache["v"], cache["o"]
    i, f, denom, read = cache["i"], cache["f"], cache["denom"], cache["read"]
    do = dh * read / denom
    du = dh * o / denom
    d_denom = -(dh * o * read).sum(axis=1, keepdims=True) / denom**2
    d_dot = np.where(cache["use_dot"], d_denom * np.sign(cache["dot"]), 0.0)
    dC = dC_next + du[:, :, None] * q[:, None, :]
    dq = np.einsum("bij,bi->bj", cache["C"], du) + d_dot * cache["n"]
    dn = dn_next + d_dot * q
    df = (dC * cache["C_prev"]).sum(axis=(1, 2))[:, None]
    df += (dn * cache["n_prev"]).sum(axis=1, keepdims=True)
    di = np.einsum("bij,bi,bj->b", dC, v, k)[:, None] + (dn * k).sum(1, keepdims=True)
    dv = i * np.einsum("bij,bj->bi", dC, k)
    dk = i * (np.einsum("bij,bi->bj", dC, v) + dn)
    d_pre = {
        "q": dq,
        "k": dk / np.sqrt(H),
        "v": dv,
        "o": do * o * (1.0 - o),
        "i": di * i,
        "f": df * f * (1.0 - cache["sig_f"]),
    }
    dx = _accumulate(p, grads, d_pre, cache["x"])
    return dx, f[:, :, None] * dC, f * dn


def initial_state(cell: str, batch: int, hidden: int) -> tuple[Array, ...]:
    """Zero states of ``cell`` for ``batch`` sequences (the mLSTM's C is H x H)."""
    if cell == "mlstm":
        return (
            np.zeros((batch, hidden)),
            np.zeros((batch, hidden, hidden)),
            np.zeros((batch, hidden)),
            np.zeros((batch, 1)),  # one stabiliser per window: the gates are scalars
        )
    return tuple(np.zeros((batch, hidden)) for _ in range(STATES[cell]))


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
    if state is None:
        state = initial_state(p.cell, batch, H)
    d = p.dilation
    states: list[tuple[Array, ...]] = []
    cache = LayerCache()
    for t in range(x.shape[1]):
        before = states[t - d] if t >= d else state
        if p.cell == "lstm":
            h, c, step = lstm_step(p, x[:, t], *before)
            after: tuple[Array, ...] = (h, c)
        elif p.cell == "slstm":
            after, step = slstm_step(p, x[:, t], *before)
        elif p.cell == "mlstm":
            after, step = mlstm_step(p, x[:, t], *before)
        elif p.cell == "gru":
            h, step = gru_step(p, x[:, t], *before)
            after = (h,)
        else:
            h, step = rnn_step(p, x[:, t], *before)
            after = (h,)
        states.append(after)
        cache.steps.append(step)
    cache.states = states[-1]
    return np.stack([s[0] for s in states], axis=1), cache


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
    # carried[t]: gradients into the states of step t (h, then those of CARRIED)
    # from step t + d, which read them; the stabiliser m has none
    carried: list[list[Array] | None] = [None] * T
    for t in reversed(range(T)):
        step = cache.steps[t]
        into = carried[t] or [np.zeros_like(dh_out[:, t])] + [
            np.zeros_like(step[name]) for name in CARRIED[p.cell]
        ]
        dh = dh_out[:, t] + into[0]
        dh_total[:, t] = dh
        if p.cell == "lstm":
            dh_prev, dx[t], dc_prev = lstm_step_backward(p, step, dh, into[1], grads)
            earlier = [dh_prev, dc_prev]
        elif p.cell == "slstm":
            dh_prev, dx[t], dc_prev, dn_prev = slstm_step_backward(
                p, step, dh, into[1], into[2], grads
            )
            earlier = [dh_prev, dc_prev, dn_prev]
        elif p.cell == "mlstm":  # no path from h to the next step
            dx[t], dC_prev, dn_prev = mlstm_step_backward(
                p, step, dh, into[1], into[2], grads
            )
            earlier = [np.zeros_like(dh), dC_prev, dn_prev]
        elif p.cell == "gru":
            dh_prev, dx[t] = gru_step_backward(p, step, dh, grads)
            earlier = [dh_prev]
        else:
            dh_prev, dx[t] = rnn_step_backward(p, step, dh, grads)
            earlier = [dh_prev]
        if t >= d:
            before = carried[t - d]
            carried[t - d] = (
                earlier
                if before is None
                else [a + b for a, b in zip(before, earlier, strict=True)]
            )
    return grads, np.stack(dx, axis=1), dh_total
