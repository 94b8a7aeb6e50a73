r"""The xLSTM's two cells (Beck et al., 2024) as layers, in plain PyTorch.

:class:`SLSTM`: an LSTM whose input gate is exponential,
:math:`i_t = e^{\tilde\imath_t}`, with a normaliser state :math:`n_t` that the
cell state is divided by, and a stabiliser :math:`m_t` that keeps both finite on
long inputs:

.. math::
    m_t = \max(\log f_t + m_{t-1}, \tilde\imath_t), \quad
    c_t = f'_t c_{t-1} + i'_t z_t, \quad
    n_t = f'_t n_{t-1} + i'_t, \quad
    h_t = o_t\, c_t / n_t,

with :math:`i'_t = e^{\tilde\imath_t - m_t}`, :math:`f'_t = e^{\log f_t + m_{t-1} -
m_t}`, :math:`f_t = \sigma(\tilde f_t)`, :math:`z_t = \tanh(\tilde z_t)`,
:math:`o_t = \sigma(\tilde o_t)` and every pre-activation :math:`W_k x_t + R_k
h_{t-1} + b_k`. The equations, their backward pass and the proofs are in
:func:`rnncast.reference.cells.slstm_step` and docs/math.md.

This is the sLSTM with one head (full recurrent matrices :math:`R_k`), the form
the reference proves; the paper's block-diagonal heads and its post-up-projection
block are not built. The parameters are named and laid out as torch's recurrent
layers name theirs (``weight_ih_l0`` (4H, D), ``weight_hh_l0`` (4H, H),
``bias_ih_l0``, ``bias_hh_l0``; gates ``z, i, f, o``), so the rest of rnncast
reads it like them. It runs step by step in Python: slower per step than the
LSTM's fused kernel.

:class:`MLSTM`: a matrix memory :math:`C_t = f'_t C_{t-1} + i'_t v_t k_t^\top`
read by a query, :math:`h_t = o_t * C_t q_t / \max(|n_t^\top q_t|, e^{-m_t})`, with
gates that read only the input (scalar input and forget gates per window, the
same stabiliser); equations and proofs in
:func:`rnncast.reference.cells.mlstm_step` and docs/math.md. One head of width
H: the memory is H x H per window. Its parameters are ``weight_ih_l0`` (4H + 2,
D) and ``bias_ih_l0``, rows ``q, k, v, o`` (H each), ``i``, ``f`` (one each).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MLSTM", "SLSTM"]

SState = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # h, c, n, m


class SLSTM(nn.Module):
    """One sLSTM layer over ``(batch, steps, input_size)`` inputs (batch first)."""

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = True):
        super().__init__()
        if not batch_first:
            raise ValueError("SLSTM reads batch-first inputs only.")
        self.input_size, self.hidden_size = input_size, hidden_size
        gates = 4 * hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(gates, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(gates, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(gates))
        self.bias_hh_l0 = nn.Parameter(torch.empty(gates))
        _initialise(self, hidden_size)

    def forward(
        self, x: torch.Tensor, state: SState | None = None
    ) -> tuple[torch.Tensor, SState]:
        """Run over ``x``; return every step's ``h`` and the last ``(h, c, n, m)``."""
        batch = x.shape[0]
        if state is None:
            zeros = x.new_zeros(batch, self.hidden_size)
            state = (zeros, zeros, zeros, zeros)
        h, c, n, m = state
        inputs = x @ self.weight_ih_l0.T + (self.bias_ih_l0 + self.bias_hh_l0)
        outputs = []
        for x_t in _time_steps(inputs):
            pre = x_t + h @ self.weight_hh_l0.T
            z_pre, i_pre, f_pre, o_pre = pre.chunk(4, dim=1)
            log_f = nn.functional.logsigmoid(f_pre)
            # the stabiliser scales c and n alike and h not at all: no gradient
            m_new = torch.maximum(log_f + m, i_pre).detach()
            i = torch.exp(i_pre - m_new)
            f = torch.exp(log_f + m - m_new)
            c = f * c + i * torch.tanh(z_pre)
            n = f * n + i
            h = torch.sigmoid(o_pre) * c / n
            m = m_new
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, c, n, m)


class MLSTM(nn.Module):
    """One mLSTM layer over ``(batch, steps, input_size)`` inputs (batch first)."""

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = True):
        super().__init__()
        if not batch_first:
            raise ValueError("MLSTM reads batch-first inputs only.")
        self.input_size, self.hidden_size = input_size, hidden_size
        rows = 4 * hidden_size + 2  # q, k, v, o; the scalar gates i, f
        self.weight_ih_l0 = nn.Parameter(torch.empty(rows, input_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(rows))
        _initialise(self, hidden_size)

    def forward(
        self, x: torch.Tensor, state: SState | None = None
    ) -> tuple[torch.Tensor, SState]:
        """Run over ``x``; return every step's ``h`` and the last ``(h, C, n, m)``."""
        batch, H = x.shape[0], self.hidden_size
        if state is None:
            state = (
                x.new_zeros(batch, H),
                x.new_zeros(batch, H, H),
                x.new_zeros(batch, H),
                x.new_zeros(batch, 1),
            )
        h, C, n, m = state
        projected = x @ self.weight_ih_l0.T + self.bias_ih_l0  # every step at once
        q, k, v, o_pre, i_pre, f_pre = projected.split([H, H, H, H, 1, 1], dim=-1)
        k = k / math.sqrt(H)
        o = torch.sigmoid(o_pre)
        log_f = nn.functional.logsigmoid(f_pre)
        outputs = []
        for q_t, k_t, v_t, o_t, i_pre_t, log_f_t in zip(
            *map(_time_steps, (q, k, v, o, i_pre, log_f)), strict=True
        ):
            # the stabiliser scales C, n and the floor alike: no gradient
            m_new = torch.maximum(log_f_t + m, i_pre_t).detach()
            i = torch.exp(i_pre_t - m_new)
            f = torch.exp(log_f_t + m - m_new)
            C = f[:, :, None] * C + i[:, :, None] * v_t[:, :, None] * k_t[:, None, :]
            n = f * n + i * k_t
            dot = (n * q_t).sum(dim=1, keepdim=True)
            denom = torch.maximum(dot.abs(), torch.exp(-m_new))
            h = o_t * (C @ q_t[:, :, None])[:, :, 0] / denom
            m = m_new
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, C, n, m)


def _time_steps(sequence: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Split ``(batch, steps, ...)`` into its steps, ``(batch, ...)`` each.

    ``unbind`` rather than ``sequence[:, t]``: the gradient of a slice is a zero
    tensor of the whole sequence's size, so a loop over slices costs time
    quadratic in the steps in the backward pass; ``unbind``'s is one stack.
    """
    return sequence.unbind(dim=1)


def _initialise(layer: nn.Module, hidden_size: int) -> None:
    """Draw every weight from U(-1/sqrt(H), 1/sqrt(H)), as torch's recurrent layers."""
    bound = 1.0 / math.sqrt(hidden_size)
    for weight in layer.parameters():
        nn.init.uniform_(weight, -bound, bound)
