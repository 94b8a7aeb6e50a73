r"""The sLSTM layer of the xLSTM (Beck et al., 2024), in plain PyTorch.

An LSTM whose input gate is exponential, :math:`i_t = e^{\tilde\imath_t}`, with a
normaliser state :math:`n_t` that the cell state is divided by, and a stabiliser
:math:`m_t` that keeps both finite on long inputs:

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
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["SLSTM"]

SState = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


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
        bound = 1.0 / math.sqrt(hidden_size)  # torch's recurrent layers' default
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

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
        for t in range(x.shape[1]):
            pre = inputs[:, t] + h @ self.weight_hh_l0.T
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
