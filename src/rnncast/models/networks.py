"""Stacked recurrent networks with a forecasting head.

The network is only the ``nn.Module``; the forecaster owns data, scaling and training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from rnncast.exceptions import ConfigError

__all__ = [
    "CELLS",
    "LEVELS",
    "OUTPUTS",
    "SEASONAL_LEVELS",
    "SEASONAL_PATTERNS",
    "SNAIVE_LEVELS",
    "EnsembleNetwork",
    "NetworkConfig",
    "RecurrentNetwork",
    "seasonal_profile",
    "seasonal_ratios",
    "seasonal_windows",
]

CELLS = ("lstm", "gru", "rnn")
OUTPUTS = ("direct", "recursive")
LEVELS = ("last", "season", "snaive", "adaptive", "detect", "none")
SEASONAL_LEVELS = ("season", "snaive", "adaptive", "detect")  # use the season
# levels that add a seasonal pattern (the seasonal naive or its average over seasons)
SNAIVE_LEVELS = ("snaive", "adaptive", "detect")
# patterns of level="detect": "auto" lets positive windows use multiplicative ones
SEASONAL_PATTERNS = ("auto", "additive")
CellName = Literal["lstm", "gru", "rnn"]
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]

_TORCH_CELLS: dict[str, type[nn.RNNBase]] = {
    "lstm": nn.LSTM,
    "gru": nn.GRU,
    "rnn": nn.RNN,
}


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of a :class:`RecurrentNetwork`."""

    cell: CellName = (
        "lstm"  # recurrent cell of every layer: "lstm", "gru" or "rnn" (tanh)
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
        if self.level not in LEVELS:
            raise ConfigError(f"unknown level {self.level!r}; choose one of {LEVELS}.")
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
      the last hidden state of the top layer.
    * ``quantiles``: the direct head gives ``horizon x len(quantiles)`` values,
      the forecast quantiles of every step (trained with the pinball loss).
    * ``"recursive"``: a one-step head ``yhat_{T+1} = w_y h_T + b_y``; each forecast is
      fed back as the next input, carrying the hidden states, until ``horizon`` steps
      exist. Training back-propagates through this roll-out.

    Level: with ``level="last"`` the network sees ``x_t - l`` in channel 0, the
    target (other channels, such as the observed indicator, pass unchanged), with
    ``l = x_T`` the last value, and forecasts ``yhat = l + net(x - l)``, i.e. changes
    from the last observed (scaled) value. ``level="season"`` uses the seasonal
    level ``l = mean(x_{T-m+1} .. x_T)`` over the last ``m = season_length`` values
    instead, which a single noisy or seasonal last value does not move.
    ``level="snaive"`` centres the inputs on that seasonal level too, but adds the
    network's output to the window's seasonal-naive forecast,
    ``yhat_{T+k} = x_{T+k-m\lceil k/m \rceil} + net(x - l)_k``: the network
    learns corrections to the benchmark that is hard to beat on seasonal data,
    and starts from it. ``level="adaptive"`` adds the output to the seasonal-naive
    forecast only in windows where that is the better description of the window
    itself (:func:`seasonal_windows`), else to the seasonal level: a barely
    seasonal series is not forced to start from its last season's noise.
    ``level="detect"`` decides per series instead of per window: the last input
    channel holds 1 for a series whose training part passed the seasonality
    test (:func:`~rnncast.data.seasonality.seasonal_series`) and 0 otherwise;
    flagged series start from the seasonal level plus the window's mean
    seasonal pattern, :math:`l + p_{(k-1) \bmod m}` (:func:`seasonal_profile`:
    the seasonal naive averaged over the window's whole seasons), the others
    from the seasonal level, and the network reads the flag too. With
    ``multiplicative`` the channel before the flag holds each series' scaled
    zero :math:`c = -\mathrm{loc}/\mathrm{scale}` (the value 0 of the data); it is
    not given to the layers. Flagged windows whose values all lie above it start
    from the multiplicative pattern instead, :math:`c + (l - c)\,r_{(k-1) \bmod
    m}` (:func:`seasonal_ratios`), so a season's swing grows with its level.
    This per-window normalisation lets one network serve windows at any level and
    extrapolate a trend beyond the range seen in training.

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
        self.head = nn.Linear(config.hidden[-1], out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forecast ``horizon`` steps from inputs (batch, lookback, input_size).

        Returns (batch, horizon), or (batch, horizon, n_quantiles) with quantiles.
        """
        zero = None
        if self.config.multiplicative:  # the scaled zero: for the start only
            zero = x[:, -1:, -2]  # (batch, 1)
            x = torch.cat([x[:, :, :-2], x[:, :, -1:]], dim=-1)
        if self.config.level == "none":
            out, last = self._forecast(x), None
        else:
            level = self.window_level(x)  # (batch, 1, 1)
            out = self._forecast(torch.cat([x[:, :, :1] - level, x[:, :, 1:]], dim=-1))
            last = self._offset(x, level, zero)  # (batch, horizon)
        if self.config.quantiles:
            out = out.view(len(x), self.config.horizon, -1)  # (batch, horizon, q)
            return out if last is None else out + last[:, :, None]
        return out if last is None else out + last  # (batch, horizon)

    def _offset(
        self, x: torch.Tensor, level: torch.Tensor, zero: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return what the output is added to: the level, or a seasonal start.

        ``zero`` (batch, 1): each window's scaled zero, with ``multiplicative``.
        """
        horizon, m = self.config.horizon, self.config.season_length
        flat = level[:, :, 0].expand(-1, horizon)
        if self.config.level not in SNAIVE_LEVELS:
            return flat
        repeats = -(-horizon // m)
        if self.config.level == "detect":
            profile = level[:, :, 0] + seasonal_profile(x[:, :, 0], m)
            if zero is not None:
                above = x[:, :, 0] - zero  # proportional to the data's values
                positive = (above > 0).all(dim=1, keepdim=True)
                ratios = seasonal_ratios(torch.where(positive, above, 1.0), m)
                scaled = zero + (level[:, :, 0] - zero) * ratios
                profile = torch.where(positive, scaled, profile)
            start = profile.repeat(1, repeats)[:, :horizon]
            return torch.where(x[:, -1:, -1] > 0.5, start, flat)  # the series' flag
        snaive = x[:, -m:, 0].repeat(1, repeats)[:, :horizon]
        if self.config.level == "snaive":
            return snaive
        return torch.where(seasonal_windows(x[:, :, 0], m), snaive, flat)

    def window_level(self, x: torch.Tensor) -> torch.Tensor:
        """Level ``l`` (batch, 1, 1) of each window's target channel (see ``level``)."""
        steps = self.config.season_length if self.config.level != "last" else 1
        return x[:, -steps:, :1].mean(dim=1, keepdim=True)

    def _forecast(self, x: torch.Tensor) -> torch.Tensor:
        top, states = self._run(
            x, [None] * len(self.layers)
        )  # (batch, lookback, H_last)
        step = self.head(top[:, -1])  # (batch, horizon) or (batch, 1)
        if self.config.output == "direct":
            return step
        steps = [step]
        for _ in range(self.config.horizon - 1):
            fed_back = _as_input(step, self.config.input_size)  # (batch, 1, inputs)
            top, states = self._run(fed_back, states)  # (batch, 1, H_last)
            step = self.head(top[:, -1])  # (batch, 1)
            steps.append(step)
        return torch.cat(steps, dim=1)  # (batch, horizon)

    def _run(
        self, x: torch.Tensor, states: list[State | None]
    ) -> tuple[torch.Tensor, list[State | None]]:
        new_states: list[State | None] = []
        for k, layer in enumerate(self.layers):
            if k > 0:
                x = self.dropout(x)
            x, state = layer(x, states[k])  # (batch, steps, hidden[k])
            new_states.append(state)
        return x, new_states


def seasonal_profile(y: torch.Tensor, season_length: int) -> torch.Tensor:
    r"""Each window's mean seasonal pattern over its whole seasons, (batch, m).

    The window ``y`` (batch, L) is cut into its last :math:`K = \lfloor L/m
    \rfloor` seasons :math:`s_1 .. s_K` (counted back from its end, so position
    :math:`j` of every season has the phase of :math:`y_{T-m+1+j}`); the profile
    is the mean of their deviations from their own means,

    .. math::
        p_j = \frac1K \sum_{k=1}^{K} \Big(s_{k,j} - \frac1m \sum_i s_{k,i}\Big),

    so the seasonal start :math:`l + p_{(k-1) \bmod m}` of step :math:`k` (with
    :math:`l` the last season's mean) averages :math:`K` seasons where the seasonal
    naive copies one: with :math:`K = 1` it is the seasonal naive.
    """
    seasons = _whole_seasons(y, season_length)
    return (seasons - seasons.mean(dim=2, keepdim=True)).mean(dim=1)


def seasonal_ratios(y: torch.Tensor, season_length: int) -> torch.Tensor:
    r"""Each window's mean seasonal ratios over its whole seasons, (batch, m).

    The multiplicative twin of :func:`seasonal_profile`, for positive windows
    ``y`` (batch, L): with the last :math:`K = \lfloor L/m \rfloor` seasons
    :math:`s_1 .. s_K`,

    .. math::
        r_j = \frac1K \sum_{k=1}^{K} \frac{s_{k,j}}{\frac1m \sum_i s_{k,i}},

    so a start :math:`l\,r_{(k-1) \bmod m}` keeps each season's swing in
    proportion to its level (classical multiplicative decomposition, as Theta
    deseasonalises). :math:`K = 1` gives the seasonal naive rescaled to the last
    season's mean, i.e. the seasonal naive itself.
    """
    seasons = _whole_seasons(y, season_length)
    return (seasons / seasons.mean(dim=2, keepdim=True)).mean(dim=1)


def _whole_seasons(y: torch.Tensor, m: int) -> torch.Tensor:
    """Cut windows ``y`` (batch, L) into their last ``K = L // m`` seasons, (b, K, m).

    Counted back from each window's end, so position ``j`` of every season has
    the phase of ``y_{T-m+1+j}``.
    """
    whole = (y.shape[1] // m) * m
    return y[:, y.shape[1] - whole :].reshape(len(y), whole // m, m)


def seasonal_windows(y: torch.Tensor, season_length: int) -> torch.Tensor:
    r"""Say which windows the seasonal naive describes better than a moving level.

    Inside each window ``y`` (batch, lookback), for :math:`t = m .. L-1`, compare
    the seasonal naive :math:`|y_t - y_{t-m}|` with the mean of the season before,
    :math:`|y_t - \tfrac1m \sum_{j=1}^{m} y_{t-j}|`, each averaged over ``t``;
    a window is seasonal when the first is smaller (always, when ``L <= m``).

    Returns
    -------
    Tensor of shape (batch, 1), bool
    """
    m = season_length
    if y.shape[1] <= m:
        return torch.ones(len(y), 1, dtype=torch.bool, device=y.device)
    sums = torch.nn.functional.pad(y.cumsum(dim=1), (1, 0))  # sums[:, t] = y[:, :t]
    season_means = (sums[:, m:-1] - sums[:, : -m - 1]) / m  # mean of y[t-m:t]
    seasonal_error = (y[:, m:] - y[:, :-m]).abs().mean(dim=1)
    level_error = (y[:, m:] - season_means).abs().mean(dim=1)
    return (seasonal_error < level_error)[:, None]


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Median forecast over members from inputs (batch, max lookback, inputs)."""
        outputs = torch.stack(
            [
                member(x[:, -lookback:])
                for member, lookback in zip(self.members, self.lookbacks, strict=True)
            ]
        )
        return torch.quantile(outputs, 0.5, dim=0)


def _as_input(step: torch.Tensor, input_size: int) -> torch.Tensor:
    """Turn a one-step forecast (batch, 1) into the next input (batch, 1, input_size).

    Extra channels (the observed indicator of masked models) are 1: a forecast
    fed back counts as observed.
    """
    extra = step.new_ones(step.shape[0], input_size - 1)
    return torch.cat([step, extra], dim=1)[:, None, :]
