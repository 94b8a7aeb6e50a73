"""Timestamps of many series at once, without a Python loop per series.

A series is described by its first timestamp, its frequency and its number of
values; its timestamps are ``first, first + 1 step, first + 2 steps, ...`` exactly
as ``pd.date_range(start=first, periods=n, freq=freq)`` builds them (or
``first + freq * k`` for integer time). The functions here compute those
timestamps for all series in one go:

* integer time and fixed-length steps (hours, minutes, ... and days without a time
  zone): ``first + k * step`` in integer arithmetic;
* calendar steps (months, quarters, weeks, business days, ...): one shared
  ``pd.date_range`` grid covering every series, and positions on it; a series
  whose start is not on the grid (a ``2MS`` step anchored elsewhere) falls back
  to its own ``pd.date_range``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.exceptions import ConfigError

Freq = str | int

__all__ = [
    "fixed_step",
    "season_phases",
    "shift_timestamps",
    "stamp_list",
    "step_ordinals",
    "timestamps_of_series",
]


def season_phases(stamps: Any, freq: Freq, season_length: int) -> NDArray[np.int64]:
    r"""Return the phase :math:`p \in [0, m)` of each timestamp in the season.

    :func:`step_ordinals` modulo the season length :math:`m`, so it is the same
    for the same calendar position in every series: the month of the year for
    monthly data with :math:`m = 12`, the quarter for quarterly data, the hour
    of the day for hourly data with :math:`m = 24`, the day of the week for
    daily data with :math:`m = 7`.

    Examples
    --------
    >>> season_phases(pd.to_datetime(["2024-01-01", "2024-03-01"]), "MS", 12)
    array([0, 2])
    """
    return step_ordinals(stamps, freq) % season_length


def step_ordinals(stamps: Any, freq: Freq) -> NDArray[np.int64]:
    r"""Return the number of steps of ``freq`` from a fixed origin to each timestamp.

    Steps are counted with pandas' period ordinals (months, quarters, hours...
    since 1970; business days with NumPy) on the wall clock (a time zone is
    dropped first), and for integer time as ``t // freq``. The phase of a
    timestamp in any period :math:`m` (365.25 days too) is its ordinal modulo
    :math:`m`. A frequency without calendar periods (semi-month steps) raises
    :class:`~rnncast.exceptions.ConfigError`.
    """
    if isinstance(freq, int):
        return np.asarray(stamps, dtype=np.int64) // freq
    index = pd.DatetimeIndex(stamps)
    if index.tz is not None:
        index = index.tz_localize(None)
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset.base, pd.offsets.BusinessDay):  # business-day periods
        days = index.to_numpy().astype("datetime64[D]")  # are deprecated in pandas
        count = np.busday_count(np.datetime64("1970-01-01"), days)
        return count // offset.n
    try:  # periods of the unit step (2MS: months), then steps of n units
        unit = pd.date_range(index[0], periods=2, freq=offset.base).to_period()
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"the frequency {freq!r} has no calendar period, so its season phase is "
            f"undefined ({error}); leave season_inputs off for this data."
        ) from error
    step = offset.n * int(unit.asi8[1] - unit.asi8[0])
    return index.to_period(unit.freq).asi8 // step


def shift_timestamps(starts: Any, freq: Freq, steps: NDArray[np.int64]) -> pd.Index:
    """Return ``starts[i]`` moved ``steps[i]`` steps of ``freq`` forward.

    Parameters
    ----------
    starts : sequence of timestamps (or ints for integer time), length n
        Each on its series' grid (as validated series' timestamps are).
    freq : str or int
        Pandas frequency alias, or the step of integer time.
    steps : ndarray of shape (n,), int, >= 0

    Returns
    -------
    Index of length n: ``date_range(start=starts[i], periods=steps[i] + 1,
    freq=freq)[-1]`` for each i, computed without a loop where the step allows.
    """
    steps = np.asarray(steps, dtype=np.int64)
    if isinstance(freq, int):
        return pd.Index(np.asarray(starts, dtype=np.int64) + freq * steps)
    index = pd.DatetimeIndex(starts)
    step = fixed_step(freq, index.tz)
    if step is not None:
        return index + pd.to_timedelta(steps * step.value, unit="ns")
    return _shift_on_grid(index, freq, steps)


def timestamps_of_series(
    starts: Any, freq: Freq, counts: NDArray[np.int64]
) -> pd.Index:
    """All timestamps of several series, series after series.

    Series ``i`` starts at ``starts[i]`` and has ``counts[i]`` steps; the result
    has ``counts.sum()`` entries, like concatenating
    ``date_range(start=starts[i], periods=counts[i], freq=freq)`` over ``i``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    position = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    if isinstance(freq, int):
        return pd.Index(np.asarray(starts, dtype=np.int64)[owner] + freq * position)
    index = pd.DatetimeIndex(starts)
    step = fixed_step(freq, index.tz)
    if step is not None:
        return index[owner] + pd.to_timedelta(position * step.value, unit="ns")
    grid, at = _grid_for(index, freq, int(counts.max(initial=1)))
    if (at >= 0).all():
        return grid[at[owner] + position]
    pieces = [  # some start is off the shared grid: one date_range per series
        pd.date_range(start=first, periods=n, freq=freq)
        for first, n in zip(index, counts, strict=True)
    ]
    return pieces[0].append(pieces[1:])


def stamp_list(index: pd.Index) -> list[Any]:
    """Timestamps as a list of ``pd.Timestamp`` (or Python ints for integer time)."""
    if isinstance(index, pd.DatetimeIndex):
        return list(index)
    return [int(v) for v in index]


def fixed_step(freq: str, tz: Any = None) -> pd.Timedelta | None:
    """Return the constant length of one step of ``freq``, or None for calendar steps.

    Hours, minutes, seconds and finer are fixed; so is a day without a time zone
    (with one, ``pd.date_range`` steps calendar days, 23 or 25 hours at DST).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # renamed-alias notices
        offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Day):  # date_range keeps local midnight
        return pd.Timedelta(days=int(offset.n)) if tz is None else None
    if isinstance(offset, pd.offsets.Tick):
        return pd.Timedelta(offset)
    return None


def _grid_for(
    index: pd.DatetimeIndex, freq: str, longest: int
) -> tuple[pd.DatetimeIndex, NDArray[np.int64]]:
    """Return a date_range covering every series and the starts' positions (-1: off)."""
    end = pd.date_range(start=index.max(), periods=longest, freq=freq)[-1]
    grid = pd.date_range(start=index.min(), end=end, freq=freq)
    return grid, grid.get_indexer(index)


def _shift_on_grid(
    index: pd.DatetimeIndex, freq: str, steps: NDArray[np.int64]
) -> pd.DatetimeIndex:
    grid, at = _grid_for(index, freq, int(steps.max(initial=0)) + 1)
    if (at >= 0).all():
        return grid[at + steps]
    return pd.DatetimeIndex(  # some start is off the shared grid: one at a time
        [
            pd.date_range(start=first, periods=k + 1, freq=freq)[-1]
            for first, k in zip(index, steps, strict=True)
        ]
    )
