import numpy as np
import pandas as pd
import pytest

from conftest import TINY
from rnncast import ConfigError, DataError
from rnncast.evaluation.backtest import backtest, mean_scores, metric_totals
from rnncast.evaluation.metrics import mase, smape

NEURAL = {**TINY, "lookback": 24}


def test_forecasts_are_tidy_with_cutoffs(air_panel):
    result = backtest(air_panel, ["snaive", "naive"], horizon=6, n_windows=3, step=4)
    fc = result.forecasts
    assert list(fc.columns) == ["unique_id", "ds", "cutoff", "y", "snaive", "naive"]
    assert len(fc) == 3 * 3 * 6
    air = fc[fc["unique_id"] == "AirPassengers"]
    assert sorted(air["cutoff"].unique()) == list(
        pd.to_datetime(["1959-10-01", "1960-02-01", "1960-06-01"])
    )
    first = air[air["cutoff"] == pd.Timestamp("1959-10-01")]
    assert list(first["ds"]) == list(pd.date_range("1959-11-01", periods=6, freq="MS"))


def test_cutoff_windows_see_no_later_data(air):
    """Changing values after the first cutoff leaves that window's forecasts alone."""
    models = ["lstm", "arima", "ets", "snaive", "drift"]
    kwargs = {"horizon": 12, "n_windows": 2, "neural_params": NEURAL}
    before = backtest(air, models, **kwargs).forecasts
    cutoff = before["cutoff"].min()
    changed = air.copy()
    changed.loc[changed["ds"] > cutoff, "y"] *= 3
    after = backtest(changed, models, **kwargs).forecasts
    first = before["cutoff"] == cutoff
    pd.testing.assert_frame_equal(
        before.loc[first, models].reset_index(drop=True),
        after.loc[after["cutoff"] == cutoff, models].reset_index(drop=True),
    )
    later = ~first
    assert not np.allclose(
        before.loc[later, "snaive"], after.loc[later.to_numpy(), "snaive"]
    )


def test_metrics_match_the_metric_functions(air):
    result = backtest(air, ["naive"], horizon=12, n_windows=2)
    fc, metrics = result.forecasts, result.metrics
    for cutoff, window in fc.groupby("cutoff"):
        history = air.loc[air["ds"] <= cutoff, "y"].to_numpy()
        row = metrics[
            (metrics["cutoff"] == cutoff) & (metrics["model"] == "naive")
        ].iloc[0]
        assert row["mase"] == pytest.approx(
            mase(window["y"], window["naive"], history, 12)
        )
        assert row["smape"] == pytest.approx(smape(window["y"], window["naive"]))
        # naive: every forecast equals the last value before the cutoff
        assert (window["naive"] == history[-1]).all()


def test_leaderboard_has_owa_timings_and_is_sorted(air_panel):
    result = backtest(
        air_panel, ["naive", "drift", "snaive"], horizon=6, n_windows=2, sort_by="mae"
    )
    board = result.leaderboard
    assert list(board["mae"]) == sorted(board["mae"])
    assert board.set_index("model").loc["snaive", "owa"] == pytest.approx(1.0)
    for column in (
        "mse",
        "mae",
        "rmse",
        "mape",
        "smape",
        "mase",
        "owa",
        "fit_seconds",
        "predict_seconds",
        "fallbacks",
    ):
        assert column in board.columns
    means = result.metrics.groupby("model")["mase"].mean()
    assert board.set_index("model")["mase"].to_dict() == pytest.approx(means.to_dict())


def test_reference_model_is_added_when_missing(air):
    result = backtest(air, ["naive"], horizon=6, n_windows=1)
    assert sorted(result.leaderboard["model"]) == ["naive", "snaive"]


def test_fit_once_uses_later_history_without_refitting(air):
    refit = backtest(air, ["gru"], horizon=6, n_windows=2, neural_params=NEURAL)
    once = backtest(
        air, ["gru"], horizon=6, n_windows=2, refit=False, neural_params=NEURAL
    )
    first = refit.forecasts["cutoff"] == refit.forecasts["cutoff"].min()
    np.testing.assert_array_equal(
        refit.forecasts.loc[first, "gru"], once.forecasts.loc[first, "gru"]
    )
    assert not np.allclose(
        refit.forecasts.loc[~first, "gru"], once.forecasts.loc[~first, "gru"]
    )
    # One fit in all instead of one per window.
    assert len(once.training["gru"]) == 1 and len(refit.training["gru"]) == 2


def test_fallbacks_are_reported(air_panel):
    result = backtest(air_panel, ["arima"], horizon=6, n_windows=1, time_limit=1e-9)
    board = result.leaderboard.set_index("model")
    assert board.loc["arima", "fallbacks"] == 3
    assert set(result.fallbacks["reason"]) == {
        "timed out after 1e-09 s; seasonal naive used"
    }
    np.testing.assert_array_equal(result.forecasts["arima"], result.forecasts["snaive"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"models": ["transformer"]}, ConfigError, "unknown model 'transformer'"),
        ({"models": ["naive", "naive"]}, ConfigError, "listed twice"),
        (
            {"models": ["naive"], "n_windows": 0},
            ConfigError,
            "n_windows must be a positive integer",
        ),
        ({"models": ["naive"], "sort_by": "r2"}, ConfigError, "unknown metric 'r2'"),
        ({"models": ["naive"], "n_windows": 30}, DataError, "30 windows of horizon 12"),
    ],
    ids=["model", "twice", "windows", "metric", "too-many-windows"],
)
def test_bad_arguments(air, kwargs, error, message):
    with pytest.raises(error, match=message):
        backtest(air, horizon=12, **kwargs)


def test_network_too_long_for_a_window_names_the_window(air):
    with pytest.raises(DataError, match="lstm cannot be fitted at window 1"):
        backtest(
            air,
            ["lstm"],
            horizon=12,
            n_windows=3,
            neural_params={**TINY, "lookback": 100, "missing": "error"},
        )


def test_steps_break_the_leaderboard_down_by_horizon_step(air_panel):
    result = backtest(
        air_panel, ["naive", "snaive"], horizon=4, n_windows=3, level=[80]
    )
    steps = result.steps
    assert list(steps.columns) == [
        "model",
        "step",
        "mae",
        "smape",
        "mase",
        "coverage_80",
    ]
    board = result.leaderboard.set_index("model")
    for model in ("naive", "snaive"):
        rows = steps[steps["model"] == model]
        assert list(rows["step"]) == [1, 2, 3, 4]
        for metric in ("mae", "smape", "mase", "coverage_80"):
            assert rows[metric].mean() == pytest.approx(board.loc[model, metric])
    # step 1 of the naive forecast is the last value's one-step error, by hand
    fc = result.forecasts.sort_values(["unique_id", "cutoff", "ds"])
    first = fc.groupby(["unique_id", "cutoff"]).head(1)
    naive_step1 = steps[(steps["model"] == "naive") & (steps["step"] == 1)]
    assert naive_step1["mae"].iloc[0] == pytest.approx(
        (first["y"] - first["naive"]).abs().mean()
    )


def test_a_network_mixed_with_theta_is_its_own_model(air):
    from rnncast import Forecaster

    names = ["lstm", "lstm+theta", "gru+theta+damped"]
    result = backtest(air, names, horizon=12, n_windows=1, neural_params=NEURAL)
    fc = result.forecasts
    assert set(names) <= set(result.leaderboard["model"])
    history = air[air["ds"] <= fc["cutoff"].iloc[0]]
    mixed = Forecaster(horizon=12, combine="theta", seed=0, **NEURAL).fit(history)
    plain = Forecaster(horizon=12, seed=0, **NEURAL).fit(history)
    np.testing.assert_allclose(fc["lstm+theta"], mixed.predict()["yhat"], rtol=1e-12)
    np.testing.assert_allclose(fc["lstm"], plain.predict()["yhat"], rtol=1e-12)
    assert mixed.combine_weight_ < 1.0  # else the two columns would be equal


# ------------------------------------------------------------ model objects
def test_models_can_be_objects_with_their_own_parameters(air):
    from rnncast import Forecaster

    models = [
        Forecaster(cell="gru", hidden=(8,), epochs=2, lookback=24),
        Forecaster(cell="lstm", hidden=(4,), epochs=2, lookback=24),
        "snaive",
    ]
    result = backtest(air, models, horizon=6, n_windows=2)
    assert list(result.leaderboard["model"].sort_values()) == ["gru", "lstm", "snaive"]
    # each object is the network its name would build with the same parameters
    neural = {"hidden": (8,), "epochs": 2, "lookback": 24}
    named = backtest(air, ["gru"], horizon=6, n_windows=2, neural_params=neural)
    pd.testing.assert_series_equal(result.forecasts["gru"], named.forecasts["gru"])
    assert models[0].horizon is None  # the objects given are left as they were
    assert set(result.training) == {"gru", "lstm"}  # the networks' epochs


def test_two_objects_of_one_name_are_told_apart_by_their_parameters(air):
    from rnncast import Forecaster, SeasonalNaive

    models = [
        Forecaster(hidden=(4,), epochs=1, lookback=24),
        Forecaster(hidden=(8,), epochs=1, lookback=24),
        SeasonalNaive(),
    ]
    result = backtest(air, models, horizon=6, n_windows=1)
    assert sorted(result.leaderboard["model"]) == [
        "lstm[lookback=24, hidden=(4,), epochs=1]",
        "lstm[lookback=24, hidden=(8,), epochs=1]",
        "snaive",
    ]
    aliased = [Forecaster(alias="small", hidden=(4,), epochs=1, lookback=24)]
    board = backtest(air, aliased, horizon=6, n_windows=1).leaderboard
    assert set(board["model"]) == {"small", "snaive"}


def test_an_object_with_another_horizon_or_twice_the_same_is_refused(air):
    from rnncast import Forecaster

    with pytest.raises(ConfigError, match="has horizon=12, but the backtest"):
        backtest(air, [Forecaster(horizon=12)], horizon=6)
    with pytest.raises(ConfigError, match=r"listed twice: \['lstm'\]"):
        backtest(air, [Forecaster(), Forecaster()], horizon=6)
    with pytest.raises(ConfigError, match=r"give model names .* or models such as"):
        backtest(air, [object()], horizon=6)


def _with_a_flat_series(panel: pd.DataFrame) -> pd.DataFrame:
    """``panel`` and a series "flat", constant but for its last four values."""
    flat = panel[panel["unique_id"] == panel["unique_id"].iloc[0]].copy()
    flat["unique_id"] = "flat"
    flat["y"] = 100.0
    flat.loc[flat.index[-4:], "y"] = [110.0, 120.0, 130.0, 140.0]
    return pd.concat([panel, flat], ignore_index=True)


def test_a_constant_history_leaves_the_scaled_means_for_every_model(air_panel):
    # one series is flat before the first window's cutoff, then moves: its MASE
    # scale is 0 there, and naive's MASE inf
    data = _with_a_flat_series(air_panel)
    result = backtest(data, ["naive", "drift"], horizon=3, n_windows=2, level=[80])

    assert result.summary["constant_histories"] == 1
    metrics = result.metrics
    flat_rows = metrics[metrics["unique_id"] == "flat"]
    assert np.isinf(flat_rows["mase"]).any()  # per series it stays inf
    kept = metrics[
        (metrics["unique_id"] != "flat")
        | (metrics["cutoff"] != metrics["cutoff"].min())
    ]
    board = result.leaderboard.set_index("model")
    for model in ("naive", "drift"):
        rows = kept[kept["model"] == model]
        for name in ("mase", "msis_80", "pinball"):
            assert board.loc[model, name] == pytest.approx(rows[name].mean())
        # unscaled metrics keep every series-window
        everything = metrics[metrics["model"] == model]
        assert board.loc[model, "mae"] == pytest.approx(everything["mae"].mean())
    steps = result.steps.set_index(["model", "step"])
    assert np.isfinite(steps["mase"]).all()


def test_the_totals_of_two_halves_of_a_panel_give_the_whole_leaderboard(air_panel):
    # as a backtest of Parquet shards scores its files apart and adds them up
    data = _with_a_flat_series(air_panel)
    result = backtest(data, ["naive", "snaive"], horizon=3, n_windows=2, level=[80])
    metrics = result.metrics
    first = metrics["unique_id"].isin(["flat", metrics["unique_id"].iloc[0]])
    halves = [metric_totals(metrics[first]), metric_totals(metrics[~first])]

    sums, counts = (halves[0][k] + halves[1][k] for k in (0, 1))
    scores = mean_scores(sums, counts, reference="snaive")
    board = result.leaderboard.set_index("model").loc[scores.index, scores.columns]
    pd.testing.assert_frame_equal(scores, board)
    assert np.isfinite(scores["mase"]).all()  # the flat window's inf is left out
    scaled = counts.loc["naive", "mase"]
    assert scaled == counts.loc["naive", "mae"] - 1  # one constant series-window
