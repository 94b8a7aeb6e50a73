"""Real series shipped inside the package; they load offline.

:data:`DATASET_INFO` is the catalogue (what ``rnncast datasets`` lists, and the
names a command accepts as DATA); it needs nothing beyond the standard library, so
listing is instant. The ``load_*`` functions (:mod:`rnncast.datasets.loaders`)
load on first use and return pandas frames in long format. See ``SOURCE.md`` in
this folder for the origin and licence of every file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rnncast.exceptions import DataError

if TYPE_CHECKING:
    import pandas as pd

    from rnncast.datasets.loaders import (
        load_air_passengers,
        load_ett,
        load_ett_covariates,
        load_exchange_rate,
        load_glucose,
        load_ili,
        load_stocks,
        load_tourism_monthly,
        load_traffic_weather,
    )

__all__ = [
    "DATASETS",
    "DATASET_INFO",
    "DatasetInfo",
    "describe_datasets",
    "load_air_passengers",
    "load_dataset",
    "load_ett",
    "load_ett_covariates",
    "load_exchange_rate",
    "load_glucose",
    "load_ili",
    "load_stocks",
    "load_tourism_monthly",
    "load_traffic_weather",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What ``rnncast datasets`` lists about a shipped dataset.

    ``series`` and ``length`` (the longest series' number of values) are what its
    loader returns; a test keeps them true.
    """

    name: str
    series: int
    length: int
    frequency: str
    domain: str
    licence: str
    source: str

    @property
    def loader(self) -> str:
        """Name of the function in :mod:`rnncast.datasets.loaders` that loads it."""
        return f"load_{self.name}"


DATASET_INFO = {
    info.name: info
    for info in (
        DatasetInfo(
            "air_passengers",
            1,
            144,
            "monthly",
            "transport (classic seasonal)",
            "published record; redistributed in R (GPL) and pmdarima (MIT)",
            "Box & Jenkins (1976), series G",
        ),
        DatasetInfo(
            "ili",
            1,
            966,
            "weekly",
            "medical (influenza)",
            "US public domain",
            "CDC ILINet via the Autoformer national_illness.csv",
        ),
        DatasetInfo(
            "exchange_rate",
            8,
            1000,
            "daily (integer day index)",
            "finance (FX)",
            "none stated (research benchmark)",
            "Lai et al. (2018), LSTNet",
        ),
        DatasetInfo(
            "stocks",
            5,
            3270,
            "trading days (integer index)",
            "finance (stock prices)",
            "public domain",
            "Quandl WIKI prices via bokeh_sampledata",
        ),
        DatasetInfo(
            "glucose",
            1,
            57770,
            "5 minutes, with gaps",
            "medical (continuous glucose monitor)",
            "public domain",
            "bokeh_sampledata CGM readings",
        ),
        DatasetInfo(
            "tourism_monthly",
            366,
            333,
            "monthly",
            "tourism (competition, many series)",
            "none stated (research benchmark)",
            "Athanasopoulos et al. (2011), IJF",
        ),
        DatasetInfo(
            "ett",
            7,
            17420,
            "hourly",
            "energy (transformer load, oil temperature)",
            "CC BY-ND 4.0 (file unmodified)",
            "Zhou et al. (2021), Informer, ETTh1",
        ),
        DatasetInfo(
            "ett_covariates",
            1,
            17420,
            "hourly, with 6 past covariates",
            "energy (oil temperature, the loads as covariates)",
            "CC BY-ND 4.0 (file unmodified)",
            "Zhou et al. (2021), Informer, ETTh1",
        ),
        DatasetInfo(
            "traffic_weather",
            1,
            17520,
            "hourly, with weather covariates",
            "transport (I-94 traffic volume, weather)",
            "CC BY 4.0",
            "UCI Metro Interstate Traffic Volume (Hogue, 2019)",
        ),
    )
}


def load_dataset(name: str) -> pd.DataFrame:
    """Load a shipped dataset by name (see :data:`DATASET_INFO`)."""
    if name not in DATASET_INFO:
        raise DataError(
            f"unknown dataset {name!r}; choose one of {sorted(DATASET_INFO)}."
        )
    return _loader(name)()


def describe_datasets() -> pd.DataFrame:
    """One row per shipped dataset: size, frequency, domain, licence and source."""
    import pandas as pd

    columns = ("name", "series", "length", "frequency", "domain", "licence", "source")
    rows = [
        {column: getattr(info, column) for column in columns}
        for info in DATASET_INFO.values()
    ]
    return pd.DataFrame(rows, columns=list(columns))


def _loader(name: str) -> Callable[[], pd.DataFrame]:
    loaders = importlib.import_module("rnncast.datasets.loaders")
    return getattr(loaders, DATASET_INFO[name].loader)  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    """Load the ``load_*`` functions and ``DATASETS`` (name -> loader) when used."""
    if name == "DATASETS":
        return {key: _loader(key) for key in DATASET_INFO}
    if name.startswith("load_") and name[5:] in DATASET_INFO:
        return _loader(name[5:])
    raise AttributeError(f"module 'rnncast.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
