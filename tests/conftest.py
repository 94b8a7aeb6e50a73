from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnncast.datasets import load_air_passengers

TINY = {"hidden": (8,), "epochs": 3, "batch_size": 64}
TINY_ARGS = ["--lookback", "24", "--hidden", "8", "--epochs", "2"]  # the CLI twin


@pytest.fixture
def global_seed() -> int:
    return 0


@pytest.fixture
def air() -> pd.DataFrame:
    return load_air_passengers()


@pytest.fixture
def air_panel(air: pd.DataFrame) -> pd.DataFrame:
    """Three real series: the airline data, its square root and its last 100 months."""
    sqrt = air.assign(unique_id="sqrt", y=np.sqrt(air["y"]))
    recent = air.tail(100).assign(unique_id="recent")
    return pd.concat([air, sqrt, recent], ignore_index=True)


@pytest.fixture
def gappy_panel(air_panel: pd.DataFrame) -> pd.DataFrame:
    """``air_panel`` with a gap of three months inside the first series."""
    gappy = air_panel.copy()
    gappy.loc[gappy.index[30:33], "y"] = np.nan
    return gappy


@pytest.fixture
def write_csv(tmp_path):
    def write(frame: pd.DataFrame, name: str = "data.csv"):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        return path

    return write
