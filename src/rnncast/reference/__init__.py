r"""The recurrence math in plain NumPy: forward and backward (BPTT) passes, float64.

* ``cells``: the LSTM, GRU and RNN steps and layers, forward and backward;
* ``network``: the stacked network with its window level and heads, the loss,
  clipping, and the conversions from and to torch.

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

from rnncast.reference.cells import (
    GATES,
    LayerParams,
    layer_backward,
    layer_forward,
    sigmoid,
)
from rnncast.reference.network import (
    ReferenceNetwork,
    centre,
    clip_grad_norm,
    from_torch,
    grads_from_torch,
    mse_loss,
    network_backward,
    network_forward,
    to_torch,
)

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
