r"""Which series are seasonal: the autocorrelation test of the M4 benchmarks and Theta.

A series counts as seasonal at season :math:`m` when its autocorrelation at lag
:math:`m` is significantly different from zero,

.. math::
    |r_m| > z \sqrt{\frac{1 + 2\sum_{k=1}^{m-1} r_k^2}{n}},

with :math:`r_k` the sample autocorrelation at lag :math:`k`, :math:`n` the number
of observed values and :math:`z = 1.645` (90 %), the test the M4 competition's
benchmarks (Naive2, SES, Theta) and statsforecast's Theta use to decide whether to
seasonally adjust a series. Series shorter than three seasons are not tested and
count as not seasonal, as there.

:func:`seasonal_series` applies the test to the first differences
:math:`y_t - y_{t-1}`: a trend or a random walk has high raw autocorrelations at
every lag and passes the test on its levels (every stock price of the bundled
data does), but its seasonal naive forecast is poor; differencing removes the
trend and keeps a seasonal pattern. On the Tourism training parts the differenced
test picked the better start per series (seasonal naive or the last season's
mean) more often than the test on levels: MASE of the chosen starts 1.688 vs
1.698 (quarterly), 1.613 vs 1.630 (monthly); see docs/accuracy.md.

:func:`kept_seasons` decides which of several periods (a day and a week of
hourly data) a panel shows: each period after the first is tested on the
series differenced at the period kept before it, :math:`y_t - y_{t-p}`, which
removes the shorter season (a daily pattern has autocorrelation at lag 168 too,
since a week is seven days) and keeps what the longer one adds.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from rnncast.collective import SINGLE_PROCESS, Collective
from rnncast.data.scaling import training_part

__all__ = [
    "SEASONALITY_Z",
    "SEASON_SAMPLE",
    "SEASON_SHARE",
    "as_periods",
    "autocorrelations",
    "first_season",
    "is_seasonal",
    "kept_seasons",
    "seasonal_series",
]

SEASONALITY_Z = 1.645  # two-sided 90 % normal quantile of the M4 benchmarks' test
SEASON_SHARE = 0.5  # a further period is kept when this share of series shows it
SEASON_SAMPLE = 500  # series tested per period at most (evenly spaced)


def as_periods(seasons: int | Sequence[float]) -> tuple[float, ...]:
    """One season or several (``season_length``'s forms) as a tuple of periods."""
    if isinstance(seasons, numbers.Integral):
        return (int(seasons),)
    return tuple(seasons)


def first_season(seasons: int | Sequence[float]) -> int:
    """Return the first period, rounded, at least 1: every fit's single season."""
    return max(1, round(as_periods(seasons)[0]))


def autocorrelations(y: NDArray[np.float64], max_lag: int) -> NDArray[np.float64]:
    r"""Sample autocorrelations :math:`r_1 .. r_K` of ``y``, NaN gaps left out.

    .. math::
        r_k = \frac{\sum_t (y_t - \bar y)(y_{t-k} - \bar y)}{\sum_t (y_t - \bar y)^2},

    the numerator over the pairs with both values observed, the denominator and
    :math:`\bar y` over the observed values (the usual estimator when nothing is
    missing). Zeros for a constant series (and for one whose values overflow
    when centred).
    """
    observed = ~np.isnan(y)
    with np.errstate(over="ignore", invalid="ignore"):
        centred = np.where(observed, y - y[observed].mean(), 0.0)
    size = float(np.abs(centred).max()) if len(centred) else 0.0
    if not np.isfinite(size):
        return np.zeros(max_lag)  # values near the float limits: no test
    if size > 0:
        centred = centred / size  # r_k is scale-free; this keeps squares finite
    total = float((centred**2).sum())
    if total == 0.0:
        return np.zeros(max_lag)
    return np.array(
        [(centred[k:] * centred[:-k]).sum() / total for k in range(1, max_lag + 1)]
    )


def is_seasonal(
    y: NDArray[np.float64], season_length: int, z: float = SEASONALITY_Z
) -> bool:
    """Whether ``y`` passes the seasonality test of the module docstring."""
    m = season_length
    n = int((~np.isnan(y)).sum())
    if m < 2 or n < 3 * m:
        return False
    r = autocorrelations(y, m)
    limit = z * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n)
    return bool(abs(r[-1]) > limit)


def seasonal_series(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    train_lengths: NDArray[np.int64],
    season_length: int,
    rows: Iterable[int] | None = None,
) -> NDArray[np.bool_]:
    """:func:`is_seasonal` of each series' differenced training part.

    ``values``/``offsets`` is the flat layout of
    :class:`~rnncast.data.frame.SeriesData`; the training part is the one the
    scaler is fitted on (:func:`~rnncast.data.scaling.training_part`); NaN gaps
    stay out of the test. Returns one bool per series, or per series of
    ``rows`` (in that order) when given.
    """
    if rows is None:
        rows = range(len(offsets) - 1)
    parts = (training_part(values, offsets, train_lengths, i) for i in rows)
    return np.array(
        [is_seasonal(np.diff(part), season_length) for part in parts], dtype=bool
    )


def kept_seasons(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    train_lengths: NDArray[np.int64],
    periods: tuple[float, ...],
    share: float = SEASON_SHARE,
    collective: Collective = SINGLE_PROCESS,
) -> tuple[float, ...]:
    r"""Return the periods of ``periods`` (shortest first) that the panel shows.

    The first is always kept (the single season of every fit). Each further
    period :math:`m` is kept when at least ``share`` of the series pass
    :func:`is_seasonal` at lag :math:`\mathrm{round}(m)` on their training
    part differenced at the last kept period :math:`p`, :math:`y_t - y_{t-p}`
    (the module docstring says why); a series shorter than three periods
    after differencing cannot pass, so a history too short for a period drops
    it. Non-integer periods (365.25 days) are tested at the nearest lag. A
    panel of more than :data:`SEASON_SAMPLE` series is tested on that many,
    evenly spaced; in a data-parallel fit the panel is every process's series in
    rank order (``collective``), each process testing its own.
    """
    kept = [periods[0]]
    n = len(offsets) - 1
    total, first = collective.total(n), collective.offset(n)
    rows = np.linspace(0, total - 1, min(total, SEASON_SAMPLE)).round().astype(int)
    rows = np.unique(rows)
    own = rows[(rows >= first) & (rows < first + n)] - first
    parts = [training_part(values, offsets, train_lengths, i) for i in own]
    for period in periods[1:]:
        lag = max(1, round(kept[-1]))
        passed = sum(
            is_seasonal(part[lag:] - part[:-lag], round(period)) for part in parts
        )
        if collective.sum([passed])[0] >= share * len(rows):
            kept.append(period)
    return tuple(kept)
