"""Forecasting-competition data from ../shared/data, by path, for the benchmarks.

Tourism (Athanasopoulos et al., 2011) monthly and quarterly, and M3 (Makridakis &
Hibon, 2000) monthly, each split into the competition's training and official test
parts, as long frames ``unique_id, ds, y``. rnncast itself never reads ../shared;
only these benchmark scripts do. (M4 is reserved for independent evaluation and is
deliberately not here.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    ``m3-other`` or ``ett-hourly``. M3 monthly is the confirmation set of the
    defaults (not tuned on); M3 quarterly and other are development sets with the
    trending, barely seasonal series Tourism lacks; ett-hourly is a long
    high-frequency panel (:func:`_ett_hourly`).
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
