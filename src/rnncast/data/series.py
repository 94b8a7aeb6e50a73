"""The flat layout of many series, and forecast frames built from it.

:class:`SeriesData` holds validated series as one float64 array plus offsets (the
layout of statsforecast's ``GroupedArray``), which the rest of the package works
on; :func:`forecast_frame` turns (n_series, horizon) arrays back into long frames.
Timestamps of many series are computed at once (:mod:`rnncast.data.timeline`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.data.timeline import shift_timestamps, stamp_list, timestamps_of_series
from rnncast.data.windows import series_positions

__all__ = [
    "Freq",
    "SeriesData",
    "decode_time",
    "encode_time",
    "forecast_frame",
    "format_time",
    "future_timestamps",
    "horizon_stamps",
    "owners_of",
    "python_scalar",
    "repeat_ids",
    "season_length_from_freq",
    "seasons_from_freq",
    "series_timestamps",
]

Freq = str | int


@dataclass(frozen=True)
class SeriesData:
    """Validated series, stored as one flat value array plus offsets.

    Attributes
    ----------
    ids : list
        Series identifiers, sorted; ``ids[i]`` owns ``values[offsets[i]:offsets[i+1]]``.
    values : ndarray of shape (n_points,), float64
        All observations, series after series, in time order; finite, except for
        the NaN gaps kept by ``missing="mask"`` (never at a series' start).
    offsets : ndarray of shape (n_series + 1,), int64
        Start of each series in ``values``; ``offsets[-1] == len(values)``.
    first_ds, last_ds : list
        Timestamp (``pd.Timestamp`` or ``int``) of each series' first and last value.
    freq : str or int
        Pandas frequency alias (e.g. ``"MS"``) or the integer step of integer time.
    filled : dict
        Number of values filled per series by the ``fill`` policy (only series
        where something was filled or dropped appear).
    masked : dict
        Number of missing values kept as NaN per series by ``missing="mask"``
        (only series with gaps appear).
    exog : ndarray of shape (n_points, k) or None
        Dynamic covariates (:mod:`rnncast.data.covariates`), raw, aligned with
        ``values``; columns ``exog_names`` (future-known first, then past).
    static : DataFrame or None
        Static covariates, one row per series in the order of ``ids``.
    """

    ids: list[Hashable]
    values: NDArray[np.float64]
    offsets: NDArray[np.int64]
    first_ds: list[Any]
    last_ds: list[Any]
    freq: Freq
    filled: dict[Hashable, int] = field(default_factory=dict)
    masked: dict[Hashable, int] = field(default_factory=dict)
    exog: NDArray[np.float64] | None = None
    exog_names: tuple[str, ...] = ()
    static: pd.DataFrame | None = None

    def with_covariates(
        self,
        exog: NDArray[np.float64] | None,
        names: tuple[str, ...],
        static: pd.DataFrame | None,
    ) -> SeriesData:
        """Return the series with covariates, dynamic and static.

        ``exog`` raw, one row per value, columns ``names``; ``static`` a row per
        series.
        """
        return dataclasses.replace(self, exog=exog, exog_names=names, static=static)

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.ids)

    @property
    def lengths(self) -> NDArray[np.int64]:
        """Number of observations of each series, shape (n_series,)."""
        return np.diff(self.offsets)

    def series(self, i: int) -> NDArray[np.float64]:
        """Values of series ``i`` (a view, do not modify)."""
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def owners(self, positions: NDArray[np.int64]) -> NDArray[np.int64]:
        """Return the series that each position of the flat ``values`` belongs to."""
        return owners_of(self.offsets, positions)

    def head(self, lengths: NDArray[np.int64]) -> SeriesData:
        """Return the first ``lengths[i]`` values of each series (data to a cutoff)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        keep = series_positions(self.offsets) < np.repeat(lengths, self.lengths)
        lasts = shift_timestamps(self.first_ds, self.freq, lengths - 1)
        return SeriesData(
            ids=self.ids,
            values=self.values[keep],
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            first_ds=self.first_ds,
            last_ds=stamp_list(lasts),
            freq=self.freq,
            exog=None if self.exog is None else self.exog[keep],
            exog_names=self.exog_names,
            static=self.static,
        )

    def select(self, rows: NDArray[np.int64]) -> SeriesData:
        """Return the series ``rows`` (ascending), with their fill and gap counts."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows]
        keep = np.repeat(np.isin(np.arange(self.n_series), rows), self.lengths)
        ids = [self.ids[i] for i in rows]
        chosen = set(ids)
        return SeriesData(
            ids=ids,
            values=self.values[keep],
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            first_ds=[self.first_ds[i] for i in rows],
            last_ds=[self.last_ds[i] for i in rows],
            freq=self.freq,
            filled={k: v for k, v in self.filled.items() if k in chosen},
            masked={k: v for k, v in self.masked.items() if k in chosen},
            exog=None if self.exog is None else self.exog[keep],
            exog_names=self.exog_names,
            static=None
            if self.static is None
            else self.static.iloc[rows].reset_index(drop=True),
        )

    def timestamps(self) -> pd.Index:
        """Timestamps of all values, series after series (aligned with ``values``)."""
        return timestamps_of_series(self.first_ds, self.freq, self.lengths)

    def to_frame(self) -> pd.DataFrame:
        """Return the data as a long frame ``unique_id, ds, y`` (and covariates)."""
        frame = pd.DataFrame(
            {
                "unique_id": repeat_ids(self.ids, self.lengths),
                "ds": self.timestamps(),
                "y": self.values,
            }
        )
        if self.exog is not None:
            for j, name in enumerate(self.exog_names):
                frame[name] = self.exog[:, j]
        if self.static is not None:
            for name in self.static.columns:
                frame[name] = np.repeat(self.static[name].to_numpy(), self.lengths)
        return frame


def owners_of(
    offsets: NDArray[np.int64], positions: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Series owning each flat position, for the offsets of a flat layout."""
    return np.searchsorted(offsets, positions, side="right") - 1


def forecast_frame(
    ids: list[Hashable],
    last_ds: list[Any],
    freq: Freq,
    values: NDArray[np.float64],
    *,
    column: str,
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> pd.DataFrame:
    """Long forecast frame from an (n_series, horizon) array of forecasts.

    Row ``k`` of series ``i`` is the forecast for the ``k + 1``-th step after
    ``last_ds[i]``.
    """
    n_series, horizon = values.shape
    return pd.DataFrame(
        {
            id_col: repeat_ids(ids, np.full(n_series, horizon)),
            time_col: horizon_stamps(last_ds, freq, horizon),
            column: values.reshape(-1),
        }
    )


def horizon_stamps(last_ds: list[Any], freq: Freq, horizon: int) -> pd.Index:
    """Return the timestamps of the ``horizon`` steps after each of ``last_ds``.

    Series after series, flat: ``len(last_ds) * horizon`` of them.
    """
    counts = np.full(len(last_ds), horizon + 1, dtype=np.int64)
    stamps = timestamps_of_series(last_ds, freq, counts)
    after_last = np.ones(len(stamps), dtype=bool)
    after_last[:: horizon + 1] = False
    return stamps[after_last]


def future_timestamps(last: Any, freq: Freq, horizon: int) -> pd.Index:
    """Timestamps of the ``horizon`` steps after ``last`` at frequency ``freq``."""
    return _timestamps_from(last, freq, horizon + 1)[1:]


def repeat_ids(ids: list[Hashable], counts: NDArray[np.int64]) -> NDArray[Any]:
    """Each id repeated ``counts[i]`` times, as int64 when all ids are integers."""
    integer = all(isinstance(u, int | np.integer) for u in ids)
    return np.repeat(np.asarray(ids, dtype=np.int64 if integer else object), counts)


def season_length_from_freq(freq: Freq) -> int:
    """Usual seasonal period of a frequency: observations per natural cycle.

    Monthly 12, quarterly 4, weekly 52, daily 7 (a week), business-daily 5, hourly 24
    (a day), minutely one day's worth (30min -> 48), secondly 60 (a minute), yearly
    and integer time 1: the first of :func:`seasons_from_freq`, rounded.
    For multiples such as 2h the daily cycle is divided by the multiple when it
    divides evenly, else 1.

    Examples
    --------
    >>> season_length_from_freq("MS"), season_length_from_freq("30min")
    (12, 48)
    """
    return round(seasons_from_freq(freq)[0])


# periods of each base frequency, shortest first; the day and week of sub-daily data
# are counted in steps per day, divided by the multiple below
_PER_DAY = {"H": 24, "BH": 24, "MIN": 1440, "T": 1440}
_CALENDAR = {
    "M": (12,),
    "Q": (4,),
    "W": (365.25 / 7,),  # 52.18 weeks in a year
    "D": (7, 365.25),
    "B": (5,),
}


def seasons_from_freq(freq: Freq) -> tuple[float, ...]:
    """Every usual seasonal period of a frequency, shortest first.

    Hourly 24 and 168 (a day and a week); minutely the day's and the week's
    number of steps (30min -> 48, 336); daily 7 and 365.25 (a week and a year);
    weekly 52.18 (the year's mean number of weeks); monthly 12, quarterly 4,
    business-daily 5, secondly 60; yearly and integer time 1. For multiples
    such as 2h each period is divided by the multiple, and kept where it
    divides evenly (a whole number of steps); (1,) where none does. Which of
    them a fit keeps depends on the data
    (:func:`~rnncast.data.seasonality.kept_seasons`).

    Examples
    --------
    >>> seasons_from_freq("h"), seasons_from_freq("D")
    ((24, 168), (7, 365.25))
    """
    if isinstance(freq, int):
        return (1,)
    offset = pd.tseries.frequencies.to_offset(freq)
    code = offset.rule_code.split("-")[0].upper()
    n = max(int(offset.n), 1)
    if code in _PER_DAY:
        periods: tuple[float, ...] = (_PER_DAY[code], 7 * _PER_DAY[code])
    elif code == "S":
        periods = (60,)
    else:
        periods = next(
            (
                found
                for prefix, found in _CALENDAR.items()
                if code.startswith(prefix) or code.startswith("B" + prefix)
            ),
            (1,),
        )
    kept = tuple(_divided(p, n) for p in periods if n == 1 or _divides(p, n))
    return kept or (1,)


def _divides(period: float, n: int) -> bool:
    return float(period).is_integer() and int(period) % n == 0


def _divided(period: float, n: int) -> float:
    return period // n if float(period).is_integer() else period / n


def series_timestamps(first: Any, freq: Freq, n: int) -> pd.Index:
    """Return the ``n`` timestamps from ``first`` on at frequency ``freq``."""
    return _timestamps_from(first, freq, n)


def _timestamps_from(first: Any, freq: Freq, n: int) -> pd.Index:
    if isinstance(freq, int):
        return pd.Index(first + freq * np.arange(n, dtype=np.int64))
    return pd.date_range(start=first, periods=n, freq=freq)


def format_time(value: Any) -> str:
    """Format a timestamp as people write it: the date alone at midnight."""
    if (
        isinstance(value, pd.Timestamp)
        and value.tz is None
        and value == value.normalize()
    ):
        return str(value.date())
    return str(value)


def encode_time(value: Any) -> str | int:
    """Write a timestamp for JSON: ISO 8601 text with its time zone, or the int step."""
    return value.isoformat() if isinstance(value, pd.Timestamp) else int(value)


def decode_time(value: str | int) -> Any:
    """Inverse of :func:`encode_time`."""
    return pd.Timestamp(value) if isinstance(value, str) else int(value)


def python_scalar(value: Any) -> Any:
    """Turn a NumPy integer into a Python int (for JSON and plain comparisons)."""
    return int(value) if isinstance(value, np.integer) else value
