r"""Covariates: the other columns a forecast reads, aligned with the series.

Three kinds, named as NeuralForecast names them, so that its users' frames work
unchanged:

* future-known (``futr_exog``): known for the horizon too (calendar, prices,
  planned promotions, weather forecasts); ``predict`` reads them for the horizon
  from ``futr_df`` (:func:`horizon_values`);
* past (``hist_exog``): observed up to the forecast origin only (other sensors);
* static (``stat_exog``): one value per series (region, category), numbers or
  text (one-hot encoded, :class:`StaticEncoding`).

Dynamic covariates (future-known, then past) are stored raw beside the target,
one row per value (:func:`attach`), and scaled per series on the training part
(:func:`dynamic_statistics`): :math:`(x - \mu_{i}) / \sigma_{i}`, with
:math:`\sigma_i` the column's standard deviation over all series where a series
is constant, and no scaling for 0/1 flags. Calendar inputs are computed from the
timestamps (:mod:`rnncast.data.calendar`).

Covariates are never filled: a missing or infinite value is an error that names
the series, the column and the timestamp.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.data.calendar import calendar_names
from rnncast.data.frame import clean_keys
from rnncast.data.inputs import to_pandas
from rnncast.data.series import (
    Freq,
    SeriesData,
    format_time,
    horizon_stamps,
    python_scalar,
    repeat_ids,
)
from rnncast.exceptions import DataError, listing

__all__ = [
    "NO_COVARIATES",
    "CovariateLayout",
    "StaticEncoding",
    "attach",
    "dynamic_statistics",
    "horizon_values",
    "static_table",
]

_SHOWN = 5  # timestamps named in an error, per series


def attach(
    series: SeriesData,
    frame: pd.DataFrame,
    dynamic: Sequence[str],
    static: Sequence[str] = (),
    static_df: pd.DataFrame | None = None,
) -> SeriesData:
    """Return ``series`` with its covariates from ``frame`` (and ``static_df``).

    ``frame``: the long frame read (``unique_id``, ``ds`` and the covariate
    columns); ``dynamic``: the future-known then past columns, one value per
    timestamp of every series; ``static``: one value per series, from
    ``static_df`` (``unique_id`` and those columns) when given, else constant
    columns of ``frame``.

    Raises
    ------
    DataError
        A column is missing, not numeric (dynamic), missing or infinite at some
        timestamp, or not constant within a series (static); every offending
        series is named.
    """
    dynamic, static = list(dynamic), list(static)
    if not dynamic and not static:
        return series
    exog = None
    if dynamic:
        _require(frame, dynamic, "the data")
        exog = _aligned(series, frame, dynamic)
    table = None
    if static:
        where = "the data" if static_df is None else "static_df"
        source = frame if static_df is None else static_df
        table = static_table(source, static, series.ids, where)
    return series.with_covariates(exog, tuple(dynamic), table)


def static_table(
    frame: pd.DataFrame, columns: Sequence[str], ids: list[Hashable], where: str
) -> pd.DataFrame:
    """One row per series of ``ids`` (in that order) with its static ``columns``.

    Raises DataError naming the series without a row, with a missing value, or
    with more than one value of a column.
    """
    columns = list(columns)
    _require(frame, ["unique_id", *columns], where)
    keys = clean_keys(frame["unique_id"])
    table = frame[columns].set_axis(keys.to_numpy(), axis=0)
    for column in columns:
        missing = table[column].isna()
        if missing.any():
            named = listing(pd.unique(table.index[missing.to_numpy()]))
            raise DataError(
                f"static column {column!r} is missing for series {named}; give "
                "every series a value."
            )
        varying = table.groupby(level=0)[column].nunique()
        varying = varying[varying > 1]
        if len(varying):
            raise DataError(
                f"static column {column!r} takes several values within series "
                f"{listing(varying.index)}; a static covariate has one value per "
                "series (a changing one is a past or future-known covariate)."
            )
    first = table[~table.index.duplicated()]
    absent = [uid for uid in ids if uid not in first.index]
    if absent:
        raise DataError(
            f"{where} has no static values for series {listing(absent)}; give a "
            "row for every series."
        )
    return first.loc[list(ids)].reset_index(drop=True)


def horizon_values(
    ids: list[Hashable],
    last_ds: list[Any],
    freq: Freq,
    horizon: int,
    futr_df: Any,
    columns: Sequence[str],
) -> NDArray[np.float64]:
    """Future-known ``columns`` of each series for its ``horizon`` steps, (n, h, k).

    ``futr_df``: a long frame ``unique_id, ds`` plus the columns (pandas or
    polars; rows beyond the horizon are ignored).

    Raises
    ------
    DataError
        ``futr_df`` is missing, lacks a column, or misses some of the horizon's
        timestamps (each series named with its first missing timestamps), or a
        value is missing or infinite.
    """
    columns = list(columns)
    if futr_df is None:
        raise DataError(
            f"this model reads the future-known covariates {columns} for the "
            f"horizon; pass them as futr_df (the id and time columns and "
            f"{', '.join(columns)}; CLI: --futr FILE) for the next {horizon} steps "
            "of every series."
        )
    frame = _pandas(futr_df)
    _require(frame, ["unique_id", "ds", *columns], "futr_df")
    stamps = horizon_stamps(last_ds, freq, horizon)
    future = SeriesData(
        ids=list(ids),
        values=np.zeros(len(ids) * horizon),
        offsets=np.arange(len(ids) + 1, dtype=np.int64) * horizon,
        first_ds=list(stamps[::horizon]),
        last_ds=list(stamps[horizon - 1 :: horizon]),
        freq=freq,
    )
    values = _aligned(future, frame, columns, where="futr_df", stamps=stamps)
    return values.reshape(len(ids), horizon, len(columns))


def dynamic_statistics(
    exog: NDArray[np.float64], offsets: NDArray[np.int64], lengths: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Per-series location and scale of every dynamic covariate, (n_series, k) each.

    On the first ``lengths[i]`` values of series ``i`` (its training part):
    :math:`\mu_{ij}` the mean and :math:`\sigma_{ij}` the standard deviation of
    column :math:`j`; where a series is constant in a column, the column's
    standard deviation over all training parts (1 if that is 0 too). Columns
    holding only 0 and 1 (flags) are not scaled (location 0, scale 1).
    """
    n, k = len(lengths), exog.shape[1]
    loc, scale = np.zeros((n, k)), np.ones((n, k))
    rows = np.arange(exog.shape[0])
    owner = np.searchsorted(offsets, rows, side="right") - 1
    inside = rows - offsets[owner] < lengths[owner]
    part, owners = exog[inside], owner[inside]
    counts = np.maximum(np.bincount(owners, minlength=n), 1)[:, None]
    for j in range(k):
        column = part[:, j]
        if np.isin(column, (0.0, 1.0)).all():
            continue
        mean = np.bincount(owners, column, minlength=n)[:, None][:, 0] / counts[:, 0]
        squares = np.bincount(owners, (column - mean[owners]) ** 2, minlength=n)
        std = np.sqrt(squares / counts[:, 0])
        overall = float(column.std()) or 1.0
        loc[:, j] = mean
        scale[:, j] = np.where(std > 1e-12 * max(1.0, overall), std, overall)
    return loc, scale


@dataclass(frozen=True)
class StaticEncoding:
    r"""How static covariates become network inputs, fitted on the training series.

    A numeric column is standardised over the series, :math:`(s - \bar s) /
    \sigma_s` (:math:`\sigma_s = 1` when all series share one value); a text or
    categorical column becomes one 0/1 input per level seen in training
    (``levels``). Saved in the model file as JSON.
    """

    columns: tuple[str, ...]
    levels: dict[str, list[Any]]
    mean: dict[str, float]
    std: dict[str, float]

    @classmethod
    def fit(cls, table: pd.DataFrame) -> StaticEncoding:
        """Fit on one row per training series."""
        levels, mean, std = {}, {}, {}
        for column in table.columns:
            values = table[column]
            if _numeric(values):
                numbers = values.to_numpy(dtype=np.float64)
                _check_finite(numbers, column)
                mean[column] = float(numbers.mean())
                std[column] = float(numbers.std()) or 1.0
            else:
                levels[column] = sorted({python_scalar(v) for v in values}, key=str)
        return cls(tuple(map(str, table.columns)), levels, mean, std)

    @property
    def names(self) -> list[str]:
        """Return the encoded inputs' names: a numeric column's, ``column=level``."""
        names = []
        for column in self.columns:
            if column in self.levels:
                names += [f"{column}={level}" for level in self.levels[column]]
            else:
                names.append(column)
        return names

    def encode(self, table: pd.DataFrame, ids: list[Hashable]) -> NDArray[np.float64]:
        """Return the encoded inputs of each row of ``table``, (n_series, names).

        Raises DataError naming the series whose level training never saw.
        """
        parts = []
        for column in self.columns:
            values = table[column]
            if column not in self.levels:
                if not _numeric(values):
                    raise DataError(
                        f"static column {column!r} was numeric in training but "
                        "holds text now; give numbers."
                    )
                numbers = values.to_numpy(dtype=np.float64)
                _check_finite(numbers, column)
                standard = (numbers - self.mean[column]) / self.std[column]
                parts.append(standard[:, None])
                continue
            known = self.levels[column]
            given = [python_scalar(v) for v in values]
            unseen = [i for i, v in enumerate(given) if v not in known]
            if unseen:
                named = listing(f"{ids[i]} ({given[i]!r})" for i in unseen)
                raise DataError(
                    f"static column {column!r} has levels that training never saw, "
                    f"for series {named}; known levels: {known}. Fit again with "
                    "those series, or map them to a known level."
                )
            onehot = np.zeros((len(given), len(known)))
            onehot[np.arange(len(given)), [known.index(v) for v in given]] = 1.0
            parts.append(onehot)
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(ids), 0))

    def to_json(self) -> dict[str, Any]:
        """Return the encoding as JSON-ready values."""
        return {
            "columns": list(self.columns),
            "levels": self.levels,
            "mean": self.mean,
            "std": self.std,
        }

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> StaticEncoding:
        """Return the encoding that :meth:`to_json` wrote."""
        return cls(
            tuple(saved["columns"]),
            {k: list(v) for k, v in saved["levels"].items()},
            {k: float(v) for k, v in saved["mean"].items()},
            {k: float(v) for k, v in saved["std"].items()},
        )


@dataclass(frozen=True)
class CovariateLayout:
    """What a fit's network reads besides the target, by name.

    Input channels at every step: ``calendar``, then the dynamic covariates
    ``futr`` and ``hist`` (scaled), then the ``static`` encoding; the direct
    head reads ``calendar`` and ``futr`` at every forecast step (``known``).
    """

    futr: tuple[str, ...] = ()
    hist: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()
    holidays: str | None = None
    static: StaticEncoding | None = None

    @classmethod
    def of(
        cls, params: Any, freq: Freq, static: pd.DataFrame | None = None
    ) -> CovariateLayout:
        """Return the layout of ``params`` for data at ``freq``.

        ``static``: the training series' static table (a row per series), to fit
        its encoding.
        """
        names = calendar_names(freq, params.holidays) if params.calendar else ()
        encoding = None
        if params.stat_exog:
            if static is None:
                raise ValueError("static covariates need their table")
            encoding = StaticEncoding.fit(static[list(params.stat_exog)])
        return cls(
            futr=tuple(params.futr_exog),
            hist=tuple(params.hist_exog),
            calendar=names,
            holidays=params.holidays,
            static=encoding,
        )

    @property
    def dynamic(self) -> tuple[str, ...]:
        """Return the dynamic covariates' columns, as :class:`SeriesData` holds them."""
        return self.futr + self.hist

    @property
    def inputs(self) -> int:
        """Return the input channels at every step."""
        static = 0 if self.static is None else len(self.static.names)
        return len(self.calendar) + len(self.dynamic) + static

    @property
    def known(self) -> int:
        """Return the future-known inputs at every forecast step."""
        return len(self.calendar) + len(self.futr)

    def step_inputs(self, output: str) -> int:
        """Return the inputs of each forecast step that the network is given.

        The direct head reads the future-known ones; a recursive head feeds
        back every covariate input of the step (the static encoding too).
        """
        if output == "direct" or self.static is None:
            return self.known
        return self.known + len(self.static.names)

    @property
    def names(self) -> list[str]:
        """Return every input's name in channel order (for explanations)."""
        static = [] if self.static is None else self.static.names
        return [*self.calendar, *self.dynamic, *static]


NO_COVARIATES = CovariateLayout()


def _aligned(
    series: SeriesData,
    frame: pd.DataFrame,
    columns: list[str],
    *,
    where: str = "the data",
    stamps: pd.Index | None = None,
) -> NDArray[np.float64]:
    """``columns`` of ``frame`` at every timestamp of ``series``, (n_points, k)."""
    if stamps is None:
        stamps = series.timestamps()
    values = np.empty((len(stamps), len(columns)))
    for column in columns:
        if not _numeric(frame[column]):
            raise DataError(
                f"covariate {column!r} in {where} is not numeric "
                f"({frame[column].dtype}); encode it as numbers (e.g. 0/1 flags "
                "per category), or give it as a static covariate if it is one "
                "value per series."
            )
    keys = pd.MultiIndex.from_arrays(
        [clean_keys(frame["unique_id"]).to_numpy(), _times(frame["ds"])]
    )
    wanted = pd.MultiIndex.from_arrays([repeat_ids(series.ids, series.lengths), stamps])
    if keys.has_duplicates:
        raise DataError(
            f"{where} has several rows for one (unique_id, ds); give one row per "
            "series and timestamp."
        )
    rows = keys.get_indexer(wanted)
    _check_found(series, rows, stamps, where)
    for j, column in enumerate(columns):
        values[:, j] = frame[column].to_numpy(dtype=np.float64)[rows]
    bad = ~np.isfinite(values)
    if bad.any():
        position, j = np.argwhere(bad)[0]
        owners = np.unique(series.owners(np.flatnonzero(bad.any(axis=1))))
        raise DataError(
            f"covariate {columns[int(j)]!r} in {where} has missing or infinite "
            f"values (first: series {series.ids[series.owners(position)]!r} at "
            f"{format_time(stamps[position])}); series affected: "
            f"{listing(series.ids[i] for i in owners)}. Covariates are not filled: "
            "fill them (e.g. carry the last value forward) before fitting."
        )
    return values


def _check_found(
    series: SeriesData, rows: NDArray[np.int64], stamps: pd.Index, where: str
) -> None:
    """DataError naming every series with timestamps that ``where`` lacks."""
    lost = rows < 0
    if not lost.any():
        return
    owners = series.owners(np.flatnonzero(lost))
    parts = []
    for i in np.unique(owners):
        missing = stamps[np.flatnonzero(lost)[owners == i]]
        shown = ", ".join(format_time(t) for t in missing[:_SHOWN])
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        parts.append(f"{series.ids[i]!r} at {shown}{more}")
    raise DataError(
        f"{where} has no covariate row for {int(lost.sum())} timestamp(s) the "
        f"forecast needs: {'; '.join(parts)}. Give a row for every series and "
        "timestamp (with the target's frequency)."
    )


def _require(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where} lacks the column(s) {missing}, which the model reads; it has "
            f"{list(map(str, frame.columns))}."
        )


def _pandas(data: Any) -> pd.DataFrame:
    data = to_pandas(data)
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            "futr_df must be a DataFrame (pandas or polars), got "
            f"{type(data).__name__}."
        )
    return data


def _times(ds: pd.Series) -> Any:
    """Timestamps as validate_frame reads them (dates parsed, integers kept)."""
    if pd.api.types.is_integer_dtype(ds) or pd.api.types.is_datetime64_any_dtype(ds):
        return ds.to_numpy()
    if pd.api.types.is_float_dtype(ds):
        return ds.astype(np.int64).to_numpy()
    return pd.to_datetime(ds, format="mixed").to_numpy()


def _numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values))


def _check_finite(numbers: NDArray[np.float64], column: str) -> None:
    if not np.isfinite(numbers).all():
        raise DataError(
            f"static column {column!r} has missing or infinite values; give every "
            "series a number."
        )
