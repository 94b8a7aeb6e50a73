"""What a fit will do, decided before any training, from the parameters and the data.

:func:`make_plan` turns validated :class:`~rnncast.options.ForecasterParams`, the
data's frequency and its number of series into a :class:`FitPlan`: the seasonal
periods, each ensemble member's lookback, the validation windows and holdout, the
network and training configurations, and the interval and mix strategies. Pure
functions: nothing here reads data or trains.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from rnncast.checks import require_positive_int
from rnncast.collective import SINGLE_PROCESS, Collective
from rnncast.combine import NetworkAlone, mixer
from rnncast.data.covariates import NO_COVARIATES, CovariateLayout
from rnncast.data.seasonality import as_periods, first_season
from rnncast.data.series import Freq, seasons_from_freq
from rnncast.exceptions import ConfigError
from rnncast.intervals.methods import NoIntervals, interval_method
from rnncast.models.networks import NetworkConfig
from rnncast.models.window_levels import SEASONAL_LEVELS, SNAIVE_LEVELS
from rnncast.options import MIN_VALUES, ForecasterParams
from rnncast.training import TrainConfig

__all__ = [
    "LOOKBACK_FACTORS",
    "LOOKBACK_SEASON_LIMIT",
    "FitPlan",
    "declared_seasons",
    "input_size",
    "make_plan",
    "member_lookbacks",
    "network_config",
    "resolve_device",
    "season_length",
    "window_season",
]

LOOKBACK_FACTORS = (1.0, 1.5, 2.0)  # lookbacks of ensemble members, times the base
LOOKBACK_SEASON_LIMIT = 336  # longest period the default lookback covers (a week
# of half-hours): an LSTM's cost grows with its lookback, and a longer period
# reaches the forecast through the classical mix


@dataclass(frozen=True)
class FitPlan:
    """Everything a fit decides before it trains.

    ``seasons`` are the seasonal periods of the fit, shortest first;
    ``season_length`` is the first, rounded (the season of the seasonal naive,
    the scale and the window start). ``level_choice`` is ``"last"`` for the plan
    of the naive check's second network (:meth:`choosing_last`), else None.
    ``covariates``: what the network reads besides the target; ``collective``:
    the processes of a data-parallel fit (:mod:`rnncast.collective`), each
    holding its own series.
    """

    params: ForecasterParams
    season_length: int
    seasons: tuple[float, ...]
    lookbacks: tuple[int, ...]
    validation_windows: int
    network: NetworkConfig
    training: TrainConfig
    intervals: NoIntervals
    mix: NetworkAlone
    device: torch.device
    masked: bool = False
    level_choice: str | None = None
    deadline: float | None = None  # time.perf_counter() when training must end
    covariates: CovariateLayout = NO_COVARIATES
    collective: Collective = SINGLE_PROCESS

    def started(self) -> FitPlan:
        """Return this plan with its ``deadline``: ``time_limit`` seconds from now."""
        limit = self.params.time_limit
        deadline = None if limit is None else time.perf_counter() + limit
        return dataclasses.replace(self, deadline=deadline)

    def training_config(self, trainings_left: int) -> TrainConfig:
        """Return the training config of the next of ``trainings_left`` trainings.

        Under a deadline, the time left is shared equally among them.
        """
        if self.deadline is None:
            return self.training
        left = max(0.0, self.deadline - time.perf_counter())
        return dataclasses.replace(self.training, time_limit=left / trainings_left)

    @property
    def lookback(self) -> int:
        """The longest member lookback: every window the networks read is this long."""
        return max(self.lookbacks)

    @property
    def holdout(self) -> int:
        """Values held out at each series' end for validation (0 without it)."""
        if not self.params.validation:
            return 0
        return int(self.params.horizon) + self.validation_windows - 1

    @property
    def window(self) -> int:
        """Values a series needs for one training window before its holdout too."""
        return self.lookback + int(self.params.horizon) + self.holdout  # type: ignore[arg-type]

    @property
    def min_length(self) -> int:
        """Fewest observed values of a series the network forecasts (0: all).

        Shorter series get their last value; only where short series are padded
        (``masked``), else they are an error.
        """
        return MIN_VALUES if self.masked else 0

    def choosing_last(self) -> FitPlan:
        """Return this plan with the network forecasting changes from the last value."""
        config = network_config(
            self.params,
            self.seasons,
            self.lookbacks,
            level_choice="last",
            masked=self.masked,
            covariates=self.covariates,
        )
        config = dataclasses.replace(config, quantiles=self.network.quantiles)
        return dataclasses.replace(self, network=config, level_choice="last")


def make_plan(
    params: ForecasterParams,
    freq: Freq,
    n_series: int,
    level_choice: str | None = None,
    *,
    masked: bool | None = None,
    seasons: tuple[float, ...] | None = None,
    covariates: CovariateLayout | None = None,
    collective: Collective = SINGLE_PROCESS,
) -> FitPlan:
    """Plan the fit of validated ``params`` on ``n_series`` series of ``freq``.

    ``masked``: whether gaps and short series are masked (default: only with
    ``missing="mask"``; :func:`~rnncast.forecaster.fitting.fit_state` resolves
    ``"auto"`` on the data). ``seasons``: the seasonal periods (default:
    :func:`declared_seasons`; a fit keeps those the data shows,
    :func:`~rnncast.forecaster.fallbacks.planned`). ``covariates``: their
    layout (default: the parameters' at ``freq``, without static covariates).
    ``n_series`` counts the series of every process of ``collective``.
    """
    if masked is None:
        masked = params.missing == "mask"
    if seasons is None:
        seasons = declared_seasons(params, freq)
    if covariates is None:
        covariates = CovariateLayout.of(params, freq)
    season = first_season(seasons)
    lookbacks = member_lookbacks(params, seasons)
    intervals = interval_method(params)
    if params.season_inputs and season < 2:
        raise ConfigError(
            f"season_inputs=True needs a season of at least 2 steps, but the "
            f"season length is {season} (frequency {freq!r}); pass "
            "season_length=, or leave season_inputs off."
        )
    network = network_config(
        params,
        seasons,
        lookbacks,
        level_choice,
        masked=masked,
        covariates=covariates,
    )
    network = dataclasses.replace(network, quantiles=intervals.quantiles())
    training = TrainConfig(
        epochs=params.epochs,
        batch_size=params.batch_size,
        learning_rate=params.learning_rate,
        loss="pinball" if network.quantiles else params.loss,  # type: ignore[arg-type]
        clip_norm=params.clip_norm,
        patience=params.patience,
        quantiles=network.quantiles,
        cuda_graphs=params.cuda_graphs,
        max_steps=params.max_steps,
        windows_per_epoch=params.windows_per_epoch,
    )
    return FitPlan(
        params=params,
        season_length=season,
        seasons=tuple(seasons),
        lookbacks=tuple(lookbacks),
        validation_windows=_validation_windows(params, n_series, intervals),
        network=network,
        training=training,
        intervals=intervals,
        mix=mixer(params.combine),
        device=resolve_device(params.device),
        masked=masked,
        level_choice=level_choice,
        covariates=covariates,
        collective=collective,
    )


def declared_seasons(params: ForecasterParams, freq: Freq) -> tuple[float, ...]:
    """``season_length`` as a tuple of periods, or every usual period of ``freq``.

    The periods of the frequency (:func:`~rnncast.data.series.seasons_from_freq`)
    are candidates: a fit keeps those its data shows.
    """
    value = params.season_length
    if value is None:
        return seasons_from_freq(freq)
    if isinstance(value, numbers.Integral):
        return (require_positive_int("season_length", value),)
    return tuple(value)


def season_length(params: ForecasterParams, freq: Freq) -> int:
    """Return the first of :func:`declared_seasons`, rounded: the single season."""
    return first_season(declared_seasons(params, freq))


def member_lookbacks(
    params: ForecasterParams, seasons: Sequence[float] | int
) -> list[int]:
    """Lookback of each ensemble member: ``lookback`` cycled over the members.

    Default for one network: ``max(2 * horizon, 2 * m_1, ceil(m_k))`` with
    :math:`m_1` the first season (rounded) and :math:`m_k` the longest further
    period up to :data:`LOOKBACK_SEASON_LIMIT` steps, so a window holds the
    same hour last week of every hour it forecasts. An ensemble cycles through
    that base times 1, 1.5 and 2 (rounded up), so its members see different
    stretches of history.
    """
    periods = as_periods(seasons)
    lookback = params.lookback
    if lookback is None:
        covered = [p for p in periods[1:] if p <= LOOKBACK_SEASON_LIMIT]
        base = max(
            2 * int(params.horizon),  # type: ignore[arg-type]
            2 * first_season(periods),
            math.ceil(max(covered, default=0)),
        )
        choices = [math.ceil(base * f) for f in LOOKBACK_FACTORS]
    elif isinstance(lookback, int):
        choices = [int(lookback)]
    else:
        choices = [int(v) for v in lookback]
    if params.ensemble == 1:
        return choices[:1]
    return [choices[k % len(choices)] for k in range(params.ensemble)]


def window_season(seasons: Sequence[float], lookbacks: Sequence[int]) -> int:
    """Return the season a window's start is built from: the longest that fits.

    The longest of ``seasons`` (rounded) that is at most the shortest lookback
    and :data:`LOOKBACK_SEASON_LIMIT`, else the first: with a day and a week of
    hourly data and a week-long window, the window's last week (which
    repeats the weekend as well as the day), where the day's pattern alone
    would miss the weekend.
    """
    fitting = [
        round(p)
        for p in seasons
        if round(p) <= min(min(lookbacks), LOOKBACK_SEASON_LIMIT)
    ]
    return max(fitting, default=first_season(seasons))


def network_config(
    params: ForecasterParams,
    seasons: Sequence[float],
    lookbacks: tuple[int, ...] | list[int],
    level_choice: str | None = None,
    *,
    masked: bool = False,
    covariates: CovariateLayout = NO_COVARIATES,
) -> NetworkConfig:
    """Return the members' architecture, with the window level resolved and checked.

    ``window_level="auto"``: ``"detect"`` for the direct head, ``"season"`` for
    the recursive one, ``"last"`` when the shortest lookback is shorter than a
    season, or ``level_choice`` where the naive check chose it. The window
    level's season is :func:`window_season`. Point heads (the caller adds the
    interval method's quantiles). The inputs hold ``covariates``' channels, and
    the direct head their future-known part at every forecast step.
    """
    season = window_season(seasons, lookbacks)
    level = _resolved_level(params, level_choice)
    shortest = min(lookbacks)
    if params.window_level == "auto" and shortest < season:
        level = "last"  # no whole season in the shortest window
    config = NetworkConfig(
        cell=params.cell,  # type: ignore[arg-type]
        hidden=int_tuple(params.hidden),
        **dilation_layout(params.dilations),
        horizon=int(params.horizon),  # type: ignore[arg-type]
        dropout=params.dropout,
        output=params.output,  # type: ignore[arg-type]
        level=level,  # type: ignore[arg-type]
        input_size=input_size(params, level, masked, len(seasons)) + covariates.inputs,
        future_size=covariates.step_inputs(params.output),
        season_length=season if level in SEASONAL_LEVELS else 1,
        multiplicative=(
            level == "detect"
            and params.transform == "none"
            and params.seasonal_pattern == "auto"
        ),
    )
    if config.level in SNAIVE_LEVELS and shortest < season:
        raise ConfigError(
            f"window_level={config.level!r} repeats the last season of each window, "
            f"but lookback={shortest} is shorter than season_length={season}; use a "
            "lookback of at least one season."
        )
    return config


def dilation_layout(value: Any) -> dict[str, tuple[int, ...]]:
    """``dilations`` as the network config holds it: per layer, and group sizes.

    ``None`` -> every layer 1; ``(1, 24)`` -> one dilation per layer, one plain
    stack; ``((1, 4), (24, 168))`` -> four layers in two residual groups.
    """
    if value is None:
        return {"dilations": (), "residual_groups": ()}
    if isinstance(value, numbers.Integral) or not isinstance(value[0], Sequence):
        return {"dilations": int_tuple(value), "residual_groups": ()}
    return {
        "dilations": tuple(int(d) for group in value for d in group),
        "residual_groups": tuple(len(group) for group in value),
    }


def int_tuple(value: int | Sequence[int]) -> tuple[int, ...]:
    """One int or a sequence of them, as a tuple of ints."""
    values = (value,) if isinstance(value, numbers.Integral) else value
    return tuple(int(v) for v in values)


def _resolved_level(params: ForecasterParams, level_choice: str | None) -> str:
    if level_choice is not None:
        return level_choice
    if params.window_level != "auto":
        return params.window_level
    return "detect" if params.output == "direct" else "season"


def input_size(
    params: ForecasterParams, level: str, masked: bool, n_seasons: int = 1
) -> int:
    """Input channels the layers read: the target, then the optional ones."""
    return (
        (2 if masked else 1)  # + the observed indicator
        + (2 * n_seasons if params.season_inputs else 0)  # + sin, cos of each phase
        + (level == "detect")  # + the seasonal flag
    )


def _validation_windows(
    params: ForecasterParams, n_series: int, intervals: NoIntervals
) -> int:
    """Return ``validation_windows``, by default 1.

    For calibrated intervals, by default enough windows (at most ``horizon``) that
    every horizon step gets about ``intervals.calibration_errors`` errors
    (``conformal``, ``cqr``), or all steps together do (``auto``: one window
    where ``n_series * horizon`` reaches it).
    """
    if params.validation_windows is not None:
        return int(params.validation_windows)
    if not intervals.calibrated:
        return 1
    horizon = int(params.horizon)  # type: ignore[arg-type]
    per_window = n_series if intervals.errors_per_step else n_series * horizon
    return max(1, min(horizon, math.ceil(intervals.calibration_errors / per_window)))


def resolve_device(device: str) -> torch.device:
    """Return the torch device of ``device`` ("auto": CUDA when present, else CPU)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ConfigError(
            f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'."
        ) from e
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device='cuda' but no CUDA GPU is available; use 'auto' or 'cpu'."
        )
    return resolved
