"""Stacked recurrent networks with a forecasting head.

The network is only the ``nn.Module``; the forecaster owns data, scaling and training.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from rnncast.exceptions import ConfigError
from rnncast.models.window_levels import SNAIVE_LEVELS, window_level
from rnncast.models.xlstm import MLSTM, SLSTM
from rnncast.options import CELLS, OUTPUTS, WINDOW_LEVELS

__all__ = ["EnsembleNetwork", "NetworkConfig", "RecurrentNetwork", "dilated"]

CellName = Literal["lstm", "gru", "rnn", "slstm", "mlstm"]
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]

_TORCH_CELLS: dict[str, type[nn.Module]] = {
    "lstm": nn.LSTM,
    "gru": nn.GRU,
    "rnn": nn.RNN,
    "slstm": SLSTM,  # the xLSTM's cells (rnncast.models.xlstm)
    "mlstm": MLSTM,
}


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of a :class:`RecurrentNetwork`."""

    cell: CellName = (
        "lstm"  # recurrent cell of every layer: lstm, gru, rnn (tanh), slstm, mlstm
    )
    hidden: tuple[int, ...] = (64,)  # width of each stacked layer, first to last
    horizon: int = 12  # number of future steps the network forecasts
    dropout: float = (
        0.0  # dropout probability between stacked layers (not after the last)
    )
    output: Literal["direct", "recursive"] = (
        "direct"  # all steps at once, or one by one
    )
    input_size: int = 1  # features per time step (the scaled target)
    # forecast relative to the last input value, the mean of the last season, the
    # window's seasonal-naive forecast, whichever of those two fits the window
    # better, the window's mean seasonal pattern for series flagged seasonal (the
    # last input channel) and the season's mean for the others, or nothing
    level: Literal["last", "season", "snaive", "adaptive", "detect", "none"] = "last"
    season_length: int = 1  # the season of the seasonal levels
    quantiles: tuple[float, ...] = ()  # if set, forecast these quantiles per step
    # level "detect" only: the input channel before the flag holds each series'
    # scaled zero, read by the start (multiplicative patterns), not by the layers;
    # input_size counts the channels the layers read
    multiplicative: bool = False
    # each layer's dilation d (its state at step t comes from step t - d); () for 1
    dilations: tuple[int, ...] = ()
    # layers per residual group, first to last: each group after the first adds
    # its input to its output; () for one plain stack
    residual_groups: tuple[int, ...] = ()
    # future-known covariates per horizon step, read by the direct head
    future_size: int = 0

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ConfigError(f"unknown cell {self.cell!r}; choose one of {CELLS}.")
        if self.output not in OUTPUTS:
            raise ConfigError(
                f"unknown output {self.output!r}; choose one of {OUTPUTS}."
            )
        if not self.hidden or any(int(h) <= 0 for h in self.hidden):
            raise ConfigError(
                f"hidden must list one positive width per layer, e.g. (128, 64); "
                f"got {self.hidden!r}."
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if self.level not in WINDOW_LEVELS:
            raise ConfigError(
                f"unknown level {self.level!r}; choose one of {WINDOW_LEVELS}."
            )
        if self.season_length < 1:
            raise ConfigError(
                f"season_length must be >= 1, got {self.season_length!r}."
            )
        if self.level == "detect" and self.input_size < 2:
            raise ConfigError(
                "level='detect' reads each series' seasonal flag from the last "
                "input channel, so it needs input_size >= 2."
            )
        if self.multiplicative and self.level != "detect":
            raise ConfigError(
                "multiplicative seasonal patterns are a part of level='detect'; "
                f"got level={self.level!r}."
            )
        if self.level in SNAIVE_LEVELS and self.output == "recursive":
            raise ConfigError(
                f"level={self.level!r} forecasts corrections to the seasonal-naive "
                "forecast of the whole horizon; use output='direct' with it."
            )
        if self.quantiles:
            q = self.quantiles
            if list(q) != sorted(set(q)) or not all(0 < v < 1 for v in q):
                raise ConfigError(
                    f"quantiles must be ascending, distinct and in (0, 1); got {q!r}."
                )
            if 0.5 not in q:
                raise ConfigError("quantiles must include the median, 0.5.")
            if self.output != "direct":
                raise ConfigError(
                    "quantile heads need output='direct' (a recursive head feeds "
                    "back one value per step)."
                )
        if self.horizon <= 0:
            raise ConfigError(
                f"horizon must be a positive integer, got {self.horizon}."
            )
        if self.dilations and (
            len(self.dilations) != len(self.hidden) or min(self.dilations) < 1
        ):
            raise ConfigError(
                f"dilations must give each of the {len(self.hidden)} layers of "
                f"hidden={self.hidden!r} a dilation >= 1, e.g. "
                f"{(1,) * (len(self.hidden) - 1) + (24,)}; got {self.dilations!r}."
            )
        self._check_groups()
        fed_back = self.output == "recursive" and self.future_size >= self.input_size
        if self.future_size < 0 or fed_back:
            raise ConfigError(
                "future_size counts the future-known inputs of each forecast step: "
                "at least 0, and for the recursive head fewer than input_size (they "
                f"follow the fed-back value); got future_size={self.future_size!r}, "
                f"input_size={self.input_size!r}."
            )

    def _check_groups(self) -> None:
        groups = self.residual_groups
        if not groups:
            return
        if min(groups) < 1 or sum(groups) != len(self.hidden):
            raise ConfigError(
                f"residual_groups must split the {len(self.hidden)} layers of "
                f"hidden={self.hidden!r} into groups of >= 1 layer; got {groups!r}."
            )
        for first, stop in self.layer_groups[1:]:
            if self.hidden[first - 1] != self.hidden[stop - 1]:
                layers = f"layers {first + 1}-{stop}" if stop > first + 1 else ""
                raise ConfigError(
                    f"a residual group adds its input to its output, so the group "
                    f"of {layers or f'layer {stop}'} must end as wide as the layer "
                    f"before it ({self.hidden[first - 1]}); got hidden={self.hidden!r}."
                )

    @property
    def layer_groups(self) -> tuple[tuple[int, int], ...]:
        """Each group's layers as ``(first, stop)`` indices; one group if plain."""
        bounds = list(itertools.accumulate(self.residual_groups or (len(self.hidden),)))
        return tuple(zip([0, *bounds[:-1]], bounds, strict=True))

    @property
    def layer_dilations(self) -> tuple[int, ...]:
        """The dilation of every layer (1 where ``dilations`` is empty)."""
        return self.dilations or (1,) * len(self.hidden)

    @property
    def dilated(self) -> bool:
        """Whether a layer reads a state from further back than the step before."""
        return max(self.layer_dilations) > 1


class RecurrentNetwork(nn.Module):
    r"""Stacked RNN/LSTM/GRU layers of individual widths followed by a linear head.

    Layer ``k`` is a one-layer ``torch.nn.LSTM``, ``GRU`` or ``RNN`` (tanh) of width
    ``hidden[k]`` reading the hidden states of layer ``k - 1``; ``hidden=(128, 64)``
    gives LSTM 128 -> LSTM 64 -> linear. For the LSTM each layer computes, per step,

    .. math::
        f_t = \sigma(W_f [h_{t-1}, x_t] + b_f),\quad
        i_t = \sigma(W_i [h_{t-1}, x_t] + b_i),\quad
        \tilde C_t = \tanh(W_C [h_{t-1}, x_t] + b_C),

        C_t = f_t C_{t-1} + i_t \tilde C_t,\quad
        o_t = \sigma(W_o [h_{t-1}, x_t] + b_o),\quad
        h_t = o_t \tanh(C_t).

    Heads:

    * ``"direct"``: ``yhat = W_y h_T + b_y`` gives all ``horizon`` steps at once from
      the last hidden state of the top layer; with ``future_size`` covariates
      known for the forecast steps, ``yhat = W_y [h_T, f_{T+1}, ..., f_{T+H}] +
      b_y`` (the head reads them, flattened step after step).
    * ``quantiles``: the direct head gives ``horizon x len(quantiles)`` values,
      the forecast quantiles of every step (trained with the pinball loss).
    * ``"recursive"``: a one-step head ``yhat_{T+1} = w_y h_T + b_y``; each forecast is
      fed back as the next input, carrying the hidden states, until ``horizon`` steps
      exist. Training back-propagates through this roll-out. With ``future_size``
      inputs known for the forecast steps (``future`` (batch, horizon, f)), step
      :math:`T+k` is ``w_y [h_{T+k-1}, f_{T+k}] + b_y`` and the input fed back
      for it ends with its :math:`f_{T+k}`, as the inputs of the window hold
      each step's own.

    Dilations (Chang et al., 2017): layer ``k`` with dilation :math:`d_k` reads
    the state of step :math:`t - d_k` instead of :math:`t - 1` (zeros for
    :math:`t \le d_k`), e.g. :math:`h_t = o_t \tanh(C_t)` with :math:`C_t = f_t
    C_{t-d} + i_t \tilde C_t` and every gate reading :math:`[h_{t-d}, x_t]`. It
    is computed as :math:`d` interleaved chains (steps :math:`r, r + d, r + 2d,
    \dots`) run side by side by the same torch layer (:func:`dilated`). A
    dilated recursive head runs the whole window again for each fed-back step.
    Residual groups (``residual_groups``, as in the M4 winner's dilated stack):
    the layers are split into consecutive groups and every group after the
    first adds its input sequence to its output, :math:`h^{(g)}_t = F_g(h^{(g-1)})_t
    + h^{(g-1)}_t`.

    Window level (``level``, :mod:`rnncast.models.window_levels`): the layers read
    the target channel minus each window's level :math:`l` (other channels, such
    as the observed indicator, pass unchanged) and the forecast is the head's
    output added to the level's start, ``yhat = start + net(x - l)``: changes from
    the last value (``"last"``) or from the last season's mean (``"season"``),
    corrections to the seasonal naive (``"snaive"``, ``"adaptive"``) or to each
    window's mean seasonal pattern for the series flagged seasonal in the last
    input channel (``"detect"``). With ``multiplicative`` the channel before the
    flag holds each series' scaled zero :math:`c = -\mathrm{loc}/\mathrm{scale}`,
    read by the start, not by the layers.

    Shapes: input ``(batch, lookback, input_size)``, output ``(batch, horizon)``.
    Initialisation: PyTorch's defaults, ``U(-1/sqrt(H_k), 1/sqrt(H_k))`` for every
    recurrent weight and bias, ``U(-1/sqrt(H_last), 1/sqrt(H_last))`` for the head.
    """

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        sizes = (config.input_size, *config.hidden)
        cell = _TORCH_CELLS[config.cell]
        self.layers = nn.ModuleList(
            cell(sizes[k], sizes[k + 1], batch_first=True)
            for k in range(len(config.hidden))
        )
        self.dropout = nn.Dropout(config.dropout)
        out_features = config.horizon if config.output == "direct" else 1
        out_features *= max(1, len(config.quantiles))
        steps = config.horizon if config.output == "direct" else 1
        in_features = config.hidden[-1] + steps * config.future_size
        self.head = nn.Linear(in_features, out_features)
        self.window = window_level(config.level)

    def forward(
        self, x: torch.Tensor, future: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Forecast ``horizon`` steps from inputs (batch, lookback, input_size).

        ``future``: (batch, horizon, future_size), the future-known covariates of
        the forecast steps, when ``future_size`` is set. Returns (batch, horizon),
        or (batch, horizon, n_quantiles) with quantiles.
        """
        future = self._checked_future(x, future)
        zero = None
        if self.config.multiplicative:  # the scaled zero: for the start only
            zero = x[:, -1:, -2]  # (batch, 1)
            x = torch.cat([x[:, :, :-2], x[:, :, -1:]], dim=-1)
        level = self.window_level(x)  # (batch, 1, 1)
        centred = torch.cat([x[:, :, :1] - level, x[:, :, 1:]], dim=-1)
        out = self._forecast(centred, future)
        start = self.window.start(
            x, level, self.config.season_length, self.config.horizon, zero
        )  # (batch, horizon)
        if self.config.quantiles:
            out = out.view(x.shape[0], self.config.horizon, -1)  # (batch, horizon, q)
            return out + start[:, :, None]
        return out + start  # (batch, horizon)

    def window_level(self, x: torch.Tensor) -> torch.Tensor:
        """Level ``l`` (batch, 1, 1) of each window's target channel (see ``level``)."""
        return self.window.of(x, self.config.season_length)

    def _checked_future(
        self, x: torch.Tensor, future: torch.Tensor | None
    ) -> torch.Tensor | None:
        expected = (x.shape[0], self.config.horizon, self.config.future_size)
        if not self.config.future_size:
            if future is not None:
                raise ConfigError("this network reads no future-known covariates.")
            return None
        if future is None or tuple(future.shape) != expected:
            got = None if future is None else tuple(future.shape)
            raise ConfigError(
                f"the network reads future-known covariates of shape {expected} "
                f"(batch, horizon, future_size); got {got}."
            )
        return future

    def _forecast(self, x: torch.Tensor, future: torch.Tensor | None) -> torch.Tensor:
        top, states = self._run(
            x, [None] * len(self.layers)
        )  # (batch, lookback, H_last)
        last = top[:, -1]  # (batch, H_last)
        if self.config.output == "direct":  # [h_T, f_{T+1}, ..., f_{T+H}]
            return self.head(_with_known(last, None if future is None else future))
        step = self.head(_with_known(last, _step(future, 0)))  # (batch, 1)
        steps = [step]
        for k in range(1, self.config.horizon):
            fed_back = _as_input(step, self.config.input_size, _step(future, k - 1))
            if self.config.dilated:  # no single carried state: run it all again
                x = torch.cat([x, fed_back], dim=1)
                top, _ = self._run(x, [None] * len(self.layers))
            else:
                top, states = self._run(fed_back, states)  # (batch, 1, H_last)
            step = self.head(_with_known(top[:, -1], _step(future, k)))  # (batch, 1)
            steps.append(step)
        return torch.cat(steps, dim=1)  # (batch, horizon)

    def _run(
        self, x: torch.Tensor, states: list[State | None]
    ) -> tuple[torch.Tensor, list[State | None]]:
        new_states: list[State | None] = []
        dilations = self.config.layer_dilations
        for first, stop in self.config.layer_groups:
            group_input = x
            for k in range(first, stop):
                if k > 0:
                    x = self.dropout(x)
                if dilations[k] > 1:
                    x, state = dilated(self.layers[k], x, dilations[k]), None
                else:
                    x, state = self.layers[k](x, states[k])  # (batch, steps, H_k)
                new_states.append(state)
            if first > 0:  # a residual group (plain stacks have one group)
                x = x + group_input
        return x, new_states


class EnsembleNetwork(nn.Module):
    r"""The median of several :class:`RecurrentNetwork` of one architecture.

    Member ``k`` reads the last ``lookbacks[k]`` steps of the input window (the
    input is as long as the longest lookback); the forecast of every step (and
    quantile) is the median over members,
    :math:`\hat y_{t} = \operatorname{median}_k \hat y^{(k)}_{t}` (the mean of the
    two middle values for an even count). Members differ in their seed and
    lookback, so their errors partly cancel: the median is robust to one member
    that trained badly.
    """

    def __init__(self, members: list[RecurrentNetwork], lookbacks: list[int]) -> None:
        super().__init__()
        if len(members) != len(lookbacks) or not members:
            raise ConfigError("an ensemble needs one lookback per member network.")
        self.config = members[0].config
        if any(m.config != self.config for m in members):
            raise ConfigError("the members of an ensemble must share one config.")
        self.members = nn.ModuleList(members)
        self.lookbacks = tuple(int(v) for v in lookbacks)

    def forward(
        self, x: torch.Tensor, future: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Median forecast over members from inputs (batch, max lookback, inputs)."""
        outputs = torch.stack(
            [
                member(x[:, -lookback:], future)
                for member, lookback in zip(self.members, self.lookbacks, strict=True)
            ]
        )
        return torch.quantile(outputs, 0.5, dim=0)


def dilated(layer: nn.Module, x: torch.Tensor, dilation: int) -> torch.Tensor:
    r"""Run ``layer`` over ``x`` (batch, T, D) with each step reading step t - d.

    The steps :math:`r, r + d, r + 2d, \dots` of every window form one chain
    (:math:`r < d`); the chains are run as a batch of ``batch * d`` sequences
    of ``ceil(T / d)`` steps, the shorter ones padded at their end (after
    their last real step, so the padding changes nothing they output), and
    put back in time order. Returns (batch, T, H) from zero initial states.
    """
    batch, steps, width = x.shape
    d = dilation
    chains = -(-steps // d)  # ceil(T / d)
    padded = nn.functional.pad(x, (0, 0, 0, chains * d - steps))
    grouped = padded.view(batch, chains, d, width).transpose(1, 2)
    out, _ = layer(grouped.reshape(batch * d, chains, width))
    out = out.reshape(batch, d, chains, -1).transpose(1, 2)
    return out.reshape(batch, chains * d, -1)[:, :steps]


def _step(future: torch.Tensor | None, k: int) -> torch.Tensor | None:
    """Forecast step ``k``'s known inputs (batch, 1, f), or None without them."""
    return None if future is None else future[:, k : k + 1]


def _with_known(last: torch.Tensor, known: torch.Tensor | None) -> torch.Tensor:
    """Return the head's input: the top hidden state, then the known inputs."""
    return last if known is None else torch.cat([last, known.flatten(1)], dim=1)


def _as_input(
    step: torch.Tensor, input_size: int, known: torch.Tensor | None = None
) -> torch.Tensor:
    """Turn a one-step forecast (batch, 1) into the next input (batch, 1, input_size).

    Extra channels (the observed indicator of masked models) are 1: a forecast
    fed back counts as observed; ``known`` (batch, f), the step's future-known
    inputs, are the last channels.
    """
    size = 0 if known is None else known.shape[-1]
    parts = [step, step.new_ones(step.shape[0], input_size - 1 - size)]
    if known is not None:
        parts.append(known.flatten(1))
    return torch.cat(parts, dim=1)[:, None, :]
