"""Real series shipped inside the package; they load offline.

See ``SOURCE.md`` in this folder for the origin and licence of every file.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import pandas as pd

from rnncast.exceptions import DataError

__all__ = [
    "DATASETS",
    "load_air_passengers",
    "load_dataset",
    "load_exchange_rate",
    "load_ili",
]


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
    return _read_csv("air_passengers.csv", dates=True)


def load_ili() -> pd.DataFrame:
    """US influenza-like illness: weekly % of outpatient visits, 2002 to mid-2020.

    CDC ILINet, population-weighted (966 weeks); strongly seasonal (flu seasons),
    with the 2009 H1N1 pandemic and the onset of COVID-19 in 2020.

    Returns
    -------
    DataFrame
        Long format: ``unique_id`` ("US_ILI_weighted"), ``ds`` (weekly), ``y`` (%).
    """
    return _read_csv("ili.csv", dates=True)


def load_exchange_rate() -> pd.DataFrame:
    """Daily exchange rates of 8 currencies against the US dollar, last 1,000 days.

    From the LSTNet benchmark; ``ds`` is an integer day index (the benchmark has no
    real dates).

    Returns
    -------
    DataFrame
        Long format: ``unique_id`` (AUD, GBP, CAD, CHF, CNY, JPY, NZD, SGD), ``ds``
        (int), ``y``.
    """
    return _read_csv("exchange_rate.csv", dates=False)


DATASETS: dict[str, Callable[[], pd.DataFrame]] = {
    "air_passengers": load_air_passengers,
    "ili": load_ili,
    "exchange_rate": load_exchange_rate,
}


def load_dataset(name: str) -> pd.DataFrame:
    """Load a shipped dataset by name (see ``DATASETS``)."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}.")
    return DATASETS[name]()


def _read_csv(name: str, *, dates: bool) -> pd.DataFrame:
    with resources.files(__name__).joinpath(name).open("r") as f:
        frame = pd.read_csv(f, parse_dates=["ds"] if dates else None)
    return frame.astype({"y": "float64"})
