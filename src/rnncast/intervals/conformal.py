r"""Split-conformal intervals: the pure functions.

Split conformal prediction (Vovk et al., 2005; Stankeviciute et al., 2021 for
multi-step forecasts): a model's absolute errors :math:`s_{j,k} = |y_{j,k} - \hat
y_{j,k}|` on ``n`` calibration windows that it was not trained on, per horizon
step ``k``, give the width :math:`q_k` of a symmetric interval
:math:`\hat y_k \pm q_k` at level :math:`1 - \alpha`: the
:math:`\lceil (n + 1)(1 - \alpha) \rceil`-th smallest score. If the windows and
the future are exchangeable, the interval covers the truth with probability at
least :math:`1 - \alpha`. The signed errors :math:`y - \hat y` give each tail its
own quantile instead (:func:`signed_conformal_offsets`, the default of the
networks and of the baselines' conformal wrapper): the interval then follows a
bias or a skew of the errors, at the price of twice as many errors, and of
independent calibration windows (:func:`independent_windows`), needed.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from rnncast.data.scaling import recent_change_deviations, seasonal_maes
from rnncast.exceptions import ConfigError
from rnncast.intervals.levels import Levels, nested_bounds
from rnncast.options import CONFORMAL_ERRORS, CONFORMAL_UNITS

__all__ = [
    "check_conformal_errors",
    "check_conformal_unit",
    "conformal_bounds",
    "conformal_offsets",
    "conformal_unit",
    "conformal_widths",
    "conformalized_quantile_bounds",
    "independent_windows",
    "quantile_scores",
    "series_conformal_offsets",
    "signed_conformal_offsets",
    "step_quantiles",
]

# The "recent" unit's noise: the seasonal changes of the last 3 seasons, at least 12.
RECENT_SEASONS = 3
RECENT_CHANGES = 12
# a step's conformal quantile also reads the (rescaled) errors of the steps this close:
# measured on four development sets (docs/intervals.md)
NEIGHBOUR_STEPS = 2


def check_conformal_errors(value: str) -> bool:
    """Validate ``conformal_errors``; return whether the errors are signed."""
    if value not in CONFORMAL_ERRORS:
        raise ConfigError(
            f"unknown conformal_errors {value!r}; choose 'signed' or 'absolute'."
        )
    return value == "signed"


def check_conformal_unit(value: str) -> str:
    """Validate ``conformal_unit`` (one of :data:`CONFORMAL_UNITS`) and return it."""
    if value not in CONFORMAL_UNITS:
        raise ConfigError(
            f"unknown conformal_unit {value!r}; choose 'recent' or 'seasonal'."
        )
    return value


def conformal_widths(
    scores: NDArray[np.float64], levels: Levels
) -> tuple[NDArray[np.float64], str]:
    r"""Half-widths of symmetric split-conformal intervals per horizon step and level.

    Parameters
    ----------
    scores : ndarray of shape (n_windows, horizon)
        Absolute calibration errors; NaN where a target was not observed.
    levels : tuple of float

    Returns
    -------
    widths : ndarray of shape (horizon, n_levels)
    method : {"per-step", "pooled"}
        ``"per-step"``: the conformal quantile of each step's scores, with those
        of its ``NEIGHBOUR_STEPS`` neighbours on each side in units of each
        step's mean score (:func:`step_quantiles`), used when every step has
        enough scores for the highest level,
        :math:`n_k \ge 1/\alpha - 1`. Otherwise ``"pooled"``: the scores of all
        steps are divided by their step's mean score :math:`\bar s_k`, pooled, and
        the conformal quantile :math:`\hat q` of the pool gives
        :math:`q_k = \hat q\,\bar s_k`; widths still grow with the step.
    """
    counts = (~np.isnan(scores)).sum(axis=0)
    mean_score = _mean_absolute(scores)  # NaN at a step without scores
    if counts.min() < _needed(max(levels, default=50)) and not np.all(mean_score > 0):
        raise ConfigError(
            "too few calibration errors for conformal intervals: a horizon step has "
            f"{int(counts.min())} observed error(s) or only zero errors. Use more "
            "validation_windows or longer series."
        )
    widths, method = step_quantiles(scores, levels, mean_score)
    if not np.isfinite(widths).all():
        raise ConfigError(
            f"too few calibration errors ({int(counts.sum())}) for a {levels[-1]} % "
            f"conformal interval, which needs at least {_needed(levels[-1])}. Use "
            "more validation_windows, longer series or a lower level."
        )
    return widths, method


def signed_conformal_offsets(
    errors: NDArray[np.float64],
    levels: Levels,
    spread: NDArray[np.float64] | None = None,
    independent: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str] | None:
    r"""Lower and upper offsets of asymmetric split-conformal intervals.

    From signed calibration errors :math:`e = y - \hat y` (n_windows, horizon), each
    tail separately (Linusson et al., 2014): for a level :math:`1 - \alpha` the
    upper offset of step :math:`k` is the :math:`\lceil (n + 1)(1 - \alpha/2)
    \rceil`-th smallest error and the lower offset the same rank from the top,
    negated, so that each tail is missed with probability at most
    :math:`\alpha / 2`. A forecast biased on the calibration windows gets an
    interval shifted by that bias, and a skewed error distribution a skewed one.
    Per step when every step has enough errors for the highest level's tails
    (:math:`n_k \ge 2/\alpha - 1`, twice what a symmetric interval needs; with
    the neighbouring steps' errors in ``spread`` units, :func:`step_quantiles`), else
    pooled over steps in units of each step's ``spread`` (default: its mean
    absolute error, as :func:`conformal_widths` pools).

    The tails also need that many *independent* calibration windows
    (``independent``, default: every row is one; see :func:`independent_windows`):
    overlapping windows of a few series share one stretch of history, whose
    direction a signed interval would carry into the future (a random walk's
    last moves, say), where absolute errors only carry its size.

    Returns ``(lower, upper, method)``, each offset (horizon, n_levels), or None
    when there are too few errors or windows (the caller falls back to symmetric).
    """
    tails = tuple(50 + lv / 2 for lv in levels)
    spread = _mean_absolute(errors) if spread is None else spread
    independent = len(errors) if independent is None else independent
    if independent < _needed(tails[-1]) or not _enough(errors, tails[-1], spread):
        return None
    upper, method = step_quantiles(errors, tails, spread)
    lower, _ = step_quantiles(-errors, tails, spread)
    return -lower, upper, method


def conformal_offsets(
    errors: NDArray[np.float64],
    levels: Levels,
    *,
    signed: bool = True,
    independent: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    r"""Lower and upper conformal offsets (horizon, n_levels) from signed errors.

    ``signed``: :func:`signed_conformal_offsets` where the errors and the
    ``independent`` windows suffice, else (and with ``signed=False``) the
    symmetric :math:`\mp q_k` of :func:`conformal_widths` on the absolute errors.
    The method says which: ``"per-step, signed"``, ``"pooled, symmetric"``...
    """
    if signed:
        offsets = signed_conformal_offsets(errors, levels, independent=independent)
        if offsets is not None:
            lower, upper, method = offsets
            return lower, upper, f"{method}, signed"
    widths, method = conformal_widths(np.abs(errors), levels)
    return -widths, widths, f"{method}, symmetric"


def independent_windows(owners: NDArray[np.int64], overlap: int) -> int:
    """Calibration windows that do not overlap: per series ``ceil(rows / overlap)``.

    ``owners``: the series of each calibration row, whose rows are consecutive
    origins one step apart; ``overlap``: the horizon (closer origins share
    targets and history).
    """
    counts = np.bincount(owners)
    return int(np.ceil(counts[counts > 0] / overlap).sum())


def series_conformal_offsets(
    errors: NDArray[np.float64],
    owners: NDArray[np.int64],
    n_series: int,
    levels: Levels,
    *,
    signed: bool = True,
    overlap: int = 1,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Conformal offsets per series (n_series, horizon, n_levels) from its own errors.

    ``owners``: the series (0 to ``n_series - 1``) of each row of ``errors``.
    A series with enough errors of its own for the highest level gets offsets from
    them alone, as :func:`conformal_offsets` makes them (per step, or pooled over
    its steps in units of every series' mean absolute error of each step, which
    keeps the growth with the step of the whole pool); the others get the offsets
    of all series' errors. ``overlap`` as in :func:`independent_windows`. Returns
    the lower and upper offsets and which series had their own.
    """
    lower, upper, _ = conformal_offsets(
        errors,
        levels,
        signed=signed,
        independent=independent_windows(owners, overlap),
    )
    own_lower, own_upper, own = _own_series_offsets(
        errors, owners, n_series, levels, signed, overlap
    )
    lower, upper, _ = _own_or_pooled(
        (lower, upper), (own_lower, own_upper, own), np.arange(n_series)
    )
    return lower, upper, own


def _own_or_pooled(
    pooled: tuple[NDArray[np.float64], NDArray[np.float64]],
    own: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]],
    rows: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Per row: its series' own offsets where it had enough errors, else the pool's.

    ``pooled``: lower and upper offsets (horizon, n_levels) of all errors;
    ``own``: :func:`_own_series_offsets`; ``rows``: each row's series, -1 for
    a series without errors. Returns offsets (n_rows, horizon, n_levels) and
    which rows got their own.
    """
    own_lower, own_upper, enough = own
    series = np.maximum(rows, 0)
    mine = (rows >= 0) & enough[series]
    pick = mine[:, None, None]
    return (
        np.where(pick, own_lower[series], pooled[0][None]),
        np.where(pick, own_upper[series], pooled[1][None]),
        mine,
    )


def _own_series_offsets(
    errors: NDArray[np.float64],
    owners: NDArray[np.int64],
    n_series: int,
    levels: Levels,
    signed: bool,
    overlap: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Each series' offsets from its own errors, and which series had enough.

    The offsets of a series without enough errors are zeros, not to be used.
    """
    shape = (n_series, errors.shape[1], len(levels))
    lower, upper = np.zeros(shape), np.zeros(shape)
    own = np.zeros(n_series, dtype=bool)
    spread = _mean_absolute(errors)
    counts = np.bincount(owners, minlength=n_series)
    grouped = errors[np.argsort(owners, kind="stable")]  # one pass, not one per series
    for i, mine in enumerate(np.split(grouped, np.cumsum(counts)[:-1])):
        windows = math.ceil(len(mine) / overlap)
        offsets = _own_offsets(mine, levels, windows if signed else 0, spread)
        if offsets is not None:
            lower[i], upper[i] = offsets
            own[i] = True
    return lower, upper, own


def _own_offsets(
    errors: NDArray[np.float64],
    levels: Levels,
    signed_windows: int,
    spread: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """One series' offsets from its ``errors``, or None if they are too few.

    ``signed_windows``: its independent windows for signed offsets; 0: symmetric.
    """
    if signed_windows:
        offsets = signed_conformal_offsets(errors, levels, spread, signed_windows)
        if offsets is not None:
            return offsets[0], offsets[1]
    scores = np.abs(errors)
    if not _enough(scores, levels[-1], spread):
        return None
    widths, _ = step_quantiles(scores, levels, spread)
    return -widths, widths


def _mean_absolute(errors: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean absolute error of each step (column); NaN where a step has none."""
    counts = (~np.isnan(errors)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(np.abs(errors), axis=0) / counts


def _enough(
    errors: NDArray[np.float64], level: float, spread: NDArray[np.float64]
) -> bool:
    """Whether ``errors`` give a finite conformal quantile at ``level``.

    Per step when every step has enough, else pooled in ``spread`` units, which
    must then be positive at every step.
    """
    counts = (~np.isnan(errors)).sum(axis=0)
    if counts.min() >= _needed(level):
        return True
    return counts.sum() >= _needed(level) and bool(np.all(spread > 0))


def step_quantiles(
    scores: NDArray[np.float64],
    levels: Levels,
    spread: NDArray[np.float64],
    neighbours: int = NEIGHBOUR_STEPS,
) -> tuple[NDArray[np.float64], str]:
    r"""Conformal quantiles (horizon, n_levels) per step, or pooled in ``spread``.

    ``"per-step"`` (every step has enough scores for the highest level): the
    quantile of step :math:`k` comes from the scores of the steps within
    ``neighbours`` of it, each divided by its step's spread :math:`\bar s_j`,
    scaled back by its own,

    .. math::
        q_k = \bar s_k\, Q\big(\{ e_{i,j} / \bar s_j : |j - k| \le w \}\big),

    so a tail quantile rests on up to :math:`2w + 1` times the errors of one step
    while the width still follows each step's spread (a step whose spread is 0
    keeps its own quantile, 0). ``neighbours=0`` is each step's own quantile.
    Else ``"pooled"``: the same over all steps.
    """
    quantiles = np.empty((scores.shape[1], len(levels)))
    counts = (~np.isnan(scores)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = scores / spread  # NaN where a step's spread is 0 (all scores 0)
    if counts.min() >= max((_needed(lv) for lv in levels), default=1):
        for k in range(scores.shape[1]):
            near = slice(max(0, k - neighbours), k + neighbours + 1)
            column = relative[:, near].reshape(-1)
            unit = spread[k]
            if not unit > 0:  # only zero scores at this step: its own quantile
                column, unit = scores[:, k], 1.0
            column = column[~np.isnan(column)]
            quantiles[k] = [_conformal_quantile(column, lv) * unit for lv in levels]
        return quantiles, "per-step"
    pooled = relative.reshape(-1)
    pooled = pooled[~np.isnan(pooled)]
    for j, lv in enumerate(levels):
        quantiles[:, j] = _conformal_quantile(pooled, lv) * spread
    return quantiles, "pooled"


def _needed(level: float) -> int:
    """Fewest scores whose conformal quantile at ``level`` is finite."""
    alpha = 1 - level / 100
    return math.ceil(1 / alpha - 1 - 1e-9)


def _conformal_quantile(scores: NDArray[np.float64], level: float) -> float:
    """Return the ``ceil((n + 1) level / 100)``-th smallest score (inf beyond n)."""
    n = len(scores)
    rank = math.ceil((n + 1) * level / 100 - 1e-9)
    if rank > n:
        return math.inf
    return float(np.partition(scores, rank - 1)[rank - 1])


def conformal_unit(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    lengths: NDArray[np.int64],
    season_length: int,
    kind: str = "recent",
) -> NDArray[np.float64]:
    r"""Per-series unit of conformal scores, measured on the first ``lengths[i]``.

    ``"seasonal"``: :math:`d_i`, the in-sample seasonal-naive MAE
    (:func:`~rnncast.data.scaling.seasonal_maes`, the denominator of MASE and
    MSIS; 1 where it is undefined). ``"recent"`` (the
    default): the geometric mean

    .. math::
        u_i = \sqrt{d_i\, r_i},

    with :math:`r_i` the recent noise of the series
    (:func:`~rnncast.data.scaling.recent_change_deviations`): the mean absolute
    deviation of its seasonal changes over the last ``RECENT_SEASONS`` seasons
    (at least ``RECENT_CHANGES`` changes) from their mean. :math:`d_i` counts a
    steady trend and old turbulence as noise; :math:`r_i` counts neither but rests
    on few values, so the geometric mean shrinks it towards :math:`d_i`. A series
    whose errors are in fact smaller or larger than :math:`d_i` suggests then gets
    a narrower or wider interval, where one pool of scores in units of
    :math:`d_i` gives every series the same width in MASE units. :math:`u_i =
    d_i` where :math:`r_i` is undefined (fewer than two changes) or zero.
    Measured on Tourism and M3 (docs/intervals.md): MSIS 5-6 % lower at
    the same coverage.

    Returns
    -------
    ndarray of shape (n_series,)
    """
    maes = seasonal_maes(values, offsets, lengths, season_length)
    scale = np.where(np.isnan(maes), 1.0, maes)
    if check_conformal_unit(kind) == "seasonal":
        return scale
    count = max(RECENT_SEASONS * season_length, RECENT_CHANGES)
    noise = recent_change_deviations(values, offsets, lengths, season_length, count)
    usable = np.isfinite(noise) & (noise > 0)
    return np.where(usable, np.sqrt(scale * np.where(usable, noise, 1.0)), scale)


def conformal_bounds(
    forecasts: NDArray[np.float64],
    errors: NDArray[np.float64],
    unit: NDArray[np.float64],
    levels: Levels,
    *,
    signed: bool = True,
    owners: NDArray[np.int64] | None = None,
    overlap: int = 1,
    rows: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    r"""Return conformal bounds :math:`\hat y + l_k u_i` and :math:`\hat y + h_k u_i`.

    ``forecasts`` (n_series, horizon), ``errors`` the calibration errors
    :math:`y - \hat y` in conformal units (n_windows, horizon; absolute ones give
    the same symmetric bounds with ``signed=False``), ``unit`` each series' unit
    (:func:`conformal_unit`). The offsets :math:`l_k \le h_k` are those of
    :func:`conformal_offsets`, signed where there are enough independent windows
    (:func:`independent_windows` of ``owners``, the series of each error row, and
    ``overlap``; without ``owners`` every row counts as one). With ``rows`` (the
    fitted series of each forecast row, -1 for a series not fitted; needs
    ``owners``) each series gets its own offsets where it has enough errors
    (:func:`series_conformal_offsets`). The bounds are then nested around the
    forecast (:func:`nested_bounds`), which a strongly biased calibration could
    otherwise leave outside its own 80 % interval. Returns lower and upper bounds
    (n_series, horizon, n_levels) and the method.
    """
    independent = None if owners is None else independent_windows(owners, overlap)
    low, high, method = conformal_offsets(
        errors, levels, signed=signed, independent=independent
    )
    low, high = low[None], high[None]  # (1, horizon, n_levels): every series
    if rows is not None and owners is not None:
        n_fitted = int(max(owners.max(initial=-1), rows.max(initial=-1))) + 1
        own = _own_series_offsets(errors, owners, n_fitted, levels, signed, overlap)
        low, high, mine = _own_or_pooled((low[0], high[0]), own, rows)
        method = f"own errors for {mine.sum()} of {len(rows)} series, else {method}"
    scale = unit[:, None, None]
    lower = forecasts[:, :, None] + low * scale
    upper = forecasts[:, :, None] + high * scale
    lower, upper = nested_bounds(lower, upper, forecasts)
    return lower, upper, method


def quantile_scores(
    lower: NDArray[np.float64], upper: NDArray[np.float64], targets: NDArray[np.float64]
) -> NDArray[np.float64]:
    r"""Conformity scores of quantile intervals (Romano et al., 2019).

    :math:`E = \max(\hat q_{lo} - y,\; y - \hat q_{hi})`: negative when ``y`` lies
    inside the interval (by how far from its nearer bound), positive outside.
    ``lower``, ``upper`` (n, horizon, n_levels), ``targets`` (n, horizon); returns
    (n, horizon, n_levels), NaN where a target is NaN.
    """
    y = targets[:, :, None]
    return np.maximum(lower - y, y - upper)


def conformalized_quantile_bounds(
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    scores: NDArray[np.float64],
    unit: NDArray[np.float64],
    levels: Levels,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    r"""Conformalized quantile regression: widen (or narrow) quantile intervals.

    For each level :math:`1 - \alpha` and horizon step :math:`k`, :math:`c_k` is the
    :math:`\lceil (n + 1)(1 - \alpha) \rceil`-th smallest of the ``n`` calibration
    scores :func:`quantile_scores` (in conformal units), and the interval becomes
    :math:`[\hat q_{lo} - c_k u_i,\; \hat q_{hi} + c_k u_i]`: it covers with
    probability at least :math:`1 - \alpha` under exchangeability, and keeps the
    heads' width from series to series. ``c_k`` is negative when the heads'
    intervals were too wide.

    ``lower``, ``upper`` (n, horizon, n_levels) from the quantile heads, ``scores``
    (n_windows, horizon, n_levels) for the same levels, ``unit`` (n,). Returns the
    bounds and the method: ``"per-step"`` when every step has enough scores for
    the highest level (each :math:`c_k` then also reads the scores of the
    ``NEIGHBOUR_STEPS`` steps either side, in units of each step's mean absolute
    score, :func:`step_quantiles`), else ``"pooled"`` (one
    :math:`c` from all steps' scores).
    """
    counts = (~np.isnan(scores[:, :, -1])).sum(axis=0)
    needed = _needed(levels[-1])
    per_step = counts.min() >= needed
    shift = np.empty((scores.shape[1], len(levels)))  # (horizon, n_levels)
    for j, level in enumerate(levels):
        level_scores = scores[:, :, j]
        if per_step:  # with the neighbouring steps' scores, as conformal_widths
            spread = _mean_absolute(level_scores)
            shift[:, j] = step_quantiles(level_scores, (level,), spread)[0][:, 0]
            continue
        pooled = level_scores.reshape(-1)
        shift[:, j] = _conformal_quantile(pooled[~np.isnan(pooled)], level)
    if not np.isfinite(shift).all():
        raise ConfigError(
            f"too few calibration scores ({int(counts.sum())}) for a {levels[-1]} % "
            f"conformalized interval, which needs at least {needed}. Use more "
            "validation_windows, longer series or a lower level."
        )
    spread = shift[None, :, :] * unit[:, None, None]
    method = "per-step" if per_step else "pooled"
    return lower - spread, upper + spread, method
