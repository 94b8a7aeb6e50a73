"""Loaders of the datasets shipped in :mod:`rnncast.datasets` (pandas frames).

Each ``load_*`` reads its file from the package, offline. See ``SOURCE.md`` in
this folder for the origin and licence of every file.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from rnncast.exceptions import DataError

__all__ = [
    "load_air_passengers",
    "load_ett",
    "load_ett_covariates",
    "load_exchange_rate",
    "load_glucose",
    "load_ili",
    "load_stocks",
    "load_tourism_monthly",
    "load_traffic_weather",
]

PACKAGE = "rnncast.datasets"


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


def load_stocks(column: str = "adj_close") -> pd.DataFrame:
    """Daily stock prices of AAPL, FB, GOOG, IBM and MSFT, 2000-03 to 2013-03.

    Quandl WIKI prices (public domain), as shipped by ``bokeh_sampledata``. Trading
    days are not a regular calendar (weekends, holidays), so ``ds`` is the trading
    day number, counted over all tickers' dates; the calendar date is in ``date``.

    Parameters
    ----------
    column : {"adj_close", "close", "open", "high", "low", "volume"}
        The field to return as ``y``; ``adj_close`` is split- and
        dividend-adjusted.

    Returns
    -------
    DataFrame
        ``unique_id`` (ticker), ``ds`` (int), ``y``, ``date``.
    """
    with resources.files(PACKAGE).joinpath("stocks.csv.gz").open("rb") as f:
        raw = pd.read_csv(f, compression="gzip", parse_dates=["Date"])
    fields = {
        "adj_close": "Adj Close",
        "close": "Close",
        "open": "Open",
        "high": "High",
        "low": "Low",
        "volume": "Volume",
    }
    if column not in fields:
        raise DataError(f"unknown column {column!r}; choose one of {sorted(fields)}.")
    day = {date: k for k, date in enumerate(sorted(raw["Date"].unique()))}
    return pd.DataFrame(
        {
            "unique_id": raw["Ticker"],
            "ds": raw["Date"].map(day).astype("int64"),
            "y": raw[fields[column]].astype("float64"),
            "date": raw["Date"],
        }
    )


def load_glucose() -> pd.DataFrame:
    """Continuous glucose monitor readings (mg/dL) of one person, 2010, 5-minute grid.

    The sensor reports about every 5 minutes with jitter and gaps (public domain,
    from ``bokeh_sampledata``). The readings are placed on a regular 5-minute grid
    (mean of the readings in each slot, anchored at the first reading); slots with no
    reading are kept as NaN so that the gaps stay visible. Choose a ``fill`` policy
    (or drop the gaps) before forecasting.

    Returns
    -------
    DataFrame
        ``unique_id`` ("glucose"), ``ds`` (5-minute timestamps), ``y`` (NaN in gaps).
    """
    with resources.files(PACKAGE).joinpath("glucose_cgm.csv.gz").open("rb") as f:
        raw = pd.read_csv(f, compression="gzip", parse_dates=["datetime"])
    raw = raw.sort_values("datetime")
    grid = (
        raw.set_index("datetime")["glucose"]
        .astype("float64")
        .resample("5min", origin=raw["datetime"].iloc[0])
        .mean()
    )
    return pd.DataFrame(
        {"unique_id": "glucose", "ds": grid.index, "y": grid.to_numpy()}
    )


def load_tourism_monthly(part: str = "all") -> pd.DataFrame:
    """Load the 366 monthly series of the Tourism forecasting competition.

    Athanasopoulos, Hyndman, Song & Wu (2011), IJF 27(3). The competition's test
    part is the last 24 months of each series.

    Parameters
    ----------
    part : {"all", "train", "test"}
        Whole series, the competition's training part, or its 24-month test part.

    Returns
    -------
    DataFrame
        ``unique_id`` (m1 ... m366), ``ds`` (month start), ``y``.
    """
    if part not in ("all", "train", "test"):
        raise DataError(f"unknown part {part!r}; choose 'all', 'train' or 'test'.")
    frames = [
        _read_tourism(name)
        for name in ("tourism_monthly_in.csv", "tourism_monthly_oos.csv")
    ]
    if part == "train":
        return frames[0]
    if part == "test":
        return frames[1]
    both = pd.concat(frames, ignore_index=True)
    return both.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)


def load_ett() -> pd.DataFrame:
    """Hourly load and oil temperature of an electricity transformer (ETTh1).

    Zhou et al. (2021), Informer; CC BY-ND 4.0 (the file ships unmodified). Seven
    series from 2016-07-01 to 2018-06-26: ``HUFL``, ``HULL``, ``MUFL``, ``MULL``,
    ``LUFL``, ``LULL`` (high/middle/low useful and useless load) and ``OT`` (oil
    temperature), 17,420 hours each.

    Returns
    -------
    DataFrame
        ``unique_id``, ``ds`` (hourly), ``y``.
    """
    with resources.files(PACKAGE).joinpath("ETTh1.csv").open("r") as f:
        wide = pd.read_csv(f, parse_dates=["date"])
    long = wide.melt(id_vars="date", var_name="unique_id", value_name="y")
    return long.rename(columns={"date": "ds"})[["unique_id", "ds", "y"]]


def load_ett_covariates() -> pd.DataFrame:
    """ETTh1's oil temperature with the six loads as past covariates.

    The file of :func:`load_ett`, read as one series: ``y`` is the oil
    temperature ``OT``, and ``HUFL``, ``HULL``, ``MUFL``, ``MULL``, ``LUFL``,
    ``LULL`` (the loads, measured alongside) are columns beside it, known up to
    the forecast origin only: ``hist_exog``.

    Returns
    -------
    DataFrame
        ``unique_id`` ("ETTh1"), ``ds`` (hourly), ``y``, and the six loads.
    """
    with resources.files(PACKAGE).joinpath("ETTh1.csv").open("r") as f:
        wide = pd.read_csv(f, parse_dates=["date"])
    frame = wide.rename(columns={"date": "ds", "OT": "y"})
    frame.insert(0, "unique_id", "ETTh1")
    return frame[["unique_id", "ds", "y", *ETT_LOADS]]


def load_traffic_weather() -> pd.DataFrame:
    """Hourly traffic on the I-94 westbound (Minneapolis-St Paul) with the weather.

    UCI Metro Interstate Traffic Volume (Hogue, 2019; CC BY 4.0), 2016-10-01 to
    2018-09-30, 17,520 hours: ``y`` the vehicles per hour, ``temp`` (degrees C),
    ``rain_1h`` (mm in the hour), ``clouds_all`` (% cover) and 0/1 flags
    ``rain``, ``snow``, ``fog`` from the weather label. The weather is observed,
    so as a future-known covariate it stands for a perfect weather forecast
    (say so when quoting results). The 104 hours without a record keep ``y``
    missing, their weather interpolated (flags carried forward); see SOURCE.md.

    Returns
    -------
    DataFrame
        ``unique_id`` ("I-94"), ``ds``, ``y`` and the weather columns.
    """
    with resources.files(PACKAGE).joinpath("traffic_weather.csv.gz").open("rb") as f:
        frame = pd.read_csv(f, compression="gzip", parse_dates=["ds"])
    frame.insert(0, "unique_id", "I-94")
    return frame.astype({"y": "float64"})


ETT_LOADS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL")


def _read_tourism(name: str) -> pd.DataFrame:
    """Parse the competition's wide layout: per column length, start year, period."""
    with resources.files(PACKAGE).joinpath(name).open("r") as f:
        wide = pd.read_csv(f)
    parts = []
    for column in wide.columns:
        values = wide[column]
        n, year, period = (int(v) for v in values.iloc[:3])
        start = pd.Timestamp(year=year, month=period, day=1)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": column,
                    "ds": pd.date_range(start, periods=n, freq="MS"),
                    "y": values.iloc[3 : 3 + n].to_numpy(dtype="float64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _read_csv(name: str, *, dates: bool) -> pd.DataFrame:
    with resources.files(PACKAGE).joinpath(name).open("r") as f:
        frame = pd.read_csv(f, parse_dates=["ds"] if dates else None)
    return frame.astype({"y": "float64"})
