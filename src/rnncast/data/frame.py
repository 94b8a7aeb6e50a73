"""Validating input data: a long frame -> :class:`SeriesData`.

rnncast speaks the long format of the Nixtla tools: one row per observation with a
series identifier ``unique_id``, a timestamp ``ds`` and a target ``y``
(:mod:`rnncast.data.inputs` turns any accepted input into one). Inputs are
validated once, here, and then held as one flat float64 array plus offsets (the
layout of statsforecast's ``GroupedArray``), which the rest of the package works on.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.data.inputs import DEFAULT_SINGLE_ID
from rnncast.data.series import (
    Freq,
    SeriesData,
    format_time,
    owners_of,
    python_scalar,
)
from rnncast.data.timeline import fixed_step, stamp_list, timestamps_of_series
from rnncast.exceptions import DataError, listing
from rnncast.options import FILL_POLICIES, MISSING_MODES

__all__ = [
    "check_alias",
    "clean_columns",
    "validate_frame",
]

FillPolicy = Literal["interpolate", "ffill", "drop-leading"]
MissingMode = Literal["auto", "mask", "error"]
_FREQ_SAMPLE = 100  # series looked at to infer a date frequency
_Counts = dict[Hashable, int]


def validate_frame(
    frame: pd.DataFrame,
    *,
    freq: Freq | None = None,
    fill: FillPolicy | None = None,
    missing: MissingMode = "error",
) -> SeriesData:
    """Validate a long frame and return it as :class:`SeriesData`.

    Checks, in order: rows present, numeric finite target (or a ``fill`` policy),
    parseable timestamps, no duplicate ``(unique_id, ds)``, one regular frequency.
    Rows are sorted by series and time; the input is not modified.

    Parameters
    ----------
    frame : DataFrame
        Long frame with ``unique_id, ds, y`` (see :func:`to_long_frame`).
    freq : str or int, optional
        Pandas frequency alias, or the step of integer time. Inferred if omitted.
    fill : {"interpolate", "ffill", "drop-leading"}, optional
        What to do with NaN or infinite targets (both count as missing). Without a
        policy they are an error. In every policy missing values at the start of a
        series are dropped. ``"drop-leading"`` does nothing else (later gaps stay an
        error); ``"ffill"`` carries the last observation forward; ``"interpolate"``
        fills interior gaps linearly in time and carries the last value forward over
        a missing tail.
    missing : {"auto", "mask", "error"}, default "error"
        ``"mask"`` keeps missing values (NaN or inf) after a series' first
        observation as NaN gaps, for models that mask them; missing values at the
        start are dropped. Cannot be combined with ``fill``. ``"auto"``: ``fill``
        where given, else ``"mask"``.

    Raises
    ------
    DataError
        With the series, the values involved and the fix.
    """
    if fill is not None and fill not in FILL_POLICIES:
        raise DataError(f"unknown fill policy {fill!r}; choose one of {FILL_POLICIES}.")
    if missing not in MISSING_MODES:
        raise DataError(
            f"unknown missing mode {missing!r}; choose one of {MISSING_MODES}."
        )
    if missing == "mask" and fill is not None:
        raise DataError(
            f"missing='mask' keeps gaps as gaps, so it cannot be combined with "
            f"fill={fill!r}; choose one of them."
        )
    table = _SortedTable.from_frame(clean_columns(frame))
    _check_duplicates(table)
    integer_time = not isinstance(table.ds, pd.DatetimeIndex)
    if freq is None:
        freq = _infer_freq(table, integer_time)
    _check_freq_type(freq, integer_time)
    _check_regular(table, freq)

    chunks, dropped, filled, masked = _handle_missing(table, fill, missing)
    lengths = table.lengths - dropped
    starts = table.offsets[:-1] + dropped
    return SeriesData(
        ids=table.ids,
        values=np.concatenate(chunks) if chunks else table.y,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        first_ds=stamp_list(table.ds[starts]),
        last_ds=stamp_list(table.ds[table.offsets[1:] - 1]),
        freq=freq,
        filled=filled,
        masked=masked,
    )


@dataclass(frozen=True)
class _SortedTable:
    """A cleaned long frame sorted by series and time, as arrays plus offsets."""

    ids: list[Hashable]
    ds: pd.Index
    y: NDArray[np.float64]
    offsets: NDArray[np.int64]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> _SortedTable:
        """Sort by ``(unique_id, ds)`` (skipped when already sorted)."""
        codes, uniques = pd.factorize(frame["unique_id"], sort=True)
        ds = pd.Index(frame["ds"])
        y = frame["y"].to_numpy(dtype=np.float64, copy=True)  # never the caller's
        time = ds.asi8 if isinstance(ds, pd.DatetimeIndex) else ds.to_numpy()
        same = codes[1:] == codes[:-1]
        ordered = bool(np.all(codes[1:] >= codes[:-1])) and bool(
            np.all(time[1:][same] >= time[:-1][same])
        )
        if not ordered:
            order = np.lexsort((time, codes))
            codes, ds, y = codes[order], ds[order], y[order]
        counts = np.bincount(codes, minlength=len(uniques))
        return cls(
            ids=[python_scalar(u) for u in uniques],
            ds=ds,
            y=y,
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        )

    @property
    def lengths(self) -> NDArray[np.int64]:
        return np.diff(self.offsets)

    def owners(self, positions: NDArray[np.int64]) -> NDArray[np.int64]:
        return owners_of(self.offsets, positions)

    def part(self, i: int) -> tuple[pd.Index, NDArray[np.float64]]:
        """Timestamps and values of series ``i``."""
        rows = slice(self.offsets[i], self.offsets[i + 1])
        return self.ds[rows], self.y[rows]


def _handle_missing(
    table: _SortedTable, fill: FillPolicy | None, missing: MissingMode
) -> tuple[list[NDArray[np.float64]], NDArray[np.int64], _Counts, _Counts]:
    """Apply ``fill`` or ``missing`` to the series that have missing values.

    Returns the value chunks of all series (empty when nothing was missing, then
    ``table.y`` is used as is), the number dropped at each series' start, and the
    filled and masked counts per series id.
    """
    dropped = np.zeros(len(table.ids), dtype=np.int64)
    filled: dict[Hashable, int] = {}
    masked: dict[Hashable, int] = {}
    bad = ~np.isfinite(table.y)
    if not bad.any():
        return [], dropped, filled, masked
    owners = table.owners(np.flatnonzero(bad))
    affected = set(np.unique(owners).tolist())
    empty = np.flatnonzero(
        np.bincount(owners, minlength=len(table.ids)) == table.lengths
    )
    if len(empty):
        raise DataError(
            f"{len(empty)} series have no finite value: "
            f"{listing(table.ids[i] for i in empty)}; drop them from the data."
        )
    chunks = []
    for i, uid in enumerate(table.ids):
        ds, y = table.part(i)
        if i not in affected:
            chunks.append(y)
            continue
        if missing == "mask" or (missing == "auto" and fill is None):
            values, n_dropped, n_masked = _mask_gaps(uid, y)
            if n_masked:
                masked[uid] = n_masked
            n_filled = 0
        else:
            values, n_dropped, n_filled = _apply_fill(uid, y, ds, fill)
        if n_dropped or n_filled:
            filled[uid] = n_dropped + n_filled
        dropped[i] = n_dropped
        chunks.append(values)
    return chunks, dropped, filled, masked


def clean_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Check and convert the columns of a long frame; return a new frame of them.

    ``unique_id``: no missing ids, integers as int64, anything else as text;
    ``y``: float64 (numbers as text are parsed, other text is an error);
    ``ds``: integer steps or timestamps of one time zone.
    """
    if len(frame) == 0:
        raise DataError("the data has no rows; give at least one series with values.")
    return pd.DataFrame(  # only the three columns, without copying them
        {
            "unique_id": _clean_ids(frame["unique_id"]),
            "ds": _parse_timestamps(frame["ds"]),
            "y": _numeric_target(frame),
        },
        copy=False,
    )


def clean_keys(ids: pd.Series) -> pd.Series:
    """Series ids as :func:`clean_columns` reads them (int64, else text)."""
    return _clean_ids(ids)


def _clean_ids(ids: pd.Series) -> pd.Series:
    if ids.isna().any():
        raise DataError(
            f"column 'unique_id' has {int(ids.isna().sum())} missing identifier(s); "
            "every row needs the id of its series."
        )
    if pd.api.types.is_integer_dtype(ids):
        return ids.astype(np.int64)
    return ids.astype(str)


def _numeric_target(frame: pd.DataFrame) -> NDArray[np.float64]:
    y = frame["y"]
    if pd.api.types.is_bool_dtype(y):
        raise DataError("the target column holds booleans; it must be numeric.")
    if pd.api.types.is_numeric_dtype(y):
        return y.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(y, errors="coerce")
    bad = converted.isna() & y.notna()
    if bad.any():
        row = frame.loc[bad.to_numpy()].iloc[0]
        raise DataError(
            f"the target column must be numeric: series {row['unique_id']!r} has "
            f"{row['y']!r} at {format_time(row['ds'])} ({int(bad.sum())} non-numeric "
            "value(s) in all). Clean or drop those rows, or choose another "
            "--target-col."
        )
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _parse_timestamps(ds: pd.Series) -> pd.Series:
    if ds.isna().any():
        raise DataError(
            f"the time column has {int(ds.isna().sum())} missing timestamp(s); "
            "every row needs a time."
        )
    if pd.api.types.is_integer_dtype(ds) or pd.api.types.is_datetime64_any_dtype(ds):
        return ds
    if pd.api.types.is_float_dtype(ds):
        if np.all(np.mod(ds.to_numpy(), 1) == 0):
            return ds.astype(np.int64)
        raise DataError(
            "the time column holds fractional numbers; use dates or integer steps."
        )
    try:
        parsed = pd.to_datetime(ds, format="mixed")
    except (ValueError, TypeError) as e:
        raise DataError(
            f"cannot read the time column as dates ({e}). Use ISO dates such as "
            "2024-01-31 or integer time steps, or choose another --time-col."
        ) from e
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        raise DataError(
            "the time column mixes time zones (or aware and naive times); convert "
            "all timestamps to one time zone first."
        )
    if parsed.isna().any():
        raise DataError(
            f"{int(parsed.isna().sum())} timestamp(s) in the time column are empty or "
            "not dates; every row needs a time."
        )
    return parsed


def _check_duplicates(table: _SortedTable) -> None:
    same_series = np.ones(len(table.y) - 1, dtype=bool)
    same_series[table.offsets[1:-1] - 1] = False
    repeated = np.flatnonzero(same_series & (table.ds[1:] == table.ds[:-1]))
    if len(repeated) == 0:
        return
    first = int(repeated[0])
    rows = len(np.union1d(repeated, repeated + 1))
    uid = table.ids[int(table.owners(np.array([first]))[0])]
    advice = (
        "Drop the duplicates, or resample (resample=, CLI --resample) to combine "
        "the rows of each step."
    )
    if uid == DEFAULT_SINGLE_ID:
        advice = (
            "The data has no id column, so it is read as one series; if it holds "
            "several, name their id column (id_col=, CLI --id-col). " + advice
        )
    raise DataError(
        f"series {uid!r} has duplicate timestamps: "
        f"{format_time(table.ds[first])} appears more than once ({rows} "
        f"duplicated rows in all). {advice}"
    )


def _infer_freq(table: _SortedTable, integer_time: bool) -> Freq:
    """Return the most common step: of all series (integer time) or of a sample.

    Dates: ``pd.infer_freq`` on up to ``_FREQ_SAMPLE`` series spread over the data
    (on the whole series, else its first or last 3 stamps); every series is then
    checked against the result, so a sample cannot let an irregular one through.
    """
    if integer_time:
        steps = np.diff(table.ds.to_numpy())
        steps = np.delete(steps, table.offsets[1:-1] - 1)
        if len(steps) == 0:
            return 1
        return int(pd.Series(steps).mode().iloc[0])
    n_series = len(table.ids)
    sample = np.unique(np.linspace(0, n_series - 1, min(n_series, _FREQ_SAMPLE)))
    candidates = []
    for i in sample.astype(np.int64):
        index = pd.DatetimeIndex(table.part(int(i))[0])
        for window in (index, index[:3], index[-3:]):
            if len(window) >= 3:
                found = _infer_freq_alias(window)
                if found is not None:
                    candidates.append(found)
                    break
    if not candidates:
        raise DataError(
            "cannot infer the frequency of the time column (each series needs 3 "
            "regularly spaced timestamps). Pass freq=, e.g. freq='D' or 'MS'; for "
            "irregular timestamps put them on a grid with resample='5min' (CLI: "
            "--resample 5min)."
        )
    return str(pd.Series(candidates).mode().iloc[0])


def _infer_freq_alias(index: pd.DatetimeIndex) -> str | None:
    """``pd.infer_freq`` as a string alias, on pandas 2 (string) and 3 (offset)."""
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            found = pd.infer_freq(index)
    except (KeyError, pd.errors.OptionError):  # pandas < 3 has no such option
        found = pd.infer_freq(index)
    if found is None or isinstance(found, str):
        return found
    return str(found.freqstr)


def _check_freq_type(freq: Freq, integer_time: bool) -> None:
    if integer_time and not (isinstance(freq, int) and freq > 0):
        raise DataError(
            f"the time column holds integers, so freq must be a positive integer "
            f"step, got {freq!r}."
        )
    if not integer_time:
        if not isinstance(freq, str):
            raise DataError(
                f"the time column holds dates, so freq must be a pandas alias such "
                f"as 'D' or 'MS', got {freq!r}."
            )
        check_alias(freq)


def check_alias(freq: str) -> None:
    """Raise DataError unless ``freq`` is a pandas frequency alias."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # renamed-alias notices
            pd.tseries.frequencies.to_offset(freq)
    except ValueError as e:
        raise DataError(f"unknown frequency {freq!r}: {e}") from e


def _check_regular(table: _SortedTable, freq: Freq) -> None:
    """Every series' timestamps are ``first, first + 1 step, ...`` at ``freq``."""
    if _constant_steps(table, freq):
        return
    expected = timestamps_of_series(table.ds[table.offsets[:-1]], freq, table.lengths)
    wrong = np.flatnonzero(np.asarray(expected != table.ds))
    if len(wrong) == 0:
        return
    row = int(wrong[0])
    i = int(table.owners(np.array([row]))[0])
    mismatch = row - int(table.offsets[i])
    actual = table.part(i)[0]
    if mismatch == 0:
        raise DataError(
            f"series {table.ids[i]!r} starts at {format_time(actual[0])}, which is "
            f"not a step of frequency {freq!r} (the step there would be "
            f"{format_time(expected[row])}). Pass the right freq=, or resample the "
            f"series with resample={freq!r} (CLI: --resample {freq})."
        )
    raise DataError(
        f"series {table.ids[i]!r} has irregular timestamps at frequency {freq!r}: "
        f"after {format_time(actual[mismatch - 1])} the next timestamp should be "
        f"{format_time(expected[row])} but is {format_time(actual[mismatch])}. "
        f"Resample it to a regular grid with resample={freq!r} (CLI: --resample "
        f"{freq}), or pass the right freq=."
    )


def _constant_steps(table: _SortedTable, freq: Freq) -> bool:
    """Check the cheap way: each series moves by the same fixed step every time.

    Only for integer time and fixed-length steps; False means "not shown" (a
    calendar frequency or a wrong step), and the full check decides.
    """
    if isinstance(freq, int):
        time, step = table.ds.to_numpy(), freq
    else:
        fixed = fixed_step(freq, table.ds.tz)
        if fixed is None:
            return False
        unit = pd.Timedelta(1, unit=table.ds.unit)
        if fixed % unit != pd.Timedelta(0):
            return False
        time, step = table.ds.asi8, fixed // unit
    steps = np.diff(time)
    steps[table.offsets[1:-1] - 1] = step  # across series boundaries
    return bool(np.all(steps == step))


def _mask_gaps(
    uid: Any, y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], int, int]:
    """Return (values with NaN gaps, number dropped at the start, number masked)."""
    missing = ~np.isfinite(y)
    if missing.all():
        raise DataError(f"series {uid!r} has no finite values; drop it from the data.")
    n_dropped = int(np.argmax(~missing))
    values = np.where(missing, np.nan, y)[n_dropped:]
    return values, n_dropped, int(missing[n_dropped:].sum())


def _apply_fill(
    uid: Any, y: NDArray[np.float64], ds: pd.Index, fill: FillPolicy | None
) -> tuple[NDArray[np.float64], int, int]:
    """Return (values, number dropped at the start, number filled)."""
    missing = ~np.isfinite(y)
    if not missing.any():
        return y, 0, 0
    if fill is None:
        at = ds[int(np.argmax(missing))]
        raise DataError(
            f"series {uid!r} has {int(missing.sum())} missing or infinite target "
            f"value(s), the first at {format_time(at)}. Choose a fill policy: "
            "fill='interpolate', 'ffill' or 'drop-leading' (CLI: --fill), keep them "
            "as gaps with missing='mask' (CLI: --missing mask), or clean the data."
        )
    if missing.all():
        raise DataError(f"series {uid!r} has no finite values; drop it from the data.")
    n_dropped = int(np.argmax(~missing))
    y, missing = y[n_dropped:].copy(), missing[n_dropped:]
    n_filled = int(missing.sum())
    if n_filled == 0:
        return y, n_dropped, 0
    if fill == "drop-leading":
        at = ds[n_dropped + int(np.argmax(missing))]
        raise DataError(
            f"series {uid!r} has {n_filled} missing value(s) after its first "
            f"observation, the first at {format_time(at)}; fill='drop-leading' only "
            "drops those at the start. Use fill='interpolate' or 'ffill'."
        )
    positions = np.arange(len(y))
    observed = ~missing
    if fill == "ffill":
        last_seen = np.maximum.accumulate(np.where(observed, positions, 0))
        y = y[last_seen]
    else:  # interpolate; np.interp holds the last value over a missing tail
        y = np.interp(positions, positions[observed], y[observed])
    return y, n_dropped, n_filled
