r"""The Theta method of the M3 and M4 competitions, for ``combine="theta"``.

The standard Theta method (Assimakopoulos and Nikolopoulos, 2000), in the form of
Hyndman and Billah (2003) that the M4 benchmarks and R's ``forecast::thetaf`` use:

1. **Seasonal adjustment.** When the series passes the 90 % autocorrelation test
   at lag :math:`m` (:func:`rnncast.data.seasonality.is_seasonal`, on its levels,
   as there), it is divided by the seasonal indices of a classical multiplicative
   decomposition (:func:`seasonal_indices`), or has the additive indices taken
   away when a value is not positive.
2. **Simple exponential smoothing** of the adjusted series :math:`x_1..x_n`,
   :math:`\ell_t = \alpha x_t + (1 - \alpha)\ell_{t-1}`, :math:`\ell_1 = x_1`, with
   :math:`\alpha` minimising the in-sample one-step squared error
   (:func:`smoothing_weight`).
3. **Half the drift of the linear trend.** With :math:`b` the least-squares slope
   of :math:`x_t` on :math:`t`, the forecast :math:`k` steps ahead is

   .. math::
       \hat x_{n+k} = \ell_n + \frac{b}{2}\left(k - 1 + \frac{1 - (1 - \alpha)^n}
       {\alpha}\right),

   re-seasonalised with the indices of the same season positions.

Its value to a recurrent forecaster is not that it is accurate alone (AutoTheta
is close to it) but that its errors differ from the network's: it extrapolates the
level and drift of the *whole* history, which a network that sees one window does
not. :class:`~rnncast.forecaster.Forecaster` with ``combine="theta"`` mixes the
two forecasts (benchmarks/README.md, session 13, has what that changed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rnncast.data.seasonality import is_seasonal
from rnncast.exceptions import ConfigError

__all__ = [
    "COMBINATIONS",
    "EQUAL_WEIGHT",
    "check_combine",
    "combination_weight",
    "seasonal_indices",
    "smoothing_weight",
    "theta_forecast",
    "theta_forecasts",
]

Array = NDArray[np.float64]

_ALPHAS = np.linspace(0.01, 1.0, 100)  # the grid searched for alpha

COMBINATIONS = ("theta",)  # the classical forecasts ``combine`` can mix in
EQUAL_WEIGHT = 0.5  # the network's weight when there is no validation to choose it
# the network's weights tried, largest first so that ties keep more of the network
NETWORK_WEIGHTS = tuple(float(round(w, 1)) for w in np.linspace(1.0, 0.0, 11))


def check_combine(combine: str | None) -> str | None:
    """Return ``combine`` if it is None or a known combination, else raise."""
    if combine is not None and combine not in COMBINATIONS:
        raise ConfigError(
            f"unknown combine {combine!r}; choose one of {COMBINATIONS} or None."
        )
    return combine


def combination_weight(
    network: Array, theta: Array, targets: Array
) -> tuple[float, dict[float, float]]:
    r"""Return the network's weight :math:`w` whose mix has the lowest validation MAE.

    For each :math:`w` of 1, 0.9, ..., 0 the mean over the observed (not NaN)
    ``targets`` of :math:`|y - (w \hat y_{net} + (1 - w) \hat y_{theta})|`;
    all three arrays (n_windows, horizon) in the same (scaled) units. Returns
    the best weight (the first, so the largest, of equal errors) and every
    weight's error. Theta forecasts that are not finite count as the network's.
    """
    theta = np.where(np.isfinite(theta), theta, network)
    observed = ~np.isnan(targets)
    errors = {
        w: float(np.abs(targets - (w * network + (1 - w) * theta))[observed].mean())
        for w in NETWORK_WEIGHTS
    }
    best = min(errors, key=lambda w: (errors[w], -w))
    return best, errors


def theta_forecasts(
    values: Array,
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    horizon: int,
    season_length: int,
) -> Array:
    """:func:`theta_forecast` of ``values[starts[i] : starts[i] + lengths[i]]``.

    ``values`` are series concatenated (e.g. :class:`~rnncast.data.frame.
    SeriesData`'s); one forecast per (start, length), so one series may give
    several, from different cut-offs. NaN (gaps, padding) are handled by
    :func:`_observed_part`. Returns (len(starts), horizon).
    """
    forecasts = [
        theta_forecast(
            _observed_part(values[start : start + length]), horizon, season_length
        )
        for start, length in zip(starts, lengths, strict=True)
    ]
    return np.array(forecasts, dtype=np.float64).reshape(len(forecasts), horizon)


def theta_forecast(y: Array, horizon: int, season_length: int) -> Array:
    """Return the Theta forecast of the module docstring, ``horizon`` steps after ``y``.

    Series of one value (or none, returning NaN) forecast that value; a series
    too short to test for seasonality is not seasonally adjusted.
    """
    n = len(y)
    if n == 0:
        return np.full(horizon, np.nan)
    if n == 1 or np.all(y == y[0]):
        return np.full(horizon, float(y[0]))
    m = season_length
    seasonal = m >= 2 and is_seasonal(y, m)
    multiplicative = bool(np.all(y > 0))
    indices = seasonal_indices(y, m, multiplicative) if seasonal else None
    x = y if indices is None else _adjusted(y, indices, multiplicative)
    alpha, level = smoothing_weight(x)
    slope = np.polyfit(np.arange(n, dtype=np.float64), x, 1)[0]
    k = np.arange(1, horizon + 1, dtype=np.float64)
    forecast = level + slope / 2 * (k - 1 + (1 - (1 - alpha) ** n) / alpha)
    if indices is None:
        return forecast
    ahead = indices[(n + np.arange(horizon)) % m]
    return forecast * ahead if multiplicative else forecast + ahead


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


def _adjusted(y: Array, indices: Array, multiplicative: bool) -> Array:
    """``y`` seasonally adjusted by ``indices`` (position 0 = its first value)."""
    own = indices[np.arange(len(y)) % len(indices)]
    return y / own if multiplicative else y - own


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
