"""Per-series scaling, fitted on the training part of each series only.

A scaler is a per-series power transform (optional) followed by a location and scale:
the forward map is ``z = (g(y) - loc) / scale`` with ``g(y)`` the Box-Cox transform of
``y + shift`` at the series' ``power`` (the log for power 0; ``log(1 + y)`` is power 0
and shift 1; the identity without a transform), and the inverse
``y = g^-1(z * scale + loc)``. Both work on the flat value layout of
:class:`~rnncast.data.frame.SeriesData` or on rows, one a series.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from rnncast.collective import SINGLE_PROCESS, Collective
from rnncast.data.windows import series_positions
from rnncast.exceptions import ConfigError
from rnncast.options import SCALERS, TRANSFORMS

__all__ = [
    "MAD_TO_STD",
    "ScalerStats",
    "box_cox",
    "fit_scaler",
    "guerrero_power",
    "inverse_box_cox",
    "inverse_transform",
    "lagged_maes",
    "lowest_allowed",
    "per_value",
    "recent_change_deviations",
    "resolve_transform",
    "seasonal_mae",
    "seasonal_maes",
    "training_part",
    "transform",
    "transform_rows",
]

ScalerKind = Literal["standard", "robust", "mase", "none"]
TransformKind = Literal["auto", "log", "log1p", "boxcox", "none"]

# Normal-consistency constant: for Gaussian data 1.4826 * MAD estimates the std.
MAD_TO_STD = 1.4826


@dataclass(frozen=True)
class ScalerStats:
    """Per-series location, scale, Box-Cox power and shift, each (n_series,).

    ``power`` and ``shift`` are None without a transform; power 0 is the log.
    ``seasonal`` is 1.0 for a series whose training part passed the seasonality
    test (:func:`~rnncast.data.seasonality.is_seasonal`), else 0.0; it is set
    only for networks with ``level="detect"``, which read it as an input channel.
    With covariates (:mod:`rnncast.data.covariates`), ``exog_loc`` and
    ``exog_scale`` (n_series, k) scale the dynamic ones and ``static``
    (n_series, s) holds each series' encoded static ones.
    """

    loc: NDArray[np.float64]
    scale: NDArray[np.float64]
    power: NDArray[np.float64] | None = None
    shift: NDArray[np.float64] | None = None
    seasonal: NDArray[np.float64] | None = None
    exog_loc: NDArray[np.float64] | None = None
    exog_scale: NDArray[np.float64] | None = None
    static: NDArray[np.float64] | None = None

    def take(self, rows: NDArray[np.int64] | list[int]) -> ScalerStats:
        """Return the statistics of the series ``rows`` (in that order)."""
        index = np.asarray(rows, dtype=np.int64)
        exog_loc, exog_scale, static = (
            None if a is None else a[index]
            for a in (self.exog_loc, self.exog_scale, self.static)
        )
        return dataclasses.replace(
            self.expanded(lambda a: a[index]),
            exog_loc=exog_loc,
            exog_scale=exog_scale,
            static=static,
        )

    def expanded(
        self, expand: Callable[[NDArray[np.float64]], NDArray[np.float64]]
    ) -> ScalerStats:
        """Return the target's statistics with ``expand`` applied to every array.

        The covariates' statistics are left out (the transforms do not read them).
        """
        power, shift, seasonal = (
            None if a is None else expand(a)
            for a in (self.power, self.shift, self.seasonal)
        )
        return ScalerStats(expand(self.loc), expand(self.scale), power, shift, seasonal)


def resolve_transform(
    kind: str,
    values: NDArray[np.float64],
    collective: Collective = SINGLE_PROCESS,
) -> str:
    """Check ``kind`` against the data; ``"auto"`` becomes "log" or "none".

    ``"auto"`` is the log when every observed value is positive (prices,
    visitors: multiplicative seasonality and growth become additive),
    ``"log1p"`` when some are 0 and none negative (counts), else none.
    ``"log"`` and ``"boxcox"`` need positive values, ``"log1p"`` non-negative ones.
    ``collective``: ``values`` are one process's share of a data-parallel fit's.
    """
    if kind not in TRANSFORMS:
        raise ConfigError(f"unknown transform {kind!r}; choose one of {TRANSFORMS}.")
    if kind != "auto":
        return kind
    observed = values[~np.isnan(values)]
    if collective.all((observed > 0).all()):
        return "log"
    return "log1p" if collective.all((observed >= 0).all()) else "none"


def lowest_allowed(kind: str) -> float | None:
    """Values must exceed this for transform ``kind`` (None: any value)."""
    return {"log": 0.0, "boxcox": 0.0, "log1p": -1.0}.get(kind)


def box_cox(y: NDArray[np.float64], power: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""Box-Cox: :math:`g(y) = (y^\lambda - 1) / \lambda`, or :math:`\log y` at 0.

    ``power`` broadcasts against ``y``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        powered = (np.power(y, power) - 1) / np.where(power == 0, 1, power)
        return np.where(power == 0, np.log(y), powered)


def inverse_box_cox(
    g: NDArray[np.float64], power: NDArray[np.float64]
) -> NDArray[np.float64]:
    r"""Inverse Box-Cox: :math:`y = (\lambda g + 1)^{1/\lambda}`, :math:`e^g` at 0.

    Where :math:`\lambda g + 1 \le 0` (beyond the transform's range) the result is 0.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        base = np.maximum(power * g + 1, 0.0)
        powered = np.power(base, 1 / np.where(power == 0, 1, power))
        return np.where(power == 0, np.exp(g), powered)


def guerrero_power(
    y: NDArray[np.float64], season_length: int, bounds: tuple[float, float] = (0, 1)
) -> float:
    r"""Box-Cox power by Guerrero's method (1993), searched on a grid within ``bounds``.

    The series is cut into blocks of ``max(2, season_length)`` values; for each
    candidate :math:`\lambda` the ratios :math:`s_b / m_b^{1 - \lambda}` (block
    standard deviation over block mean) should be equal if :math:`\lambda` makes
    the variance constant; the :math:`\lambda` with the smallest coefficient of
    variation of the ratios is returned. Bounds [0, 1] keep the inverse stable:
    0 is the log, 1 leaves the series' shape unchanged.
    """
    y = y[~np.isnan(y)]
    width = max(2, season_length)
    n_blocks = len(y) // width
    if n_blocks < 2:
        return 0.0
    blocks = y[len(y) - n_blocks * width :].reshape(n_blocks, width)
    means, stds = blocks.mean(axis=1), blocks.std(axis=1, ddof=1)
    if not (means > 0).all() or not (stds > 0).any():
        return 1.0
    grid = np.linspace(bounds[0], bounds[1], 21)
    ratios = stds[None, :] / means[None, :] ** (1 - grid[:, None])  # (grid, blocks)
    variation = ratios.std(axis=1, ddof=1) / ratios.mean(axis=1)
    return float(grid[int(np.argmin(variation))])


def fit_scaler(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    train_lengths: NDArray[np.int64],
    kind: ScalerKind = "standard",
    power: TransformKind = "none",
    season_length: int = 1,
) -> ScalerStats:
    """Fit per-series statistics on the first ``train_lengths[i]`` values of series i.

    ``power``: ``"log"`` (power 0 for every series), ``"log1p"`` (power 0, shift 1),
    ``"boxcox"`` (each series' power by :func:`guerrero_power` on its training
    part, with ``season_length``) or ``"none"``; ``loc`` and ``scale`` are then
    fitted on the transformed values.

    Notes
    -----
    * ``"standard"``: ``loc = mean(y)``, ``scale = std(y)`` (population, ddof=0).
    * ``"robust"``: ``loc = median(y)``, ``scale = 1.4826 * median(|y - median(y)|)``
      (the MAD, consistent with the std for Gaussian data), so outliers barely move it.
    * ``"mase"``: ``loc = mean(y)``, ``scale = mean(|y_t - y_{t-m}|)`` over the
      training part, the in-sample seasonal-naive MAE with ``m = season_length``
      (lag 1 when the part is shorter than a season plus one): the denominator of
      MASE, so that an absolute error in scaled units is the series' MASE and
      the MAE loss trains for the metric itself.
    * ``"none"``: ``loc = 0``, ``scale = 1``.

    NaN gaps (``missing="mask"``) are left out of the statistics; a series with no
    observed value in its training part (a short, padded series) is scaled by its
    whole observed history.

    A scale that is zero or negligible against the level (``scale <= 1e-12 |loc|``,
    a constant series) is replaced by 1, so the map stays invertible and a constant
    series is simply shifted to 0.
    """
    if kind not in SCALERS:
        raise ConfigError(f"unknown scaler {kind!r}; choose one of {SCALERS}.")
    n_series = len(offsets) - 1
    loc = np.zeros(n_series)
    scale = np.ones(n_series)
    powers = _powers(values, offsets, train_lengths, power, season_length)
    shifts = None if powers is None else np.full(n_series, float(power == "log1p"))
    if powers is not None:
        values = _powered(
            values, per_value(ScalerStats(loc, scale, powers, shifts), offsets)
        )
    if kind != "none":
        done = _ordinary_statistics(
            values, offsets, train_lengths, kind, season_length, loc, scale
        )
        for i in np.flatnonzero(~done):
            part = training_part(values, offsets, train_lengths, i)
            if kind == "mase":
                loc[i], scale[i] = _seasonal_mae_statistics(part, season_length)
            else:
                loc[i], scale[i] = _statistics(part[~np.isnan(part)], kind)
    # Relative, not absolute: a series of values near 1e-300 is not constant.
    negligible = (scale == 0) | (scale <= 1e-12 * np.abs(loc))
    scale[negligible] = 1.0
    return ScalerStats(loc=loc, scale=scale, power=powers, shift=shifts)


def seasonal_mae(part: NDArray[np.float64], season_length: int) -> float | None:
    r"""In-sample MAE of seasonal naive, :math:`\operatorname{mean}_t |y_t - y_{t-m}|`.

    :func:`seasonal_maes` of one series: None where that gives NaN.
    """
    offsets = np.array([0, len(part)], dtype=np.int64)
    mae = seasonal_maes(part, offsets, offsets[1:], season_length)[0]
    return None if np.isnan(mae) else float(mae)


def _ordinary_statistics(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    train_lengths: NDArray[np.int64],
    kind: ScalerKind,
    season_length: int,
    loc: NDArray[np.float64],
    scale: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Fill ``loc`` and ``scale`` of the ordinary series at once; say which they are.

    Ordinary: scaler ``"standard"`` or ``"mase"``, a training part without gaps
    and with ``1e-150 < max |y| < 1e150`` (or all zeros). The same formulas as
    :func:`_statistics` and :func:`_seasonal_mae_statistics`, as sums over each
    series' stretch of the flat array (``np.add.reduceat``, values outside the
    training part zeroed) instead of a Python loop; the other series are left to
    the per-series path.
    """
    n_series = len(offsets) - 1
    if kind not in ("standard", "mase") or n_series == 0 or len(values) == 0:
        return np.zeros(n_series, dtype=bool)
    starts = offsets[:-1]
    _, train, counts = _training_mask(offsets, train_lengths)
    x = np.where(train, values, 0.0)
    gaps = np.add.reduceat(np.isnan(x), starts) > 0
    x = np.where(np.isnan(x), 0.0, x)
    largest = np.maximum.reduceat(np.abs(x), starts)
    usable = (counts > 0) & ~gaps
    zero = usable & (largest == 0)
    ordinary = usable & (largest > 1e-150) & (largest < 1e150)
    size = np.maximum(counts, 1)
    mean = np.add.reduceat(x, starts) / size
    with np.errstate(over="ignore"):  # only in series left to the per-series path
        deviation = np.where(train, x - np.repeat(mean, np.diff(offsets)), 0.0) ** 2
    std = np.sqrt(np.add.reduceat(deviation, starts) / size)
    loc[ordinary], scale[ordinary] = mean[ordinary], std[ordinary]
    loc[zero], scale[zero] = 0.0, 1.0
    if kind == "mase":
        mae = seasonal_maes(values, offsets, train_lengths, season_length)
        scale[ordinary] = np.where(np.isnan(mae), std, mae)[ordinary]
    return ordinary | zero


def seasonal_maes(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    lengths: NDArray[np.int64],
    season_length: int,
) -> NDArray[np.float64]:
    r"""In-sample seasonal-naive MAE of the first ``lengths[i]`` values of every series.

    :math:`d_i = \operatorname{mean}_t |y_t - y_{t-m}|` (:func:`lagged_maes`), or
    at lag 1 where no two values a season apart are observed or that mean is zero
    or not finite. Returns an array of shape (n_series,), NaN where neither lag
    gives a positive, finite mean.
    """
    result = np.full(len(offsets) - 1, np.nan)
    for lag in dict.fromkeys((season_length, 1)):
        mae = lagged_maes(values, offsets, lengths, lag)
        found = np.isnan(result) & np.isfinite(mae) & (mae > 0)
        result[found] = mae[found]
    return result


def lagged_maes(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    lengths: NDArray[np.int64],
    lag: int,
) -> NDArray[np.float64]:
    r"""Mean absolute change over ``lag`` steps of every series' first ``lengths[i]``.

    :math:`\frac{1}{|P_i|} \sum_{t \in P_i} |y_t - y_{t-lag}|` over the pairs
    :math:`P_i` whose both values are observed (a gap, or an undefined difference
    such as inf - inf, leaves its pairs out), summed per series of the flat array
    at once (``np.add.reduceat``). The one implementation of the seasonal-naive
    MAE, the scale of MASE (:func:`~rnncast.evaluation.metrics.mase`), of the
    ``"mase"`` scaler and of conformal intervals. Returns an array of shape
    (n_series,), NaN where a series has no such pair.
    """
    n_series = len(offsets) - 1
    if n_series < 1 or len(values) == 0:
        return np.full(n_series, np.nan)
    position, train, _ = _training_mask(offsets, lengths)
    changes = np.abs(_lagged_changes(values, lag))
    paired = train & (position >= lag) & ~np.isnan(changes)
    starts = offsets[:-1]
    pairs = np.add.reduceat(paired, starts)
    total = np.add.reduceat(np.where(paired, changes, 0.0), starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, total / np.maximum(pairs, 1), np.nan)


def _training_mask(
    offsets: NDArray[np.int64], train_lengths: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
    """Per value: its position in its series and whether it is in the training part.

    Also returns each series' training length, capped at the series' length.
    """
    lengths = np.diff(offsets)
    counts = np.minimum(train_lengths, lengths)
    position = series_positions(offsets)
    return position, position < np.repeat(counts, lengths), counts


def _lagged_changes(values: NDArray[np.float64], lag: int) -> NDArray[np.float64]:
    """:math:`y_t - y_{t-lag}` at every flat position (NaN for the first ``lag``).

    Differences across two series' boundary are there too: callers keep only
    positions at least ``lag`` into their series.
    """
    changes = np.full(len(values), np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        changes[lag:] = values[lag:] - values[:-lag]
    return changes


def recent_change_deviations(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    lengths: NDArray[np.int64],
    season_length: int,
    count: int,
) -> NDArray[np.float64]:
    r"""Recent noise of every series: spread of its last seasonal changes.

    Of the seasonal changes :math:`D_t = y_t - y_{t-m}` whose :math:`y_t` is among
    the last ``count`` positions of the first ``lengths[i]`` values of series
    ``i`` (pairs with a gap left out), the mean absolute deviation from their
    mean, :math:`\operatorname{mean}_t |D_t - \bar D|`: the seasonal-naive MAE
    with the recent drift :math:`\bar D` taken out, so that a steady trend,
    which a forecaster follows, does not count as noise.

    Returns an array of shape (n_series,), NaN where fewer than two changes are
    observed.
    """
    n_series = len(offsets) - 1
    if n_series < 1 or len(values) == 0:
        return np.full(n_series, np.nan)
    position, train, counts = _training_mask(offsets, lengths)
    starts = offsets[:-1]
    changes = _lagged_changes(values, season_length)
    recent = position >= np.repeat(counts - count, np.diff(offsets))
    paired = train & recent & (position >= season_length) & np.isfinite(changes)
    pairs = np.add.reduceat(paired, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        drift = np.add.reduceat(np.where(paired, changes, 0.0), starts) / pairs
        deviations = np.abs(changes - np.repeat(drift, np.diff(offsets)))
        spread = np.add.reduceat(np.where(paired, deviations, 0.0), starts) / pairs
    return np.where(pairs >= 2, spread, np.nan)


def _seasonal_mae_statistics(
    part: NDArray[np.float64], season_length: int
) -> tuple[float, float]:
    """Mean and :func:`seasonal_mae` of one series; the std where that is None."""
    observed = part[~np.isnan(part)]
    if not len(observed):
        return 0.0, 1.0
    loc, std = _statistics(observed, "standard")
    scale = seasonal_mae(part, season_length)
    return loc, std if scale is None else scale


def training_part(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    train_lengths: NDArray[np.int64],
    i: int,
) -> NDArray[np.float64]:
    """Return the training part of series ``i``: its first ``train_lengths[i]`` values.

    A padded series observed only in its holdout gives its whole history instead.
    """
    part = values[offsets[i] : offsets[i] + train_lengths[i]]
    if np.isnan(part).all():  # a padded series observed only in its holdout
        part = values[offsets[i] : offsets[i + 1]]
    return part


def _powers(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    train_lengths: NDArray[np.int64],
    power: str,
    season_length: int,
) -> NDArray[np.float64] | None:
    """Per-series Box-Cox powers, or None for ``power="none"``."""
    if power == "none":
        return None
    if power not in ("log", "log1p", "boxcox"):
        raise ConfigError(f"unknown transform {power!r}; choose one of {TRANSFORMS}.")
    n_series = len(offsets) - 1
    if power in ("log", "log1p"):
        return np.zeros(n_series)
    return np.array(
        [
            guerrero_power(
                training_part(values, offsets, train_lengths, i), season_length
            )
            for i in range(n_series)
        ]
    )


def _statistics(part: NDArray[np.float64], kind: ScalerKind) -> tuple[float, float]:
    """Location and scale of one series, safe from overflow for values near 1e308.

    Beyond 1e150 (or below 1e-150), where squares would overflow (underflow), the
    statistics are computed on ``part / m`` with ``m = max |part|`` and scaled back.
    """
    m = float(np.max(np.abs(part))) if len(part) else 0.0
    if m == 0.0 or not np.isfinite(m):
        return 0.0, 1.0
    if 1e-150 < m < 1e150:
        m = 1.0  # exact statistics for every ordinary series
    unit = part / m
    if kind == "standard":
        return float(unit.mean()) * m, float(unit.std()) * m
    centre = float(np.median(unit))
    return centre * m, MAD_TO_STD * float(np.median(np.abs(unit - centre))) * m


def transform(
    values: NDArray[np.float64], offsets: NDArray[np.int64], stats: ScalerStats
) -> NDArray[np.float64]:
    """Return ``(g(y) - loc) / scale`` for every series of the flat ``values``."""
    each = per_value(stats, offsets)
    return (_powered(values, each) - each.loc) / each.scale


def transform_rows(y: NDArray[np.float64], stats: ScalerStats) -> NDArray[np.float64]:
    """Return ``(g(y) - loc) / scale`` for ``y`` (n_series, ...), a row a series."""
    each = _per_row(stats, y.ndim)
    return (_powered(y, each) - each.loc) / each.scale


def inverse_transform(
    z: NDArray[np.float64], stats: ScalerStats
) -> NDArray[np.float64]:
    """Return ``g^-1(z * scale + loc)`` for ``z`` (n_series, ...), a row a series."""
    each = _per_row(stats, z.ndim)
    g = z * each.scale + each.loc
    if each.power is None or each.shift is None:
        return g
    return inverse_box_cox(g, each.power) - each.shift


def _powered(y: NDArray[np.float64], stats: ScalerStats) -> NDArray[np.float64]:
    """Return ``g(y)``, the Box-Cox transform of ``y + shift`` (``y`` without one).

    ``stats`` is already broadcast against ``y`` (:func:`per_value`, :func:`_per_row`).
    """
    if stats.power is None or stats.shift is None:
        return y
    return box_cox(y + stats.shift, stats.power)


def per_value(stats: ScalerStats, offsets: NDArray[np.int64]) -> ScalerStats:
    """Statistics repeated for every value of the flat layout."""
    lengths = np.diff(offsets)
    return stats.expanded(lambda a: np.repeat(a, lengths))


def _per_row(stats: ScalerStats, ndim: int) -> ScalerStats:
    """Statistics shaped (n_series, 1, ...) to broadcast against rows of ``ndim``."""
    shape = (-1,) + (1,) * (ndim - 1)
    return stats.expanded(lambda a: a.reshape(shape))
