r"""Classical forecasts to mix with the network's, for ``combine``.

Two methods of the M3 and M4 benchmarks, in NumPy (nothing outside the core
dependencies runs), on one series' whole history:

1. **Seasonal adjustment** (both). When the series passes the 90 %
   autocorrelation test at lag :math:`m` (:func:`rnncast.data.seasonality.
   is_seasonal`, on its levels, as the M4 benchmarks test), it is divided by the
   seasonal indices of a classical multiplicative decomposition
   (:func:`seasonal_indices`), or has the additive indices taken away when a
   value is not positive; the forecast of the adjusted series :math:`x_1..x_n`
   is re-seasonalised with the indices of the same season positions. With
   several periods (a day and a week), the adjustment is repeated for each,
   shortest first, on the series already adjusted for the shorter ones, and
   the forecast is re-seasonalised by all of them. A period that is not a
   whole number of steps (365.25 days, 52.18 weeks) has no indices: its
   pattern is the least-squares fit of :data:`FOURIER_TERMS` harmonics
   :math:`\sin(2\pi k t / m)`, :math:`\cos(2\pi k t / m)` to the detrended
   series (:func:`fourier_pattern`), which continues into the future as it is.
2. **The Theta method** (Assimakopoulos and Nikolopoulos, 2000), in the form of
   Hyndman and Billah (2003) that the M4 benchmarks and R's ``forecast::thetaf``
   use: simple exponential smoothing :math:`\ell_t = \alpha x_t + (1 -
   \alpha)\ell_{t-1}`, :math:`\ell_1 = x_1`, with :math:`\alpha` minimising the
   in-sample one-step squared error (:func:`smoothing_weight`), plus half the
   drift :math:`b` of the least-squares line through :math:`x_t`:

   .. math::
       \hat x_{n+k} = \ell_n + \frac{b}{2}\left(k - 1 + \frac{1 - (1 - \alpha)^n}
       {\alpha}\right).

3. **Damped-trend exponential smoothing** (Gardner and McKenzie, 1985), in error
   correction form: with the one-step forecast :math:`f_t = \ell_{t-1} + \phi
   b_{t-1}` and its error :math:`e_t = x_t - f_t`,
   :math:`\ell_t = f_t + \alpha e_t`, :math:`b_t = \phi b_{t-1} + \alpha\beta e_t`,
   :math:`\ell_1 = x_1`, :math:`b_1 = x_2 - x_1`; :math:`(\alpha, \beta, \phi)`
   minimise the one-step squared error over a grid (:func:`damped_trend`), and
   :math:`\hat x_{n+k} = \ell_n + (\phi + \dots + \phi^k)\,b_n`.

Their value to a recurrent forecaster is not that they are accurate alone
(statsforecast's AutoTheta and AutoETS are close to or better than them) but that
their errors differ from the network's: they extrapolate the level and trend of
the *whole* history, which a network that sees one window does not.
:class:`~rnncast.Forecaster` with ``combine="theta"`` mixes the Theta forecast in,
``"theta+damped"`` the mean of both (:mod:`rnncast.combine`; docs/accuracy.md has
what each changed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from rnncast.data.seasonality import as_periods, is_seasonal
from rnncast.exceptions import ConfigError
from rnncast.options import COMBINATIONS

__all__ = [
    "classical_forecasts",
    "damped_forecast",
    "damped_trend",
    "fourier_pattern",
    "seasonal_indices",
    "smoothing_weight",
    "theta_forecast",
]

Array = NDArray[np.float64]

_ALPHAS = np.linspace(0.01, 1.0, 100)  # the grid searched for alpha
FOURIER_TERMS = 10  # harmonics of a non-integer period (Prophet's yearly order)
Seasons = int | Sequence[float]


def _damped_grid() -> tuple[Array, Array, Array]:
    """(alpha, beta, phi) of the damped trend's grid: 20 x 5 x 5, beta <= alpha."""
    alpha, beta, phi = np.meshgrid(
        np.linspace(0.05, 1.0, 20),
        [0.01, 0.05, 0.1, 0.2, 0.3],
        [0.8, 0.85, 0.9, 0.95, 0.98],
        indexing="ij",
    )
    kept = beta <= alpha
    return alpha[kept], beta[kept], phi[kept]


_DAMPED = _damped_grid()


def classical_forecasts(
    values: Array,
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    horizon: int,
    seasons: Seasons,
    method: str = "theta",
) -> Array:
    """Return the classical forecast of ``method`` from each series cut-off.

    The cut-offs are ``values[starts[i] : starts[i] + lengths[i]]``. ``"theta"``:
    :func:`theta_forecast`; ``"theta+damped"``: the mean of it and
    :func:`damped_forecast`. ``seasons``: one period, or several shortest
    first. ``values`` are series concatenated (e.g.
    :class:`~rnncast.data.frame.SeriesData`'s); one forecast per (start, length), so
    one series may give several, from different cut-offs. NaN (gaps, padding) are
    handled by :func:`_observed_part`. Returns (len(starts), horizon).
    """
    if method not in COMBINATIONS:
        raise ConfigError(
            f"unknown classical method {method!r}; choose one of {COMBINATIONS}."
        )
    methods = [_METHODS[name] for name in method.split("+")]
    forecasts = []
    for start, length in zip(starts, lengths, strict=True):
        y = _observed_part(values[start : start + length])
        # both methods are scale-equivariant; fitted on y / max|y|, squared
        # errors of values near the float limit do not overflow
        top = float(np.max(np.abs(y))) if len(y) else 1.0
        scale = top if 0.0 < top < np.inf else 1.0
        fitted = np.mean([f(y / scale, horizon, seasons) for f in methods], 0)
        forecasts.append(fitted * scale)
    return np.array(forecasts, dtype=np.float64).reshape(len(forecasts), horizon)


def theta_forecast(y: Array, horizon: int, seasons: Seasons) -> Array:
    """Return the Theta forecast of the module docstring, ``horizon`` steps after ``y``.

    Series of one value (or none, returning NaN) forecast that value; a series
    too short to test for seasonality is not seasonally adjusted.
    """
    return _adjusted_forecast(y, horizon, seasons, _theta_line)


def damped_forecast(y: Array, horizon: int, seasons: Seasons) -> Array:
    """Return the damped-trend forecast of the module docstring after ``y``.

    Seasonal adjustment and short series as :func:`theta_forecast`.
    """
    return _adjusted_forecast(y, horizon, seasons, _damped_line)


def _adjusted_forecast(
    y: Array, horizon: int, seasons: Seasons, method: Callable[[Array, int], Array]
) -> Array:
    """Return ``method``'s forecast of ``y`` adjusted, then re-seasonalised."""
    n = len(y)
    if n == 0:
        return np.full(horizon, np.nan)
    if n == 1 or np.all(y == y[0]):
        return np.full(horizon, float(y[0]))
    periods = as_periods(seasons)
    multiplicative = bool(np.all(y > 0))
    x, ahead = y, None
    for period in periods:
        pattern = _seasonal_pattern(x, horizon, period, multiplicative)
        if pattern is None:
            continue
        x = x / pattern[:n] if multiplicative else x - pattern[:n]
        future = pattern[n:]
        if ahead is not None:
            future = ahead * future if multiplicative else ahead + future
        ahead = future
    forecast = method(x, horizon)
    if ahead is None:
        return forecast
    return forecast * ahead if multiplicative else forecast + ahead


def _seasonal_pattern(
    x: Array, horizon: int, period: float, multiplicative: bool
) -> Array | None:
    """Seasonal pattern of ``x`` over its values and ``horizon`` more; None if none.

    None where the period is under 2 steps or ``x`` fails the seasonality test
    at the nearest whole lag.
    """
    m = round(period)
    if m < 2 or not is_seasonal(x, m):
        return None
    t = np.arange(len(x) + horizon)
    if float(period).is_integer():
        return seasonal_indices(x, m, multiplicative)[t % m]
    pattern = fourier_pattern(x, period, multiplicative, len(x) + horizon)
    if multiplicative and not np.all(pattern > 0):
        return None  # a fit that would divide by zero: left unadjusted
    return pattern


def _theta_line(x: Array, horizon: int) -> Array:
    """Forecast the adjusted series by SES plus half the drift (Theta)."""
    n = len(x)
    alpha, level = smoothing_weight(x)
    slope = np.polyfit(np.arange(n, dtype=np.float64), x, 1)[0]
    k = np.arange(1, horizon + 1, dtype=np.float64)
    return level + slope / 2 * (k - 1 + (1 - (1 - alpha) ** n) / alpha)


def _damped_line(x: Array, horizon: int) -> Array:
    """Forecast the adjusted series by its damped trend (:func:`damped_trend`)."""
    (_, _, phi), level, trend = damped_trend(x)
    return level + np.cumsum(phi ** np.arange(1, horizon + 1)) * trend


def damped_trend(x: Array) -> tuple[tuple[float, float, float], float, float]:
    r"""Fit damped-trend smoothing to ``x``: the best parameters, last level, trend.

    The recursion of the module docstring for every :math:`(\alpha, \beta,
    \phi)` of a grid (20 x 5 x 5, :math:`\beta \le \alpha`) at once; returns
    the parameters with the lowest sum of squared one-step errors over
    :math:`t = 2..n`, and :math:`(\ell_n, b_n)` under them. ``x`` has at least
    two values.
    """
    alpha, beta, phi = _DAMPED
    level = np.full(len(alpha), x[0])
    trend = np.full(len(alpha), x[1] - x[0])
    squared = np.zeros(len(alpha))
    for value in x[1:]:
        forecast = level + phi * trend
        error = value - forecast
        squared += error**2
        level = forecast + alpha * error
        trend = phi * trend + alpha * beta * error
    k = int(np.argmin(squared))
    return (
        (float(alpha[k]), float(beta[k]), float(phi[k])),
        float(level[k]),
        float(trend[k]),
    )


_METHODS: dict[str, Callable[[Array, int, int], Array]] = {
    "theta": theta_forecast,
    "damped": damped_forecast,
}


def seasonal_indices(y: Array, season_length: int, multiplicative: bool) -> Array:
    r"""Seasonal indices :math:`s_0..s_{m-1}` of a classical decomposition of ``y``.

    The trend is the centred moving average of order :math:`m` (a 2 x m average
    for even :math:`m`); :math:`s_j` is the mean over the seasons of
    :math:`y_t / \text{trend}_t` (multiplicative) or :math:`y_t - \text{trend}_t`
    at positions :math:`t \equiv j \pmod m` (position 0 is the first value of
    ``y``), normalised to mean 1 (or 0).
    """
    m = season_length
    trend = _centred_average(y, m)
    detrended = y / trend if multiplicative else y - trend
    positions = np.arange(len(y)) % m
    indices = np.array(
        [np.nanmean(detrended[positions == j]) for j in range(m)], dtype=np.float64
    )
    return indices / indices.mean() if multiplicative else indices - indices.mean()


def fourier_pattern(
    y: Array, period: float, multiplicative: bool, length: int
) -> Array:
    r"""Seasonal pattern of a period of any length, over ``length`` steps from ``y[0]``.

    ``y`` detrended by the centred moving average of order
    :math:`\mathrm{round}(m)` (as :func:`seasonal_indices`), then the least-squares
    fit of :math:`K = \min(10, \lfloor m / 2 \rfloor)` harmonics,

    .. math::
        s_t = \sum_{k=1}^{K} a_k \sin\frac{2\pi k t}{m} + b_k \cos\frac{2\pi k t}{m},

    to :math:`y_t / \text{trend}_t - 1` (multiplicative; the pattern is
    :math:`1 + s_t`) or :math:`y_t - \text{trend}_t`, evaluated at
    :math:`t = 0 .. \text{length} - 1`. A pattern of mean (about) 1 or 0 over
    whole periods, like the indices.
    """
    trend = _centred_average(y, round(period))
    detrended = y / trend - 1.0 if multiplicative else y - trend
    terms = max(1, min(FOURIER_TERMS, int(period // 2)))
    angles = 2 * np.pi * np.arange(length)[:, None] * np.arange(1, terms + 1) / period
    basis = np.hstack([np.sin(angles), np.cos(angles)])
    known = np.isfinite(detrended)
    coef = np.linalg.lstsq(basis[: len(y)][known], detrended[known], rcond=None)[0]
    pattern = basis @ coef
    return 1.0 + pattern if multiplicative else pattern


def smoothing_weight(x: Array) -> tuple[float, float]:
    r"""Smooth ``x`` exponentially: return the best :math:`\alpha` and the last level.

    :math:`\alpha` is the value of a grid over (0, 1] with the lowest sum of
    squared one-step errors :math:`\sum_{t=2}^{n} (x_t - \ell_{t-1})^2`, the level
    starting at :math:`\ell_1 = x_1`; returns :math:`(\alpha, \ell_n)`.
    """
    levels = np.full(len(_ALPHAS), x[0])
    squared = np.zeros(len(_ALPHAS))
    for value in x[1:]:
        error = value - levels
        squared += error**2
        levels = levels + _ALPHAS * error
    best = int(np.argmin(squared))
    return float(_ALPHAS[best]), float(levels[best])


def _centred_average(y: Array, m: int) -> Array:
    """Centred moving average of order ``m`` (2 x m for even m); NaN at the ends."""
    weights = np.full(m, 1.0 / m)
    if m % 2 == 0:
        weights = np.convolve(weights, [0.5, 0.5])  # 2 x m: m + 1 weights
    half = len(weights) // 2
    trend = np.full(len(y), np.nan)
    if len(y) >= len(weights):
        trend[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    return trend


def _observed_part(y: Array) -> Array:
    """``y`` from its first observed value, inner gaps filled linearly."""
    observed = ~np.isnan(y)
    if not observed.any():
        return y[:0]
    y = y[int(np.argmax(observed)) :]
    observed = ~np.isnan(y)
    if observed.all():
        return y
    t = np.arange(len(y))
    return np.interp(t, t[observed], y[observed])
