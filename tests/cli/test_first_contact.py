"""The command line on ordinary data: short series, columns, output files, messages."""

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import TINY_ARGS
from rnncast.cli import main
from rnncast.datasets import DATASET_INFO
from rnncast.options import MIN_VALUES

HORIZON = 6


@pytest.fixture
def stores(air):
    """Three stores in a long file whose id column is called ``store``, with extras."""
    parts = [
        air.assign(store=name, y=air["y"] * k, price=1.5 * k, promo=k % 2)
        for k, name in enumerate(("north", "south", "east"), start=1)
    ]
    return pd.concat(parts, ignore_index=True).drop(columns="unique_id")


@pytest.fixture
def young_panel(air_panel):
    """``air_panel`` plus a series shorter than one window and one too short for it."""
    young = air_panel[air_panel["unique_id"] == "sqrt"].tail(20)
    newborn = air_panel[air_panel["unique_id"] == "recent"].tail(MIN_VALUES - 1)
    return pd.concat(
        [
            air_panel,
            young.assign(unique_id="young"),
            newborn.assign(unique_id="newborn"),
        ],
        ignore_index=True,
    )


def _forecast(data, *extra):
    return main(["forecast", str(data), "--horizon", str(HORIZON), *TINY_ARGS, *extra])


def test_default_forecast_takes_short_series_and_reports_fallbacks(
    young_panel, write_csv, tmp_path, capsys
):
    out, report = tmp_path / "fc.csv", tmp_path / "fallbacks.csv"
    assert (
        _forecast(write_csv(young_panel), "-o", str(out), "--fallbacks", str(report))
        == 0
    )
    forecast = pd.read_csv(out)
    assert forecast.groupby("unique_id").size().to_dict() == {
        uid: HORIZON for uid in young_panel["unique_id"].unique()
    }
    fallbacks = pd.read_csv(report)
    assert list(fallbacks.columns) == ["unique_id", "reason"]
    assert fallbacks["unique_id"].tolist() == ["newborn"]
    assert "naive" in fallbacks["reason"].iloc[0]
    err = capsys.readouterr().err
    assert "data: 1 series too short for a training window, forecast by their" in err


def test_quiet_silences_progress_and_information_not_warnings(
    gappy_panel, write_csv, tmp_path, capsys
):
    data = write_csv(gappy_panel)
    assert _forecast(data, "-o", str(tmp_path / "a.csv")) == 0
    loud = capsys.readouterr().err
    assert "combine:" in loud and "epochs on" in loud and "data: 3 missing" in loud
    assert _forecast(data, "-o", str(tmp_path / "b.csv"), "-q") == 0
    quiet = capsys.readouterr()
    assert "data: 3 missing value(s) kept as gaps" in quiet.err
    assert "combine:" not in quiet.err and "epochs" not in quiet.err
    assert quiet.out.strip() == f"wrote {tmp_path / 'b.csv'}"


def test_output_format_follows_the_suffix(air, write_csv, tmp_path):
    data = write_csv(air)
    paths = {
        suffix: tmp_path / f"fc{suffix}" for suffix in (".csv", ".json", ".parquet")
    }
    for path in paths.values():
        assert _forecast(data, "-o", str(path), "-q", "--level", "80") == 0
    csv = pd.read_csv(paths[".csv"], parse_dates=["ds"])
    records = json.loads(paths[".json"].read_text())
    assert isinstance(records, list) and set(records[0]) == set(csv.columns)
    as_json = pd.DataFrame(records).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    pd.testing.assert_frame_equal(as_json, csv, check_exact=False, rtol=1e-12)
    parquet = pd.read_parquet(paths[".parquet"])
    pd.testing.assert_frame_equal(
        parquet, csv, check_exact=False, rtol=1e-12, check_dtype=False
    )


@pytest.mark.parametrize("name", ["fc.txt", "fc"])
def test_an_unknown_output_suffix_fails_before_reading_data(tmp_path, capsys, name):
    code = _forecast(tmp_path / "no-such-file.csv", "-o", str(tmp_path / name))
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot tell which format" in err and ".json" in err
    assert not (tmp_path / name).exists()


def test_dash_writes_csv_to_stdout_and_nothing_else(air, write_csv, tmp_path, capsys):
    data = write_csv(air)
    plot = tmp_path / "fc.png"
    assert _forecast(data, "-o", "-", "--plot", str(plot), "--level", "80") == 0
    captured = capsys.readouterr()
    forecast = pd.read_csv(io.StringIO(captured.out))
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "yhat",
        "yhat-lo-80",
        "yhat-hi-80",
    ]
    assert len(forecast) == HORIZON
    assert f"wrote {plot}" in captured.err and not (tmp_path / "-").exists()


def test_an_explicit_column_that_is_not_there_lists_the_columns(
    stores, write_csv, tmp_path, capsys
):
    data = write_csv(stores)
    assert _forecast(data, "--id-col", "shop", "-o", str(tmp_path / "fc.csv")) == 1
    err = capsys.readouterr().err
    assert "missing column(s) ['shop']" in err
    assert "['ds', 'y', 'store', 'price', 'promo']" in err


@pytest.mark.parametrize(
    "resample", [[], ["--resample", "MS"]], ids=["plain", "resampled"]
)
def test_repeated_timestamps_without_an_id_name_the_id_column(
    stores, write_csv, tmp_path, capsys, resample
):
    out = tmp_path / "fc.csv"
    assert _forecast(write_csv(stores), *resample, "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert "Did you mean --id-col store (id_col='store')?" in err
    assert "ggregat" not in err  # never the advice to sum the stores into one series
    assert not out.exists()


def test_extra_columns_are_reported_as_ignored(stores, write_csv, tmp_path, capsys):
    out = tmp_path / "fc.csv"
    assert _forecast(write_csv(stores), "--id-col", "store", "-o", str(out), "-q") == 0
    assert pd.read_csv(out)["store"].nunique() == 3
    assert "data: ignored columns: price, promo" in capsys.readouterr().err


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


def test_every_flag_shows_one_accurate_default(capsys):
    for name in ("forecast", "backtest", "report"):
        text = _help(name, capsys)
        for entry in re.split(r"\n  (?=-)", text):
            assert entry.count("(default:") + entry.count("when absent:") <= 1, entry
            assert "(default: None)" not in entry, entry
        assert "--season-length" in text
    forecast = _help("forecast", capsys)
    assert re.search(
        r"--horizon HORIZON\s+number of future steps to forecast\s+\(required\)",
        forecast,
    )
    for flag in ("--epochs", "--batch-size", "--learning-rate", "--seed"):
        entry = re.search(rf"\n  {flag} .*?(?=\n  -)", forecast, re.S).group(0)
        assert "(default:" in entry, entry
    for name in DATASET_INFO:
        assert name in re.sub(r"\s+", "", forecast)
    assert "warnings" in re.sub(r"\s+", " ", forecast)  # -q keeps them


def test_backtest_with_short_series_writes_the_report(
    young_panel, write_csv, tmp_path, capsys
):
    """Series shorter than a window at every cutoff are padded, window by window."""
    report, results = tmp_path / "report.html", tmp_path / "results"
    results.mkdir()
    panel = young_panel[young_panel["unique_id"] != "newborn"]
    newborn = young_panel[young_panel["unique_id"] == "recent"].tail(2 * HORIZON + 2)
    data = write_csv(pd.concat([panel, newborn.assign(unique_id="newborn")]))
    code = main(
        [
            "backtest",
            str(data),
            "--models",
            "lstm,snaive",
            "--horizon",
            str(HORIZON),
            "--windows",
            "2",
            *TINY_ARGS,
            "--report",
            str(report),
            "-o",
            str(results),
            "-q",
        ]
    )
    assert code == 0
    assert "Leaderboard" in report.read_text()
    metrics = pd.read_csv(results / "metrics.csv")
    short = metrics[metrics["unique_id"].isin(["young", "newborn"])]
    assert len(short) == 2 * 2 * 2  # two series, two models, two windows
    assert np.isfinite(short[["mae", "smape", "mase"]]).all().all()
