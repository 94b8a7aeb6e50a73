"""Backtests of a folder of Parquet shards equal the backtest of the whole frame."""

import numpy as np
import pandas as pd
import pytest

from rnncast import Forecaster, backtest
from rnncast.distributed import read_manifest
from rnncast.distributed.backtests import backtest_files
from rnncast.exceptions import ConfigError, DataError

FAST = {"hidden": (8,), "epochs": 2, "seed": 0, "alias": "tiny"}
OPTIONS = {"horizon": 6, "n_windows": 2, "level": [80]}


def write_shards(frame, folder, files=3):
    """Write ``frame`` as ``files`` Parquet files of consecutive ids."""
    folder.mkdir()
    ids = sorted(frame["unique_id"].unique())
    for k, block in enumerate(np.array_split(np.array(ids, dtype=object), files)):
        frame[frame["unique_id"].isin(block)].to_parquet(folder / f"s{k}.parquet")
    return folder


def read_parts(folder, kind):
    manifest = read_manifest(folder)
    return pd.concat(
        [pd.read_parquet(folder / p[kind]) for p in manifest["parts"]],
        ignore_index=True,
    )


@pytest.fixture
def shards(air_panel, tmp_path):
    return write_shards(air_panel, tmp_path / "in")


def test_a_files_backtest_is_the_backtest_of_the_whole_frame(
    air_panel, shards, tmp_path
):
    models = ["naive", Forecaster(**FAST), "theta"]  # the frames keep this order
    whole = backtest(air_panel, models, **OPTIONS)
    out = tmp_path / "out"
    files = backtest_files(shards, models, out, engine="local", **OPTIONS)
    timings = ["fit_seconds", "predict_seconds"]
    pd.testing.assert_frame_equal(
        files.leaderboard.drop(columns=timings), whole.leaderboard.drop(columns=timings)
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "leaderboard.csv").drop(columns=timings),
        whole.leaderboard.drop(columns=timings),
        check_dtype=False,
    )
    forecasts = read_parts(out, "file").sort_values(["unique_id", "cutoff", "ds"])
    expected = whole.forecasts.sort_values(["unique_id", "cutoff", "ds"])
    pd.testing.assert_frame_equal(
        forecasts.reset_index(drop=True), expected.reset_index(drop=True)
    )
    metrics = read_parts(out, "metrics")
    assert len(metrics) == len(whole.metrics)
    assert files.summary == whole.summary
    assert files.manifest["models"] == ["models/tiny/window-0", "models/tiny/window-1"]
    again = Forecaster.load(out / "models" / "tiny" / "window-1")
    assert again.fitted_state().series.ids == sorted(air_panel["unique_id"].unique())


def test_an_earlier_output_is_replaced_and_a_foreign_folder_refused(shards, tmp_path):
    out = tmp_path / "out"
    backtest_files(shards, ["naive"], out, engine="local", **OPTIONS)
    (out / "metrics" / "part-s2.parquet").unlink()  # as if a run had died
    backtest_files(shards, ["naive"], out, engine="local", **OPTIONS)
    assert (out / "metrics" / "part-s2.parquet").is_file()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match=r"notes\.txt"):
        backtest_files(shards, ["naive"], tmp_path / "mine", engine="local", **OPTIONS)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_options_backtest_does_not_take_are_refused(shards, tmp_path):
    with pytest.raises(ConfigError, match="horizon="):
        backtest_files(shards, ["naive"], tmp_path / "o", engine="local")
    with pytest.raises(ConfigError, match=r"\['windows'\]"):
        backtest_files(shards, ["naive"], tmp_path / "o", windows=2, **OPTIONS)
    assert not (tmp_path / "o").exists()


def test_without_refit_the_networks_are_fitted_once_as_in_one_process(
    air_panel, shards, tmp_path
):
    models = [Forecaster(**FAST), "theta"]
    options = {**OPTIONS, "refit": False}
    whole = backtest(air_panel, models, **options)
    files = backtest_files(shards, models, tmp_path / "out", engine="local", **options)
    timings = ["fit_seconds", "predict_seconds"]
    pd.testing.assert_frame_equal(
        files.leaderboard.drop(columns=timings), whole.leaderboard.drop(columns=timings)
    )
    assert files.manifest["models"] == ["models/tiny/window-0"]


def test_networks_reading_covariates_are_refused_before_anything_is_fitted(
    shards, tmp_path
):
    model = Forecaster(**FAST, stat_exog=["region"])
    with pytest.raises(ConfigError, match="tiny reads covariates"):
        backtest_files(shards, [model], tmp_path / "out", engine="local", **OPTIONS)
    assert not (tmp_path / "out").exists()
