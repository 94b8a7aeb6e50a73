import numpy as np
import pandas as pd
import pytest

from conftest import TINY_ARGS
from rnncast import Forecaster
from rnncast.cli import main
from rnncast.combine import best_weight

FAST = ["--hidden", "8", "--epochs", "2"]


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_forecast_writes_csv_plot_and_model(air, write_csv, tmp_path, capsys):
    data = write_csv(air)
    out, plot, model_dir = tmp_path / "fc.csv", tmp_path / "fc.png", tmp_path / "model"
    code = main(
        [
            "forecast",
            str(data),
            "--horizon",
            "6",
            "--cell",
            "gru",
            *FAST,
            "-o",
            str(out),
            "--plot",
            str(plot),
            "--save-model",
            str(model_dir),
            "--quiet",
        ]
    )
    assert code == 0
    fc = pd.read_csv(out, parse_dates=["ds"])
    assert list(fc.columns) == ["unique_id", "ds", "yhat"] and len(fc) == 6
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = Forecaster.load(model_dir)
    assert loaded.cell == "gru"
    pd.testing.assert_series_equal(
        loaded.predict()["yhat"], fc["yhat"], check_exact=False, rtol=1e-12
    )
    captured = capsys.readouterr()
    # --quiet: only warnings on stderr (here the report of one possible outlier)
    assert all(line.startswith("data: ") for line in captured.err.splitlines())
    assert f"wrote {out}" in captured.out


def test_progress_bar_shows_losses_unless_quiet(air, write_csv, tmp_path, capsys):
    data = write_csv(air)
    assert (
        main(
            [
                "forecast",
                str(data),
                "--horizon",
                "3",
                *FAST,
                "-o",
                str(tmp_path / "a.csv"),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "LSTM" in err and "train" in err and "val" in err


def test_custom_columns_and_hidden_layers(air, write_csv, tmp_path):
    data = write_csv(
        air.rename(columns={"unique_id": "id", "ds": "month", "y": "passengers"})
    )
    out = tmp_path / "fc.csv"
    code = main(
        [
            "forecast",
            str(data),
            "--horizon",
            "4",
            "--hidden",
            "8,4",
            "--epochs",
            "1",
            "--id-col",
            "id",
            "--time-col",
            "month",
            "--target-col",
            "passengers",
            "--lookback",
            "12",
            "-o",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    assert list(pd.read_csv(out).columns) == ["id", "month", "yhat"]


def test_missing_file_is_one_line_and_exit_1(tmp_path, capsys):
    code = main(
        [
            "forecast",
            str(tmp_path / "nope.csv"),
            "--horizon",
            "3",
            "-o",
            str(tmp_path / "o.csv"),
        ]
    )
    assert code == 1
    assert "does not exist" in _one_line(capsys.readouterr().err)


def test_missing_column_writes_nothing(air, write_csv, tmp_path, capsys):
    data = write_csv(air.rename(columns={"y": "value"}))
    out = tmp_path / "o.csv"
    code = main(["forecast", str(data), "--horizon", "3", "-o", str(out), "-q"])
    assert code == 1
    line = _one_line(capsys.readouterr().err)
    assert "missing column(s) ['y']" in line and "--target-col" in line
    assert not out.exists()


def test_bad_data_errors_name_the_series(air, write_csv, tmp_path, capsys):
    short = write_csv(air.head(20))
    assert (
        main(
            [
                "forecast",
                str(short),
                "--horizon",
                "12",
                "--missing",
                "error",
                "-o",
                str(tmp_path / "o.csv"),
                "-q",
            ]
        )
        == 1
    )
    line = _one_line(capsys.readouterr().err)
    assert "1 series have fewer values than lookback=24" in line
    assert "'AirPassengers (20)'" in line


def test_empty_file(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert (
        main(["forecast", str(empty), "--horizon", "3", "-o", str(tmp_path / "o.csv")])
        == 1
    )
    assert "is empty" in _one_line(capsys.readouterr().err)


def test_missing_output_folder_fails_before_training(air, write_csv, tmp_path, capsys):
    data = write_csv(air)
    code = main(
        ["forecast", str(data), "--horizon", "3", "-o", str(tmp_path / "no" / "o.csv")]
    )
    assert code == 1
    assert "does not exist" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", "128,x"], "comma-separated layer widths"),
        (["--horizon", "0"], "expected a positive integer"),
        (["--cell", "transformer"], "invalid choice"),
    ],
    ids=["hidden", "horizon", "cell"],
)
def test_usage_errors_exit_2_with_one_line(
    air, write_csv, tmp_path, capsys, args, message
):
    data = write_csv(air)
    base = ["forecast", str(data), "-o", str(tmp_path / "o.csv")]
    if "--horizon" not in args:
        base += ["--horizon", "3"]
    with pytest.raises(SystemExit) as exit_info:
        main(base + args)
    assert exit_info.value.code == 2
    line = _one_line(capsys.readouterr().err)
    assert message in line and "--help" in line


def test_help_explains_the_input_format(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "rnncast demo" in out and "long format" in out


def test_demo_prints_every_metric_and_writes_files(tmp_path, capsys):
    code = main(["demo", "--epochs", "2", "-o", str(tmp_path / "demo"), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    for word in (
        "lstm",
        "gru",
        "rnn",
        "snaive",
        "MSE",
        "MAE",
        "RMSE",
        "MAPE",
        "sMAPE",
        "MASE",
    ):
        assert word in out
    metrics = pd.read_csv(tmp_path / "demo" / "metrics.csv")
    assert sorted(metrics["model"]) == ["gru", "lstm", "rnn", "snaive", "theta"]
    assert "network's weight" in out
    assert (tmp_path / "demo" / "forecast.png").stat().st_size > 10_000


def test_explain_prints_gates_and_writes_plot_and_csv(air, tmp_path, capsys):
    model_dir = tmp_path / "m"
    Forecaster(horizon=3, cell="lstm", lookback=12, hidden=(4,), epochs=2).fit(
        air
    ).save(model_dir)
    plot, table = tmp_path / "gates.png", tmp_path / "gates.csv"
    code = main(
        [
            "explain",
            str(model_dir),
            "--series",
            "AirPassengers",
            "--plot",
            str(plot),
            "-o",
            str(table),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "forget f" in out and "cell C" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert set(pd.read_csv(table)["gate"]) == {
        "forget f",
        "input i",
        "output o",
        "cell C",
        "hidden h",
    }


def test_explain_unknown_series_is_one_line(air, tmp_path, capsys):
    model_dir = tmp_path / "m"
    Forecaster(horizon=3, lookback=12, hidden=(4,), epochs=1).fit(air).save(model_dir)
    assert main(["explain", str(model_dir), "--series", "nope"]) == 1
    assert "series 'nope' is not in the data" in _one_line(capsys.readouterr().err)


def test_gradients_reports_each_cell(write_csv, air, tmp_path, capsys):
    data = write_csv(air)
    plot = tmp_path / "g.png"
    code = main(
        [
            "gradients",
            str(data),
            "--lookback",
            "20",
            "--hidden",
            "4",
            "--epochs",
            "2",
            "--plot",
            str(plot),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    for word in ("rnn", "lstm", "gru", "initial", "trained"):
        assert word in out
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_backtest_prints_a_leaderboard_and_writes_files(tmp_path, capsys):
    code = main(
        [
            "backtest",
            "air_passengers",
            "--models",
            "lstm,snaive,naive",
            "--horizon",
            "6",
            "--windows",
            "2",
            *TINY_ARGS,
            "-o",
            str(tmp_path),
            "--plot",
            str(tmp_path / "bt.png"),
            "--by-step",
            "-q",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Leaderboard" in out and "OWA" in out
    assert "MASE by horizon step" in out
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    steps = pd.read_csv(tmp_path / "steps.csv")
    assert len(steps) == 3 * 6
    assert steps.groupby("model")["mase"].mean().to_dict() == pytest.approx(
        board.set_index("model")["mase"].to_dict()
    )
    assert sorted(board["model"]) == ["lstm", "naive", "snaive"]
    assert list(board["mase"]) == sorted(board["mase"])
    assert set(pd.read_csv(tmp_path / "forecasts.csv").columns) >= {
        "cutoff",
        "lstm",
        "y",
    }
    assert (tmp_path / "bt.png").read_bytes()[:4] == b"\x89PNG"


def test_backtest_network_options_reach_the_networks(air, tmp_path):
    from rnncast import backtest

    settings = {"scaler": "standard", "loss": "mse", "window_level": "last"}
    flags = ["--scaler", "standard", "--loss", "mse", "--window-level", "last"]
    code = main(
        [
            "backtest",
            "air_passengers",
            "--models",
            "gru",
            "--horizon",
            "6",
            "--windows",
            "1",
            *TINY_ARGS,
            *flags,
            "-o",
            str(tmp_path),
            "-q",
        ]
    )
    assert code == 0
    cli = pd.read_csv(tmp_path / "forecasts.csv")["gru"].to_numpy()
    neural = {"lookback": 24, "hidden": (8,), "epochs": 2}
    api = (
        backtest(
            air, ["gru"], horizon=6, n_windows=1, neural_params={**neural, **settings}
        )
        .forecasts["gru"]
        .to_numpy()
    )
    default = (
        backtest(air, ["gru"], horizon=6, n_windows=1, neural_params=neural)
        .forecasts["gru"]
        .to_numpy()
    )
    np.testing.assert_allclose(cli, api, rtol=1e-6)
    assert not np.allclose(cli, default, rtol=1e-3)  # the flags changed the model


def _conformal_backtest(out, horizon: int, level: str, flags: list[str]):
    """Forecasts of an LSTM and a conformal seasonal naive backtested with flags."""
    out.mkdir()
    args = ["backtest", "air_passengers", "--models", "lstm,snaive"]
    args += ["--horizon", str(horizon), "--windows", "1", *TINY_ARGS]
    args += ["--level", level, "--baseline-intervals", "conformal", *flags]
    assert main([*args, "-o", str(out), "-q"]) == 0
    return pd.read_csv(out / "forecasts.csv")


def test_backtest_conformal_errors_reach_networks_and_baselines(tmp_path):
    def bands(errors):
        fc = _conformal_backtest(
            tmp_path / errors, 1, "50", ["--conformal-errors", errors]
        )
        return {
            m: (fc[f"{m}-hi-50"] - fc[m], fc[m] - fc[f"{m}-lo-50"])
            for m in ("lstm", "snaive")
        }

    for above, below in bands("absolute").values():
        np.testing.assert_allclose(above, below, rtol=1e-9)
    # the seasonal naive under-forecast the growing series at its 3 calibration
    # origins (3 independent windows: enough for signed 50 % tails): its signed
    # interval lies above it
    above, below = bands("signed")["snaive"]
    assert (above > below).all()


def test_backtest_conformal_unit_reaches_networks_and_baselines(tmp_path):
    def widths(unit):
        fc = _conformal_backtest(tmp_path / unit, 6, "80", ["--conformal-unit", unit])
        return {m: fc[f"{m}-hi-80"] - fc[f"{m}-lo-80"] for m in ("lstm", "snaive")}

    recent, seasonal = widths("recent"), widths("seasonal")
    for model in ("lstm", "snaive"):
        # the same errors in other units: other widths (the airline's last 36
        # seasonal changes vary by 19.4 around their mean; all of them average
        # 32.0 away from zero)
        assert not np.allclose(recent[model], seasonal[model], rtol=1e-3)


def test_backtest_reports_fallbacks(capsys):
    code = main(
        [
            "backtest",
            "air_passengers",
            "--models",
            "arima",
            "--horizon",
            "6",
            "--windows",
            "1",
            "--time-limit",
            "1e-9",
            "-q",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err  # a warning: on stderr, -q or not
    assert "fallback: arima on 'AirPassengers'" in err and "naive used" in err


def test_backtest_unknown_model_is_one_line(capsys):
    assert (
        main(
            [
                "backtest",
                "air_passengers",
                "--models",
                "lstm,transformer",
                "--horizon",
                "6",
            ]
        )
        == 1
    )
    assert "unknown model 'transformer'" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("intervals", "errors"),
    [
        ("conformal", "signed"),
        ("conformal", "absolute"),
        ("cqr", "signed"),
        ("conformal", "per-series"),
    ],
)
def test_forecast_with_levels_writes_bands(air, write_csv, tmp_path, intervals, errors):
    out = tmp_path / "fc.csv"
    args = ["forecast", str(write_csv(air)), "--horizon", "6", *FAST, "-o", str(out)]
    args += ["--intervals", intervals]
    if errors == "per-series":
        args += ["--conformal-per-series"]
    else:
        args += ["--conformal-errors", errors]
    assert main([*args, "--level", "80", "95", "--quiet"]) == 0
    fc = pd.read_csv(out)
    assert list(fc.columns)[2:] == [
        "yhat",
        "yhat-lo-95",
        "yhat-lo-80",
        "yhat-hi-80",
        "yhat-hi-95",
    ]
    assert (fc["yhat-lo-95"] <= fc["yhat-lo-80"]).all()
    if errors == "absolute":
        np.testing.assert_allclose(
            fc["yhat-hi-95"] - fc["yhat"], fc["yhat"] - fc["yhat-lo-95"], rtol=1e-9
        )


def test_forecast_resamples_masks_and_reports(air, tmp_path, capsys):
    irregular = air.drop(index=[40, 41, 42, 90]).copy()
    irregular["ds"] = irregular["ds"] + pd.Timedelta(days=3)  # off the month start
    irregular.loc[100, "y"] *= 4  # a glitch
    data = tmp_path / "irregular.csv"
    irregular.to_csv(data, index=False)
    out, outliers = tmp_path / "fc.csv", tmp_path / "outliers.csv"
    code = main(
        [
            "forecast",
            str(data),
            "--horizon",
            "6",
            *FAST,
            "--resample",
            "MS",
            "--max-gap",
            "1",
            "--missing",
            "mask",
            "--outliers",
            str(outliers),
            "-o",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()  # the summary goes to stderr, with the progress
    printed = " ".join((captured.out + captured.err).split())
    assert "140 rows -> 144 steps" in printed
    assert "1 empty steps interpolated" in printed
    assert "3 left missing in 1 longer gap(s)" in printed
    assert "3 missing value(s) kept as gaps" in printed
    assert "1957-05-01" in set(pd.read_csv(outliers)["ds"].str[:10])
    assert len(pd.read_csv(out)) == 6


def test_backtest_with_levels_prints_the_interval_table(capsys):
    code = main(
        [
            "backtest",
            "air_passengers",
            "--models",
            "naive",
            "--horizon",
            "6",
            "--windows",
            "2",
            "--level",
            "80",
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "Prediction intervals" in printed and "cover 80%" in printed


def test_cell_auto_prints_every_candidate_and_keeps_the_best(
    air, write_csv, tmp_path, capsys
):
    data, out, model_dir = write_csv(air), tmp_path / "fc.csv", tmp_path / "m"
    code = main(
        [
            "forecast",
            str(data),
            "--horizon",
            "6",
            "--cell",
            "auto",
            *FAST,
            "--transform",
            "log",
            "--ensemble",
            "2",
            "-o",
            str(out),
            "--save-model",
            str(model_dir),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().err  # reports go to stderr, like the progress bar
    scores = {}
    for line in printed.splitlines():
        if line.startswith("tune: ") and "MASE" in line:
            cell = line.split("cell=")[1].split(",")[0]
            scores[cell] = (float(line.split("MASE ")[1].split()[0]), "*" in line[:8])
    assert set(scores) == {"lstm", "gru", "rnn"}
    best = min(scores, key=lambda c: scores[c][0])
    assert scores[best][1] and sum(chosen for _, chosen in scores.values()) == 1
    loaded = Forecaster.load(model_dir)
    assert loaded.cell == best and loaded.transform == "log" and loaded.ensemble == 2


def test_forecast_with_season_inputs_saves_them_in_the_model(air, write_csv, tmp_path):
    data, model_dir = write_csv(air), tmp_path / "m"
    args = ["forecast", str(data), "--horizon", "6", *FAST, "--season-inputs"]
    assert (
        main([*args, "-o", str(tmp_path / "fc.csv"), "--save-model", str(model_dir)])
        == 0
    )
    loaded = Forecaster.load(model_dir)
    assert loaded.season_inputs
    assert loaded.network_.config.input_size == 4  # y, sin, cos, seasonal flag


def test_forecast_with_additive_patterns_saves_them_in_the_model(
    air, write_csv, tmp_path
):
    data, model_dir = write_csv(air), tmp_path / "m"
    args = ["forecast", str(data), "--horizon", "6", *FAST]
    args += ["--seasonal-pattern", "additive", "--save-model", str(model_dir)]
    assert main([*args, "-o", str(tmp_path / "fc.csv"), "-q"]) == 0
    loaded = Forecaster.load(model_dir)
    assert loaded.seasonal_pattern == "additive"
    assert not loaded.network_.config.multiplicative


def test_forecast_mixed_with_theta_says_the_weight(air, write_csv, tmp_path, capsys):
    out, model_dir = tmp_path / "fc.csv", tmp_path / "model"
    args = ["forecast", str(write_csv(air)), "--horizon", "6", *FAST]  # the default
    args += ["-o", str(out), "--save-model", str(model_dir)]
    assert main(args) == 0
    model = Forecaster.load(model_dir)
    assert model.combine == "theta"
    weight, best = model.combine_weight_, best_weight(model.combine_scores_)
    assert weight != best  # one series: pulled towards equal weights
    line = next(
        x for x in capsys.readouterr().err.splitlines() if x.startswith("combine:")
    )
    assert f"{weight:.1%} network, {1 - weight:.1%} theta (pulled" in line
    assert f"{model.combine_scores_[best]:.3f} with {best:.0%} network" in line
    fc = pd.read_csv(out)
    np.testing.assert_allclose(fc["yhat"], model.predict()["yhat"], rtol=1e-12)


def test_forecast_combine_none_is_the_network_alone(air, write_csv, tmp_path, capsys):
    model_dir = tmp_path / "model"
    args = ["forecast", str(write_csv(air)), "--horizon", "6", *FAST, "--combine"]
    args += ["none", "-o", str(tmp_path / "fc.csv"), "--save-model", str(model_dir)]
    assert main(args) == 0
    model = Forecaster.load(model_dir)
    assert model.combine == "none" and model.combine_weight_ is None
    assert "combine:" not in capsys.readouterr().err


def test_backtest_combine_reaches_the_networks(tmp_path):
    def lstm(flags):
        out = tmp_path / ("mixed" if flags else "plain")
        out.mkdir()
        args = ["backtest", "air_passengers", "--models", "lstm", "--horizon", "6"]
        args += ["--windows", "1", *TINY_ARGS, *flags, "-o", str(out), "-q"]
        assert main(args) == 0
        return pd.read_csv(out / "forecasts.csv")["lstm"].to_numpy()

    assert not np.allclose(lstm(["--combine", "none"]), lstm([]))


def test_forecast_reads_covariates_and_their_future_from_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=107, freq="D")
    promo = (rng.random(107) < 0.3).astype(float)
    frame = pd.DataFrame(
        {"store": "a", "date": ds, "sales": 10 + 5 * promo, "promo": promo}
    )
    data, futr = tmp_path / "sales.csv", tmp_path / "futr.csv"
    frame.iloc[:100].to_csv(data, index=False)
    frame.iloc[100:].drop(columns="sales").to_csv(futr, index=False)
    out = tmp_path / "fc.csv"
    args = ["forecast", str(data), "--horizon", "7", *FAST, "-o", str(out)]
    args += ["--id-col", "store", "--time-col", "date", "--target-col", "sales"]
    args += ["--futr-exog", "promo", "--calendar", "--quiet"]
    assert main([*args, "--futr", str(futr)]) == 0
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["store", "date", "yhat"] and len(forecast) == 7
    assert main(args) == 1  # without the horizon's promotions
    assert "pass them as futr_df" in capsys.readouterr().err


def test_predict_forecasts_a_folder_of_shards_with_a_saved_model(air_panel, tmp_path):
    from rnncast.distributed import read_manifest, split_series

    model = Forecaster(horizon=6, hidden=(8,), epochs=2, seed=0).fit(air_panel)
    model.save(tmp_path / "model")
    source = tmp_path / "shards"
    source.mkdir()
    for k, shard in enumerate(split_series(air_panel, 2)):
        shard.to_parquet(source / f"shard-{k}.parquet", index=False)
    out = tmp_path / "out"
    args = ["predict", str(tmp_path / "model"), str(source), "-o", str(out), "-q"]
    assert main([*args, "--level", "80"]) == 0
    manifest = read_manifest(out)
    assert manifest["series"] == air_panel["unique_id"].nunique()
    written = pd.concat([pd.read_parquet(out / p["file"]) for p in manifest["parts"]])
    expected = model.predict(air_panel, level=[80])
    pd.testing.assert_frame_equal(
        written.sort_values(["unique_id", "ds"], ignore_index=True),
        expected,
        check_dtype=False,
    )
    (source / "notes.txt").write_text("not a shard")
    (out / "stray.csv").write_text("x")  # not an rnncast output any more
    assert main(args) == 1
    assert (out / "stray.csv").is_file() and (out / "_manifest.json").is_file()


def test_forecast_on_a_cluster_refuses_what_reads_the_whole_panel(
    air_panel, tmp_path, capsys
):
    data = tmp_path / "panel.csv"
    air_panel.to_csv(data, index=False)
    args = ["forecast", str(data), "--horizon", "6", "-o", str(tmp_path / "f.csv")]
    args += ["--engine", "ray", "--plot", str(tmp_path / "p.png"), "--cell", "auto"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "--plot, --cell auto" in err and "--engine ray" in err
    assert not (tmp_path / "f.csv").exists()


def test_backtest_of_a_folder_of_parquet_files_writes_its_parts(
    air_panel, tmp_path, capsys
):
    from tests.distributed.test_backtest_files import write_shards

    from rnncast.distributed import read_manifest

    shards = write_shards(air_panel, tmp_path / "in")
    base = ["backtest", str(shards), "--models", "lstm,naive", "--horizon", "6"]
    base += ["--windows", "2", *TINY_ARGS, "-q"]
    assert main([*base, "-o", str(tmp_path / "out")]) == 0
    assert "Leaderboard: 3 series x 2 windows" in capsys.readouterr().out
    manifest = read_manifest(tmp_path / "out")
    assert [p["source"] for p in manifest["parts"]] == [
        "s0.parquet",
        "s1.parquet",
        "s2.parquet",
    ]
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv")
    assert sorted(board["model"]) == ["lstm", "naive", "snaive"]
    assert main([*base, "-o", str(tmp_path / "again"), "--by-step"]) == 1
    assert "--by-step read(s) the whole panel" in _one_line(capsys.readouterr().err)
    assert main(base) == 1
    assert "give -o OUT" in capsys.readouterr().err
