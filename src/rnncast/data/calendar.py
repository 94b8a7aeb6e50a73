r"""Calendar inputs: future-known covariates computed from the timestamps.

With ``calendar=True`` the network reads, at every input step and for every
forecast step, the position of the timestamp in the calendar cycles finer data
repeats: for each cycle :math:`c` with position :math:`p \in [0, 1)`, the pair
:math:`\sin 2\pi p, \cos 2\pi p` (so the end of a cycle meets its start).

===========================  ===============================================
data                         cycles
===========================  ===============================================
finer than a day             hour of day, day of week, day of year
daily, business-daily        day of week, day of year
weekly                       day of year
monthly, quarterly           month of year
===========================  ===============================================

``holidays="US"`` (any country code of the ``holidays`` package) adds a 0/1 flag
for the days that are public holidays there (daily data and finer).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.exceptions import ConfigError, DataError

__all__ = ["calendar_names", "calendar_values"]

_DAY = pd.Timedelta(days=1)
# cycle -> position in [0, 1) of each timestamp
_CYCLES = {
    "hour_of_day": lambda t: (t.hour + t.minute / 60 + t.second / 3600) / 24,
    "day_of_week": lambda t: t.dayofweek / 7,
    "day_of_year": lambda t: (t.dayofyear - 1) / 366,
    "month_of_year": lambda t: (t.month - 1) / 12,
}


def calendar_names(freq: Any, holidays: str | None = None) -> tuple[str, ...]:
    """Return the names of the calendar inputs of data at frequency ``freq``, in order.

    Raises DataError for integer time and yearly data (no finer cycle to read).
    """
    names = [f"{cycle}_{part}" for cycle in _cycles(freq) for part in ("sin", "cos")]
    if holidays is not None:
        if _step(freq) > _DAY:
            raise DataError(
                f"holidays are flagged by day, so they need daily or finer data; "
                f"this data is at {freq!r}. Add your own holiday count as a "
                "future-known covariate instead."
            )
        names.append(f"holiday_{holidays}")
    return tuple(names)


def calendar_values(
    stamps: pd.Index, freq: Any, holidays: str | None = None
) -> NDArray[np.float64]:
    """Return the calendar inputs at every timestamp of ``stamps``, (n, len(names))."""
    index = pd.DatetimeIndex(stamps)
    columns = []
    for cycle in _cycles(freq):
        angle = 2 * np.pi * np.asarray(_CYCLES[cycle](index), dtype=np.float64)
        columns += [np.sin(angle), np.cos(angle)]
    if holidays is not None:
        columns.append(_holiday_flags(index, holidays))
    if not columns:
        return np.zeros((len(index), 0))
    return np.stack(columns, axis=1)


def _cycles(freq: Any) -> tuple[str, ...]:
    if isinstance(freq, int | np.integer):
        raise DataError(
            "calendar inputs need dates, but the data has integer time steps; use "
            "timestamps in the time column, or calendar=False."
        )
    step = _step(freq)
    if step < _DAY:
        return ("hour_of_day", "day_of_week", "day_of_year")
    if step < 7 * _DAY:
        return ("day_of_week", "day_of_year")
    if step < 28 * _DAY:
        return ("day_of_year",)
    if step < 365 * _DAY:
        return ("month_of_year",)
    raise DataError(
        f"calendar inputs need data finer than a year; this data is at {freq!r}. "
        "Use calendar=False."
    )


def _step(freq: Any) -> pd.Timedelta:
    """Return the length of one step of ``freq`` (its first step from 2001-01-01)."""
    stamps = pd.date_range("2001-01-01", periods=2, freq=freq)
    return pd.Timedelta(stamps[1] - stamps[0])


def _holiday_flags(index: pd.DatetimeIndex, country: str) -> NDArray[np.float64]:
    """1.0 where the timestamp's date is a public holiday in ``country``."""
    try:
        import holidays as holiday_calendars
    except ImportError as e:
        raise ConfigError(
            f"holidays={country!r} needs the holidays package: pip install "
            "'rnncast[holidays]' (or pip install holidays)."
        ) from e
    years = range(int(index.year.min()), int(index.year.max()) + 1)
    try:
        days = holiday_calendars.country_holidays(country, years=years)
    except NotImplementedError as e:
        raise ConfigError(
            f"unknown holidays country {country!r}; give a code of the holidays "
            "package, such as US, GB, DE, FR or IN."
        ) from e
    dates = pd.DatetimeIndex(sorted(days)).as_unit("ns")
    local = index.tz_localize(None) if index.tz is not None else index
    return np.asarray(local.normalize().isin(dates), dtype=np.float64)
