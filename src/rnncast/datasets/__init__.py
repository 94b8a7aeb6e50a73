"""Real series shipped inside the package; they load offline.

See ``SOURCE.md`` in this folder for the origin and licence of every file.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_air_passengers"]


def load_air_passengers() -> pd.DataFrame:
    """Monthly international airline passengers (thousands), 1949-01 to 1960-12.

    The classic seasonal series of Box & Jenkins (series G): 144 monthly values with
    a trend and a yearly season that grows with the level.

    Returns
    -------
    DataFrame
        Long format: ``unique_id`` ("AirPassengers"), ``ds`` (month start), ``y``.

    Examples
    --------
    >>> df = load_air_passengers()
    >>> len(df), float(df["y"].iloc[-1])
    (144, 432.0)
    """
    return _read_csv("air_passengers.csv")


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files(__name__).joinpath(name).open("r") as f:
        frame = pd.read_csv(f, parse_dates=["ds"])
    return frame.astype({"y": "float64"})
