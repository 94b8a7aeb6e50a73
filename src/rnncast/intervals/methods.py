"""How a Forecaster makes its prediction intervals: one small object per method.

:func:`interval_method` chooses the method once from the parameters
(``intervals``, ``levels``, ``conformal_errors``, ``conformal_unit``,
``conformal_per_series``); fitting and predicting then ask it, instead of testing
strings:

* which quantiles the network's head forecasts (:meth:`~NoIntervals.quantiles`);
* whether it is calibrated on the validation windows, with what scores
  (:meth:`~NoIntervals.scores`) in which per-series unit (:meth:`~NoIntervals.unit`);
* the bounds of a forecast (:meth:`~NoIntervals.bounds`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from rnncast.exceptions import ConfigError
from rnncast.intervals.conformal import (
    conformal_bounds,
    conformal_unit,
    conformalized_quantile_bounds,
    quantile_scores,
)
from rnncast.intervals.levels import (
    Levels,
    check_levels,
    level_quantiles,
    nested_bounds,
    quantile_bounds,
    sort_quantiles,
)
from rnncast.options import ForecasterParams

__all__ = [
    "CALIBRATION_ERRORS",
    "Calibration",
    "Conformal",
    "ConformalizedQuantiles",
    "NoIntervals",
    "QuantileHeads",
    "interval_method",
]

Array = NDArray[np.float64]
Bounds = tuple[Array, Array, str]


@dataclass(frozen=True)
class Calibration:
    """The calibration scores of a fitted model and each score row's series.

    ``scores``: (n_windows, horizon) conformal errors, or (n_windows, horizon,
    n_levels) conformity scores of quantile intervals, each divided by its
    series' unit; ``owners``: the fitted series (row of the ids) of each row
    (None in model files saved before per-series intervals: every row then
    counts as an independent window).
    """

    scores: Array
    owners: NDArray[np.int64] | None


@dataclass(frozen=True)
class NoIntervals:
    """``intervals=None``: point forecasts only; the base of the other methods.

    ``unit_kind``: the per-series unit of the calibration scores of the
    calibrated methods (``conformal_unit``).
    """

    name: str | None = field(default=None, init=False)
    unit_kind: str = "recent"
    calibrated = False  # calibrated on the validation windows
    # validation windows the fit should give the calibration by default: about
    # this many errors per horizon step, or in all ("auto": the defaults' windows)
    calibration_errors: int = 0
    errors_per_step: bool = True

    def quantiles(self) -> tuple[float, ...]:
        """Return the quantiles the network forecasts per step; () for point heads."""
        return ()

    def check_asked(self, levels: Levels) -> None:
        """ConfigError unless the model can give intervals at ``levels``."""
        if levels:
            raise ConfigError(
                "this model has no intervals: they are calibrated on the validation "
                "windows, so fit it with validation=True and intervals='auto' (the "
                "default), 'conformal', 'quantile' or 'cqr' to predict with level=."
            )

    def unit(
        self,
        values: Array,
        offsets: NDArray[np.int64],
        lengths: NDArray[np.int64],
        season_length: int,
    ) -> Array | None:
        """Return each series' unit of the calibration scores; None if uncalibrated.

        :func:`~rnncast.intervals.conformal.conformal_unit` of ``unit_kind``.
        """
        if not self.calibrated:
            return None
        return conformal_unit(values, offsets, lengths, season_length, self.unit_kind)

    def scores(self, z: Array, targets: Array, quantiles: tuple[float, ...]) -> Array:
        """Calibration scores of outputs ``z`` (mixed, scaled) on ``targets``."""
        raise NotImplementedError

    def bounds(
        self,
        z: Array,
        levels: Levels,
        quantiles: tuple[float, ...],
        unit: Array | None,
        calibration: Calibration | None,
        rows: NDArray[np.int64] | None = None,
    ) -> Bounds:
        """Lower and upper bounds (n, horizon, n_levels) of outputs ``z``, scaled.

        ``unit``: each forecast row's unit; ``rows``: each row's fitted series
        (-1 for a new one), for per-series calibration. Also returns how the
        bounds were computed, e.g. ``"per-step, signed"``.
        """
        empty = np.empty((z.shape[0], z.shape[1], 0))
        return empty, empty, ""


@dataclass(frozen=True)
class Conformal(NoIntervals):
    """Split-conformal intervals from the validation errors (any level).

    ``signed``: each tail from its own quantile of the signed errors
    (``conformal_errors="signed"``); ``per_series``: each series from its own
    errors where it has enough (``conformal_per_series``).
    """

    name: str | None = field(default="conformal", init=False)
    signed: bool = True
    per_series: bool = False
    calibrated = True

    def check_asked(self, levels: Levels) -> None:
        """Any level works: nothing to check."""

    def scores(self, z: Array, targets: Array, quantiles: tuple[float, ...]) -> Array:
        """Return the errors y - yhat (n_windows, horizon), NaN at gaps."""
        return targets - z

    def bounds(
        self,
        z: Array,
        levels: Levels,
        quantiles: tuple[float, ...],
        unit: Array | None,
        calibration: Calibration | None,
        rows: NDArray[np.int64] | None = None,
    ) -> Bounds:
        """Return the bounds of :func:`~rnncast.intervals.conformal_bounds`."""
        if not levels:
            return super().bounds(z, levels, quantiles, unit, calibration)
        return conformal_bounds(
            z,
            calibration.scores,
            unit,
            levels,
            signed=self.signed,
            owners=calibration.owners,
            overlap=z.shape[1],  # validation windows are 1 step apart
            rows=rows if self.per_series else None,
        )


@dataclass(frozen=True)
class QuantileHeads(NoIntervals):
    """Quantile heads trained with the pinball loss, for the levels of ``levels``."""

    name: str | None = field(default="quantile", init=False)
    levels: Levels = (80, 95)

    def quantiles(self) -> tuple[float, ...]:
        """Return the median and both ends of every level, ascending."""
        lower, upper = level_quantiles(self.levels)
        return tuple(sorted({round(q, 6) for q in (*lower, 0.5, *upper)}))

    def check_asked(self, levels: Levels) -> None:
        """ConfigError for a level the heads were not trained for."""
        missing = [lv for lv in levels if lv not in self.levels]
        if missing:
            raise ConfigError(
                f"the quantile heads were trained for levels {list(self.levels)}, "
                f"not {missing}; fit with levels= including them, or use "
                "intervals='conformal', which serves any level."
            )

    def bounds(
        self,
        z: Array,
        levels: Levels,
        quantiles: tuple[float, ...],
        unit: Array | None,
        calibration: Calibration | None,
        rows: NDArray[np.int64] | None = None,
    ) -> Bounds:
        """Return the heads' quantiles at each level's ends (trained levels only)."""
        if not levels:
            return super().bounds(z, levels, quantiles, unit, calibration)
        lower, upper = quantile_bounds(z, quantiles, levels)
        return lower, upper, "quantile heads"


@dataclass(frozen=True)
class ConformalizedQuantiles(QuantileHeads):
    """Conformalized quantile regression (Romano et al., 2019) of the heads."""

    name: str | None = field(default="cqr", init=False)
    calibrated = True

    def scores(self, z: Array, targets: Array, quantiles: tuple[float, ...]) -> Array:
        """:func:`~rnncast.intervals.conformal.quantile_scores` of every level."""
        lower, upper = quantile_bounds(sort_quantiles(z), quantiles, self.levels)
        return quantile_scores(lower, upper, targets)

    def bounds(
        self,
        z: Array,
        levels: Levels,
        quantiles: tuple[float, ...],
        unit: Array | None,
        calibration: Calibration | None,
        rows: NDArray[np.int64] | None = None,
    ) -> Bounds:
        """Return the heads' bounds conformalized, nested around the median."""
        lower, upper, _ = super().bounds(z, levels, quantiles, unit, calibration)
        if not levels:
            return lower, upper, ""
        picked = [self.levels.index(lv) for lv in levels]
        lower, upper, method = conformalized_quantile_bounds(
            lower, upper, calibration.scores[:, :, picked], unit, levels
        )
        median = z[:, :, quantiles.index(0.5)]
        lower, upper = nested_bounds(lower, upper, median)
        return lower, upper, method


# calibration errors the fit gives intervals by default (see NoIntervals)
CALIBRATION_ERRORS = 40


def interval_method(params: ForecasterParams) -> NoIntervals:
    """Return the interval method of validated ``params``.

    ``intervals="auto"`` is conformal without windows of its own (validation
    windows only where the default one gives fewer than
    :data:`CALIBRATION_ERRORS` errors in all), and no intervals without validation.
    """
    levels = check_levels(params.levels)
    if params.intervals in ("conformal", "auto"):
        if params.intervals == "auto" and not params.validation:
            return NoIntervals()
        return Conformal(
            signed=params.conformal_errors == "signed",
            unit_kind=params.conformal_unit,
            per_series=params.conformal_per_series,
            calibration_errors=CALIBRATION_ERRORS,
            errors_per_step=params.intervals == "conformal",
        )
    if params.intervals == "quantile":
        return QuantileHeads(levels=levels)
    if params.intervals == "cqr":
        return ConformalizedQuantiles(
            levels=levels,
            unit_kind=params.conformal_unit,
            calibration_errors=CALIBRATION_ERRORS,
        )
    return NoIntervals()
