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


def rewrite_model(folder, edit, target=None):
    """Rewrite a saved model folder as another version or an attacker would.

    ``edit(config, tensors)`` changes the parsed config.json and the tensors in
    place; they are written to ``target`` (default: ``folder`` itself) with the
    weights' checksum updated, so only the edit can make loading refuse it.
    """
    import hashlib
    import json

    from safetensors.torch import load_file, save_file

    config = json.loads((folder / "config.json").read_text())
    tensors = load_file(folder / "weights.safetensors")
    edit(config, tensors)
    target = folder if target is None else target
    target.mkdir(exist_ok=True)
    save_file(tensors, target / "weights.safetensors")
    digest = hashlib.sha256((target / "weights.safetensors").read_bytes())
    config["weights_sha256"] = digest.hexdigest()
    (target / "config.json").write_text(json.dumps(config))
    return target


def as_version_1(config, tensors):
    """Make a saved config look as rnncast 0.1.0 wrote it (format version 1)."""
    config["format_version"] = 1
    config["rnncast_version"] = "0.1.0"
    params = config["params"]
    params["level"] = params.pop("window_level")
    params.pop("alias", None)


def with_state(model, **changes):
    """``model`` with parts of its fitted state replaced (tests of what they do)."""
    import dataclasses

    model.fitted_ = dataclasses.replace(model.fitted_, **changes)
    return model


def with_weight(model, weight):
    """``model`` with the network's weight in its mix set to ``weight``."""
    import dataclasses

    return with_state(model, mix=dataclasses.replace(model.fitted_.mix, weight=weight))


@pytest.fixture
def promo_days() -> pd.DataFrame:
    """150 daily values of one series, 20 higher on promotion days (0/1 ``promo``)."""
    rng = np.random.default_rng(0)
    promo = (rng.random(150) < 0.3).astype(float)
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=150, freq="D"),
            "y": 50 + 20 * promo + rng.normal(0, 1, 150),
            "promo": promo,
        }
    )
