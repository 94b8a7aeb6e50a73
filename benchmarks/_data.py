"""Loaders for the public benchmark files in ../shared/data (read by path)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def tourism(kind: str = "monthly", part: str = "in") -> pd.DataFrame:
    """Tourism competition series as a long frame ``unique_id, ds, y``.

    The wide CSV holds per column: length, start year, start period, then values.
    """
    path = SHARED / "tourism" / f"{kind}_{part}.csv"
    if not path.exists():
        raise SystemExit(f"{path} not found: the benchmark reads ../shared/data.")
    wide = pd.read_csv(path)
    freq = {"monthly": "MS", "quarterly": "QS", "yearly": "YS"}[kind]
    per_year = {"monthly": 12, "quarterly": 4, "yearly": 1}[kind]
    parts = []
    for name in wide.columns:
        column = wide[name]
        n, year, period = (int(v) for v in column.iloc[:3])
        month = 1 + (period - 1) * (12 // per_year)
        ds = pd.date_range(
            pd.Timestamp(year=year, month=month, day=1), periods=n, freq=freq
        )
        values = column.iloc[3 : 3 + n].to_numpy(dtype=float)
        parts.append(pd.DataFrame({"unique_id": name, "ds": ds, "y": values}))
    return pd.concat(parts, ignore_index=True)
