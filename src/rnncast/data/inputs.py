"""Any accepted input -> a long frame ``unique_id, ds, y``.

Files (CSV, Parquet), pandas and polars frames, a Series, an array: each becomes a
new pandas frame of the three columns, under the names the caller gives, with
clear errors for missing columns and for several series read as one.
:func:`~rnncast.data.frame.validate_frame` then checks and converts it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnncast.exceptions import DataError, listing

__all__ = [
    "DEFAULT_SINGLE_ID",
    "DataLike",
    "read_table",
    "to_long_frame",
    "to_pandas",
]

DataLike = pd.DataFrame | pd.Series | np.ndarray | list[float] | str | os.PathLike[str]

DEFAULT_SINGLE_ID = "series"


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame, with clear errors."""
    file = Path(path)
    if not file.exists():
        raise DataError(f"file {str(file)!r} does not exist. Check the path.")
    if file.is_dir():
        raise DataError(f"{str(file)!r} is a folder; give a CSV or Parquet file.")
    if file.stat().st_size == 0:
        raise DataError(f"file {str(file)!r} is empty; it needs a header and rows.")
    suffix = file.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            return pd.read_parquet(file)
        return pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(
            f"cannot read {str(file)!r} as "
            f"{'Parquet' if suffix in {'.parquet', '.pq'} else 'CSV'}: {e}. "
            "Check that the file is a valid table with a header row."
        ) from e
    except (OSError, ValueError) as e:  # pyarrow raises these on corrupt files
        raise DataError(f"cannot read {str(file)!r}: {e}") from e


def to_long_frame(
    data: DataLike,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Turn any accepted input into a new frame with columns ``unique_id, ds, y``.

    Parameters
    ----------
    data : DataFrame, Series, ndarray, list or path
        * a long frame with ``id_col``, ``time_col`` and ``target_col`` (pandas,
          or polars, converted with its ``to_pandas``);
        * a frame of one series with ``time_col`` and ``target_col`` only;
        * a Series (its index is the time; integer positions if it has none);
        * a 1-D array or list (integer time steps 0, 1, 2, ...);
        * the path of a CSV or Parquet file holding such a frame.
    id_col, time_col, target_col : str
        Column names in ``data``.
    keep : sequence of str
        Other columns to keep (covariates), where ``data`` has them.

    Returns
    -------
    DataFrame
        A copy; the caller's object is never modified. ``attrs["ignored_columns"]``
        names the frame's other columns, which are not read.

    Raises
    ------
    DataError
        A column named by the caller is missing (the id column may be absent under
        its default name: one series), or a frame without an id column repeats its
        timestamps and another column tells those rows apart (several series,
        which would be merged into one).
    """
    if isinstance(data, str | os.PathLike):
        data = read_table(data)
    data = _from_polars(data)
    if isinstance(data, pd.Series):
        name = data.name if data.name is not None else DEFAULT_SINGLE_ID
        index = data.index
        ds = index if not isinstance(index, pd.RangeIndex) else np.arange(len(data))
        return pd.DataFrame({"unique_id": name, "ds": ds, "y": data.to_numpy()})
    if isinstance(data, np.ndarray | list | tuple):
        arr = np.asarray(data)
        if arr.ndim != 1:
            raise DataError(
                f"an array input must be 1-D (one series), got shape {arr.shape}. "
                "Pass several series as a long DataFrame with unique_id, ds, y."
            )
        return pd.DataFrame(
            {"unique_id": DEFAULT_SINGLE_ID, "ds": np.arange(len(arr)), "y": arr}
        )
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"cannot use data of type {type(data).__name__}; pass a pandas or polars "
            "DataFrame, a Series, a 1-D array or the path of a CSV/Parquet file."
        )
    _check_columns(data, id_col, time_col, target_col)
    if id_col in data.columns:
        ids = data[id_col]
    else:
        _check_one_series(data, time_col, target_col)
        ids = DEFAULT_SINGLE_ID
    frame = pd.DataFrame(
        {
            "unique_id": ids,
            "ds": data[time_col].to_numpy(),
            "y": data[target_col].to_numpy(),
        }
    )
    for column in keep:
        if column in data.columns:
            frame[column] = data[column].to_numpy()
    used = {id_col, time_col, target_col, *keep}
    frame.attrs["ignored_columns"] = [str(c) for c in data.columns if c not in used]
    return frame


def to_pandas(data: Any) -> Any:
    """Return a polars DataFrame or Series as pandas; anything else unchanged."""
    return _from_polars(data)


def _from_polars(data: Any) -> Any:
    """Return a polars DataFrame or Series as pandas (polars is no dependency)."""
    module = type(data).__module__
    if module.split(".")[0] == "polars" and hasattr(data, "to_pandas"):
        return data.to_pandas()
    return data


def _check_columns(
    data: pd.DataFrame, id_col: str, time_col: str, target_col: str
) -> None:
    """DataError naming the columns asked for that ``data`` lacks.

    The id column may be absent only under its default name (one series).
    """
    asked = [time_col, target_col]
    if id_col != "unique_id":
        asked.insert(0, id_col)
    missing = [c for c in asked if c not in data.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; the data has "
            f"{list(map(str, data.columns))}. "
            "Name the columns with id_col/time_col/target_col "
            "(CLI: --id-col/--time-col/--target-col)."
        )


def _check_one_series(data: pd.DataFrame, time_col: str, target_col: str) -> None:
    """DataError when a frame without an id column repeats timestamps by a column.

    Such a frame would be read as one series; a column that tells the rows of
    each timestamp apart (not a float) is most likely the series id.
    """
    if not data[time_col].duplicated().any():
        return
    candidates = [
        str(c)
        for c in data.columns
        if c not in (time_col, target_col)
        and not pd.api.types.is_float_dtype(data[c])
        and not data.duplicated([c, time_col]).any()
    ]
    if not candidates:
        return  # one series with repeated stamps: validate_frame says so
    others = f" (or {listing(candidates[1:])})" if len(candidates) > 1 else ""
    raise DataError(
        f"the data has no 'unique_id' column, so it would be read as one series, "
        f"but its timestamps repeat, and column {candidates[0]!r}{others} tells "
        f"the rows of each timestamp apart: it holds several series. Did you mean "
        f"--id-col {candidates[0]} (id_col={candidates[0]!r})?"
    )
