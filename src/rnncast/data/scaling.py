"""Per-series scaling, fitted on the training part of each series only.

A scaler is a pair of per-series statistics ``loc`` and ``scale``; the forward map is
``z = (y - loc) / scale`` and the inverse ``y = z * scale + loc``. Both work on the
flat value layout of :class:`~rnncast.data.frame.SeriesData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from rnncast.exceptions import ConfigError

__all__ = [
    "MAD_TO_STD",
    "SCALERS",
    "ScalerStats",
    "fit_scaler",
    "inverse_transform",
    "transform",
]

SCALERS = ("standard", "robust", "none")
ScalerKind = Literal["standard", "robust", "none"]

# Normal-consistency constant: for Gaussian data 1.4826 * MAD estimates the std.
MAD_TO_STD = 1.4826


@dataclass(frozen=True)
class ScalerStats:
    """Per-series location and scale, each of shape (n_series,), float64."""

    loc: NDArray[np.float64]
    scale: NDArray[np.float64]


def fit_scaler(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    train_lengths: NDArray[np.int64],
    kind: ScalerKind = "standard",
) -> ScalerStats:
    """Fit per-series statistics on the first ``train_lengths[i]`` values of series i.

    Notes
    -----
    * ``"standard"``: ``loc = mean(y)``, ``scale = std(y)`` (population, ddof=0).
    * ``"robust"``: ``loc = median(y)``, ``scale = 1.4826 * median(|y - median(y)|)``
      (the MAD, consistent with the std for Gaussian data), so outliers barely move it.
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
    if kind != "none":
        for i in range(n_series):
            part = values[offsets[i] : offsets[i] + train_lengths[i]]
            if np.isnan(part).all():  # a padded series observed only in its holdout
                part = values[offsets[i] : offsets[i + 1]]
            loc[i], scale[i] = _statistics(part[~np.isnan(part)], kind)
    # Relative, not absolute: a series of values near 1e-300 is not constant.
    negligible = (scale == 0) | (scale <= 1e-12 * np.abs(loc))
    scale[negligible] = 1.0
    return ScalerStats(loc=loc, scale=scale)


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
    """Return ``(y - loc) / scale`` for every series of the flat ``values``."""
    lengths = np.diff(offsets)
    return (values - np.repeat(stats.loc, lengths)) / np.repeat(stats.scale, lengths)


def inverse_transform(
    z: NDArray[np.float64], stats: ScalerStats
) -> NDArray[np.float64]:
    """Return ``z * scale + loc`` for ``z`` of shape (n_series, ...), a row a series."""
    shape = (-1,) + (1,) * (z.ndim - 1)
    return z * stats.scale.reshape(shape) + stats.loc.reshape(shape)
