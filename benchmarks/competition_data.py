"""Forecasting-competition data from ../shared/data, by path, for the benchmarks.

Tourism (Athanasopoulos et al., 2011) monthly and quarterly, and M3 (Makridakis &
Hibon, 2000) monthly, each split into the competition's training and official test
parts, as long frames ``unique_id, ds, y``. rnncast itself never reads ../shared;
only these benchmark scripts do. (M4 is reserved for independent evaluation and is
deliberately not here.) The high-frequency development sets come from
benchmarks/data (I-94 traffic) and pmdarima (Taylor's electricity demand).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Competition:
    """A competition set: training and test frames and its official settings."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    horizon: int
    season_length: int
    freq: str | int


def load(name: str) -> Competition:
    """Load a competition set by name.

    ``tourism-monthly``, ``tourism-quarterly``, ``m3-monthly``, ``m3-quarterly``
    ``m3-other``, or the high-frequency sets ``ett-hourly``, ``traffic-hourly``,
    ``traffic-hourly-24``, ``taylor-halfhourly`` and ``glucose-5min``. M3 monthly is the
    confirmation set of the defaults (not tuned on); M3 quarterly and other are
    development sets with the trending, barely seasonal series Tourism lacks;
    ett-hourly is a long high-frequency panel (:func:`_ett_hourly`).
    """
    if name == "tourism-monthly":
        return Competition(name, *_tourism("monthly", "MS"), 24, 12, "MS")
    if name == "tourism-quarterly":
        return Competition(name, *_tourism("quarterly", "QS"), 8, 4, "QS")
    if name == "m3-monthly":
        return Competition(name, *_m3("monthly"), 18, 12, 1)
    if name == "m3-quarterly":
        return Competition(name, *_m3("quarterly"), 8, 4, 1)
    if name == "m3-other":
        return Competition(name, *_m3("other"), 8, 1, 1)
    if name == "ett-hourly":
        return Competition(name, *_ett_hourly(), 48, 24, "h")
    if name in ("traffic-hourly", "traffic-hourly-24"):
        horizon = 24 if name.endswith("-24") else 48
        return Competition(name, *_traffic_hourly(horizon), horizon, 24, "h")
    if name == "taylor-halfhourly":
        return Competition(name, *_taylor_halfhourly(), 48, 48, "30min")
    if name == "glucose-5min":
        return Competition(name, *_glucose_5min(), 288, 288, "5min")
    raise SystemExit(f"unknown dataset {name!r}")


def _tourism(kind: str, freq: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return tuple(  # type: ignore[return-value]
        _tourism_wide(SHARED / "tourism" / f"{kind}_{part}.csv", freq)
        for part in ("in", "oos")
    )


def _tourism_wide(path: Path, freq: str) -> pd.DataFrame:
    """Parse the competition's layout: a column a series; length, year, period."""
    wide = pd.read_csv(path)
    parts = []
    for column in wide.columns:
        values = wide[column]
        n, year, period = (int(v) for v in values.iloc[:3])
        month = period if freq == "MS" else 1 + 3 * (period - 1)
        start = pd.Timestamp(year=year, month=month, day=1)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": column,
                    "ds": pd.date_range(start, periods=n, freq=freq),
                    "y": values.iloc[3 : 3 + n].to_numpy(dtype="float64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _m3(frequency: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(SHARED / "m3" / "m3_long.csv.gz")
    data = data[data["frequency"] == frequency]
    ds = data["t"].astype("int64")  # some series have no start date: integer time
    frame = pd.DataFrame(
        {
            "unique_id": data["series"],
            "ds": ds,
            "y": data["value"],
            "split": data["split"],
        }
    )
    train = frame[frame["split"] == "train"].drop(columns="split")
    test = frame[frame["split"] == "test"].drop(columns="split")
    return train.reset_index(drop=True), test.reset_index(drop=True)


ETT_LENGTH = 1088  # 1,040 hours of history and a test horizon of 48


def _ett_hourly() -> tuple[pd.DataFrame, pd.DataFrame]:
    """224 hourly series of 1,088 values, the last 48 the test.

    Every column of ETTh1 and ETTh2 (Zhou et al., 2021: six loads and the oil
    temperature of two transformers, 17,420 hours) cut into 16 consecutive,
    non-overlapping pieces.
    """
    parts = []
    for file in ("ETTh1", "ETTh2"):
        wide = pd.read_csv(SHARED / "ett" / f"{file}.csv", parse_dates=["date"])
        for column in wide.columns.drop("date"):
            for piece in range(len(wide) // ETT_LENGTH):
                rows = wide.iloc[piece * ETT_LENGTH : (piece + 1) * ETT_LENGTH]
                parts.append(
                    pd.DataFrame(
                        {
                            "unique_id": f"{file}-{column}-{piece:02d}",
                            "ds": rows["date"].to_numpy(),
                            "y": rows[column].to_numpy(dtype="float64"),
                        }
                    )
                )
    frame = pd.concat(parts, ignore_index=True)
    last = frame.groupby("unique_id").cumcount() >= ETT_LENGTH - 48
    train = frame[~last].reset_index(drop=True)
    return train, frame[last].reset_index(drop=True)


def _pieces(
    stamps: pd.DatetimeIndex, values: np.ndarray, length: int, horizon: int, name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cut one long series into consecutive pieces of ``length``.

    The last ``horizon`` values of each piece are its test.
    """
    parts = []
    for piece in range(len(values) // length):
        at = slice(piece * length, (piece + 1) * length)
        parts.append(
            pd.DataFrame(
                {"unique_id": f"{name}-{piece:02d}", "ds": stamps[at], "y": values[at]}
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    last = frame.groupby("unique_id").cumcount() >= length - horizon
    return frame[~last].reset_index(drop=True), frame[last].reset_index(drop=True)


def _traffic_hourly(horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """16 hourly series of 1,088 values cut from the I-94 traffic volume.

    The westbound I-94 traffic volume at a Minneapolis station, hourly from
    2016-10 to 2018-09 (17,520 hours; UCI Metro Interstate Traffic Volume, CC
    BY 4.0, as shipped in autots; benchmarks/data/SOURCE.md), its 104 missing
    hours filled linearly, cut into 16 consecutive pieces of 1,088 hours (about
    six and a half weeks), the last ``horizon`` hours of each the test.
    """
    path = Path(__file__).parent / "data" / "i94_traffic_hourly.csv.gz"
    frame = pd.read_csv(path, parse_dates=["datetime"])
    values = frame["traffic_volume"].interpolate().to_numpy(dtype="float64")
    stamps = pd.DatetimeIndex(frame["datetime"])
    return _pieces(stamps, values, ETT_LENGTH, horizon, "i94")


def _taylor_halfhourly() -> tuple[pd.DataFrame, pd.DataFrame]:
    """3 half-hourly series of 1,344 values (four weeks) of electricity demand.

    England and Wales demand from Monday 2000-06-05 to Sunday 2000-08-27 (4,032
    half-hours; Taylor, 2003, as shipped in pmdarima: ``pip install
    pmdarima``), cut into three consecutive four-week pieces, the last day of
    each (48 half-hours) the test.
    """
    from pmdarima.datasets import load_taylor

    values = np.asarray(load_taylor(), dtype="float64")
    stamps = pd.date_range("2000-06-05", periods=len(values), freq="30min")
    return _pieces(stamps, values, 4 * 336, 48, "taylor")


GLUCOSE_LENGTH = 22 * 288  # 22 days of 5-minute readings: three weeks and a day


def _glucose_5min() -> tuple[pd.DataFrame, pd.DataFrame]:
    """9 series of 22 days of 5-minute glucose readings, the last day the test.

    The continuous glucose monitor readings bundled with rnncast
    (``rnncast.datasets.load_glucose``: 57,770 five-minute steps from
    2010-03-24, 5,687 of them missing), the gaps filled linearly (the
    baselines cannot read gaps), cut into 9 consecutive pieces of 22 days, the
    last 288 readings (a day) of each the test.
    """
    from rnncast.datasets import load_glucose

    frame = load_glucose()
    values = frame["y"].interpolate().to_numpy(dtype="float64")
    stamps = pd.DatetimeIndex(frame["ds"])
    return _pieces(stamps, values, GLUCOSE_LENGTH, 288, "glucose")
