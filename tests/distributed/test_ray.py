"""The Ray engine on a real local cluster: a head and two worker nodes.

Skipped without Ray (pip install 'rnncast[ray]'); the CI installs it.
"""

import os
import signal
import sys

import numpy as np
import pandas as pd
import pytest

from rnncast import Forecaster, backtest
from rnncast.distributed import (
    LocalEngine,
    RayEngine,
    forecast_files,
    forecast_frame,
    read_manifest,
    split_series,
)
from rnncast.exceptions import ConfigError, DataError

ray = pytest.importorskip(
    "ray", reason="the Ray engine needs pip install 'rnncast[ray]'"
)
cluster_utils = pytest.importorskip("ray.cluster_utils")

FAST = {"hidden": (8,), "epochs": 3, "seed": 0}


@pytest.fixture(scope="module")
def cluster():
    """A head and two worker nodes, one CPU each, on this machine."""
    cluster = cluster_utils.Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1}
    )
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(0)
    parts = []
    for i in range(60):
        n = 40 + i % 7
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i:03d}",
                    "ds": pd.date_range("2020-01-01", periods=n, freq="MS"),
                    "y": 100 + 10 * np.sin(np.arange(n) / 1.9) + rng.normal(0, 1, n),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def model(panel):
    return Forecaster(horizon=6, **FAST).fit(panel)


def test_split_series_keeps_every_series_whole_and_stable(panel):
    shards = split_series(panel, 4)
    assert sum(len(s) for s in shards) == len(panel)
    owners = {uid: k for k, s in enumerate(shards) for uid in s["unique_id"].unique()}
    assert len(owners) == panel["unique_id"].nunique()
    again = split_series(panel.sample(frac=1, random_state=1), 4)
    assert [set(s["unique_id"]) for s in again] == [set(s["unique_id"]) for s in shards]


def test_forecasts_on_the_cluster_equal_one_process(cluster, panel, model):
    alone = model.predict(panel, level=[80])
    spread = forecast_frame(model, panel, engine=RayEngine(), shards=5, level=[80])
    pd.testing.assert_frame_equal(spread, alone)
    local = forecast_frame(model, panel, engine=LocalEngine(), shards=3, level=[80])
    pd.testing.assert_frame_equal(local, alone)


def test_parquet_shards_in_and_out_with_a_manifest(cluster, panel, model, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for k, shard in enumerate(split_series(panel, 3)):
        shard.to_parquet(source / f"shard-{k}.parquet", index=False)
    model.save(tmp_path / "model")
    out = tmp_path / "out"
    forecast_files(tmp_path / "model", source, out, engine=RayEngine())
    manifest = read_manifest(out)
    assert manifest["series"] == 60 and len(manifest["parts"]) == 3
    written = pd.concat(
        [pd.read_parquet(out / p["file"]) for p in manifest["parts"]], ignore_index=True
    ).sort_values(["unique_id", "ds"], ignore_index=True)
    pd.testing.assert_frame_equal(written, model.predict(panel), check_dtype=False)


def test_a_series_in_two_shards_is_refused(cluster, panel, model, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    first = panel[panel["unique_id"] <= "s010"]
    first.to_parquet(source / "a.parquet", index=False)
    first[first["unique_id"] == "s003"].to_parquet(source / "b.parquet", index=False)
    model.save(tmp_path / "model")
    with pytest.raises(DataError, match="s003"):
        forecast_files(tmp_path / "model", source, tmp_path / "out", engine=RayEngine())
    with pytest.raises(DataError, match="did not finish"):
        read_manifest(tmp_path / "out")  # no manifest: nothing looks complete


def _dies_once(marker_dir, value):
    """Kill this worker process the first time a value is seen; then answer."""
    marker = os.path.join(marker_dir, f"seen-{value}")
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)  # the worker is killed mid-task
    return value * 2


def test_a_killed_worker_s_task_runs_again_and_every_result_comes_once(
    cluster, tmp_path
):
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    engine = RayEngine(retries=2)
    results = engine.map(lambda v: _dies_once(str(tmp_path), v), [1, 2, 3])
    assert results == [2, 4, 6]
    assert sorted(os.listdir(tmp_path)) == [f"seen-{v}" for v in (1, 2, 3)]
    (tmp_path / "x").mkdir()
    with pytest.raises(ray.exceptions.RayError):
        RayEngine(retries=0).map(lambda v: _dies_once(str(tmp_path / "x"), v), [5])


def test_backtests_on_the_cluster_equal_one_process(cluster, panel):
    models = [Forecaster(**FAST), "theta", "snaive"]
    alone = backtest(panel, models, horizon=6, n_windows=2)
    spread = backtest(panel, models, horizon=6, n_windows=2, engine=RayEngine())
    pd.testing.assert_frame_equal(spread.forecasts, alone.forecasts)
    pd.testing.assert_frame_equal(
        spread.leaderboard.drop(columns=["fit_seconds", "predict_seconds"]),
        alone.leaderboard.drop(columns=["fit_seconds", "predict_seconds"]),
    )


def test_tune_on_the_cluster_scores_as_one_process(cluster, panel):
    from rnncast.evaluation.tune import tune

    settings = {"candidates": [{"cell": "gru"}, {"cell": "lstm"}], "refit": False}
    alone = tune(panel, horizon=6, hidden=(8,), epochs=3, **settings)
    spread = tune(
        panel, horizon=6, hidden=(8,), epochs=3, engine=RayEngine(), **settings
    )
    pd.testing.assert_frame_equal(
        spread.scores.drop(columns="seconds"), alone.scores.drop(columns="seconds")
    )


def test_a_data_parallel_fit_on_the_cluster_equals_one_process(
    cluster, panel, model, tmp_path
):
    """Two Ray Train workers (DDP, gloo), from a frame and from Parquet files."""
    expected = model.predict(level=[80])
    shared = Forecaster(horizon=6, **FAST).fit(panel, engine=RayEngine(), workers=2)
    pd.testing.assert_frame_equal(shared.predict(level=[80]), expected, rtol=1e-5)
    epochs = [(r.member, r.epoch, r.refit) for r in model.fitted_.history]
    assert [(r.member, r.epoch, r.refit) for r in shared.fitted_.history] == epochs
    assert shared.fitted_.mix.weight == model.fitted_.mix.weight
    report, expected_report = shared.data_report_, model.data_report_
    assert (report.series, report.values) == (
        expected_report.series,
        expected_report.values,
    )
    pd.testing.assert_frame_equal(report.outliers, expected_report.outliers)
    source = tmp_path / "in"
    source.mkdir()
    ids = sorted(panel["unique_id"].unique())
    for k, block in enumerate(np.array_split(ids, 4)):  # consecutive ids per file
        panel[panel["unique_id"].isin(block)].to_parquet(source / f"part-{k}.parquet")
    from_files = Forecaster(horizon=6, **FAST).fit(
        source, engine=RayEngine(), workers=2
    )
    pd.testing.assert_frame_equal(from_files.predict(level=[80]), expected, rtol=1e-5)


def test_a_worker_s_data_error_reaches_the_caller(cluster, panel):
    bad = panel.copy()
    bad.loc[bad["unique_id"] == "s050", "y"] = np.inf  # in the second worker's block
    with pytest.raises(DataError, match="s050"):
        Forecaster(horizon=6, **FAST).fit(bad, engine=RayEngine(), workers=2)


def test_a_cluster_fit_refuses_more_workers_than_blocks_of_series(cluster):
    parts = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2020-01-01", periods=n, freq="MS"),
                "y": np.arange(n, dtype=float),
            }
        )
        for uid, n in (("a", 200), ("b", 20), ("c", 20))
    ]
    panel = pd.concat(parts, ignore_index=True)
    model = Forecaster(horizon=6, **FAST)
    with pytest.raises(ConfigError, match="3 non-empty blocks; use fewer workers"):
        model.fit(panel, engine=RayEngine(), workers=3)  # "a" holds most rows
    with pytest.raises(ConfigError, match="3 series cannot be shared by 4 workers"):
        model.fit(panel, engine=RayEngine(), workers=4)


def test_a_files_backtest_on_the_cluster_equals_the_whole_frame_s(
    cluster, panel, tmp_path
):
    """Baselines per file as tasks; the network fitted data-parallel at each cutoff."""
    from tests.distributed.test_backtest_files import read_parts, write_shards

    from rnncast.distributed.backtests import backtest_files

    models = [Forecaster(**FAST, alias="tiny"), "theta"]
    options = {"horizon": 6, "n_windows": 2}
    whole = backtest(panel, models, **options)
    out = tmp_path / "out"
    files = backtest_files(
        write_shards(panel, tmp_path / "in", files=4),
        models,
        out,
        engine=RayEngine(),
        workers=2,
        **options,
    )
    board = files.leaderboard.set_index("model")
    expected = whole.leaderboard.set_index("model")
    for model, rtol in (("theta", 1e-12), ("snaive", 1e-12), ("tiny", 1e-4)):
        np.testing.assert_allclose(
            board.loc[model, ["mae", "smape", "mase", "owa"]].to_numpy(float),
            expected.loc[model, ["mae", "smape", "mase", "owa"]].to_numpy(float),
            rtol=rtol,
        )
    forecasts = read_parts(out, "file").sort_values(["unique_id", "cutoff", "ds"])
    pd.testing.assert_frame_equal(
        forecasts.reset_index(drop=True),
        whole.forecasts.sort_values(["unique_id", "cutoff", "ds"]).reset_index(
            drop=True
        ),
        rtol=1e-4,
    )
