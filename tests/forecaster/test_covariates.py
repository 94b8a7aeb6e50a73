"""Covariates end to end: fit, predict with futr_df, files, backtest, errors."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnncast import ConfigError, DataError, Forecaster, backtest
from rnncast.data.calendar import calendar_names, calendar_values
from rnncast.data.covariates import StaticEncoding, dynamic_statistics
from rnncast.evaluation.report import render_report
from rnncast.explain import gate_activations, input_importance
from rnncast.reference import from_torch, network_forward

HORIZON = 7
FAST = {
    "hidden": (8,),
    "epochs": 60,
    "learning_rate": 0.01,
    "seed": 0,
    "combine": "none",
}


def _promo_panel(n_series=4, length=140, seed=0):
    """Daily series driven by a 0/1 promotion flag (known ahead) and a sensor."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        ds = pd.date_range("2024-01-01", periods=length, freq="D")
        promo = (rng.random(length) < 0.25).astype(float)
        sensor = rng.normal(size=length)
        y = 100 + 10 * i + 30 * promo + rng.normal(0, 1, length)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": ds,
                    "y": y,
                    "promo": promo,
                    "sensor": sensor,
                    "region": "north" if i % 2 else "south",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _split(frame, horizon=HORIZON):
    train = frame.groupby("unique_id").head(len(frame) // 4 - horizon)
    future = frame.groupby("unique_id").tail(horizon)
    return train.reset_index(drop=True), future.reset_index(drop=True)


@pytest.fixture(scope="module")
def panel():
    return _promo_panel()


def _every_kind(**extra):
    """A model reading a covariate of every kind."""
    return Forecaster(
        horizon=HORIZON,
        futr_exog=["promo"],
        hist_exog=["sensor"],
        stat_exog=["region"],
        **FAST,
        **extra,
    )


@pytest.fixture(scope="module")
def fitted(panel):
    train, _ = _split(panel)
    return _every_kind(calendar=True).fit(train)


def _mae(forecast, future):
    return float(np.abs(forecast["yhat"].to_numpy() - future["y"].to_numpy()).mean())


def test_a_known_promotion_makes_the_forecast_better(panel, fitted):
    train, future = _split(panel)
    plain = Forecaster(horizon=HORIZON, **FAST).fit(train)
    with_promo = fitted.predict(futr_df=future.drop(columns=["y", "sensor"]))
    assert _mae(with_promo, future) < 0.6 * _mae(plain.predict(), future)


def test_the_forecast_follows_the_future_covariates(panel, fitted):
    _, future = _split(panel)
    on = fitted.predict(futr_df=future.assign(promo=1.0))["yhat"].to_numpy()
    off = fitted.predict(futr_df=future.assign(promo=0.0))["yhat"].to_numpy()
    assert (on - off).mean() > 15  # the data's promotion adds 30


def test_predict_without_futr_df_names_the_columns(fitted):
    with pytest.raises(DataError, match=r"futr_df.*promo"):
        fitted.predict()


def test_a_futr_df_missing_steps_names_the_series_and_times(panel, fitted):
    _, future = _split(panel)
    short = future[~((future["unique_id"] == "s1") & (future.index % HORIZON == 3))]
    with pytest.raises(DataError, match=r"'s1' at 2024-0"):
        fitted.predict(futr_df=short)


def test_model_files_keep_the_covariates(panel, fitted, tmp_path):
    _, future = _split(panel)
    fitted.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(
        loaded.predict(futr_df=future), fitted.predict(futr_df=future)
    )
    with pytest.raises(DataError, match="promo"):
        loaded.predict()


def test_new_history_is_read_with_its_covariates(panel, fitted):
    train, future = _split(panel)
    from_history = fitted.predict(train, futr_df=future)
    pd.testing.assert_frame_equal(from_history, fitted.predict(futr_df=future))
    without_static = train.drop(columns="region")  # fitted series keep theirs
    pd.testing.assert_frame_equal(
        fitted.predict(without_static, futr_df=future), from_history
    )
    new = train[train["unique_id"] == "s0"].assign(unique_id="new")
    with pytest.raises(DataError, match=r"'new'.*static"):
        fitted.predict(new.drop(columns="region"), futr_df=future)


def _check_reference(model, future, step_inputs):
    """The NumPy reference forecasts exactly as torch from ``predict``'s inputs."""
    inputs = model.forecast_inputs(futr_df=future, dtype=torch.float64)
    assert inputs.future.shape[1:] == (HORIZON, step_inputs)
    network = model.network_.double()
    try:
        expected = network(inputs.inputs, inputs.future).detach().numpy()
    finally:
        model.network_.float()
    got, _ = network_forward(
        from_torch(model.network_), inputs.inputs.numpy(), inputs.future.numpy()
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_the_reference_network_equals_torch_on_covariate_inputs(panel, fitted):
    _, future = _split(panel)
    _check_reference(fitted, future, step_inputs=4 + 1)  # calendar, promo


def test_a_recursive_head_feeds_back_each_step_s_known_inputs(panel, tmp_path):
    train, future = _split(panel)
    model = Forecaster(
        horizon=HORIZON,
        output="recursive",
        futr_exog=["promo"],
        stat_exog=["region"],
        calendar=True,
        **FAST,
    ).fit(train)
    on = model.predict(futr_df=future.assign(promo=1.0))["yhat"].to_numpy()
    off = model.predict(futr_df=future.assign(promo=0.0))["yhat"].to_numpy()
    assert (on - off).mean() > 5  # up, each step (the data's promotion adds 30)
    assert (on > off).all()
    _check_reference(model, future, step_inputs=4 + 1 + 2)  # and the region
    model.save(tmp_path / "recursive")
    pd.testing.assert_frame_equal(
        Forecaster.load(tmp_path / "recursive").predict(futr_df=future),
        model.predict(futr_df=future),
    )


def test_explain_traces_gates_and_ranks_the_promotion_above_noise(panel, fitted):
    _, future = _split(panel)
    trace = gate_activations(fitted, futr_df=future, series="s2")
    assert trace.series == "s2" and (1, "forget f") in trace.gates
    ranked = input_importance(fitted, futr_df=future)
    share = dict(zip(ranked["input"], ranked["share"], strict=True))
    assert "futr:promo" in set(ranked["input"].iloc[:2])  # with the value y
    assert share["futr:promo"] > 3 * share["sensor"]  # the sensor is noise
    assert ranked["share"].sum() == pytest.approx(1.0)


def test_backtests_give_no_model_values_from_after_its_cutoff(panel):
    model = Forecaster(
        horizon=HORIZON, futr_exog=["promo"], hist_exog=["sensor"], **FAST
    )
    base = backtest(panel, [model], horizon=HORIZON, n_windows=2)
    board = base.leaderboard
    seen = dict(zip(board["model"], board["covariates"], strict=True))
    assert seen == {model.name: "promo, sensor (past)", "snaive": "-"}
    assert "<th>covariates seen</th>" in render_report(base)
    ends = panel.groupby("unique_id")["ds"].transform("max")
    after_last_cutoff = panel["ds"] > ends - pd.Timedelta(days=HORIZON)
    after_first_horizon = (panel["ds"] > ends - pd.Timedelta(days=HORIZON)) | (
        panel["ds"] <= ends - pd.Timedelta(days=2 * HORIZON)
    )
    # past covariates after a cutoff, and anything after a window's horizon
    changed = panel.assign(sensor=panel["sensor"].where(~after_last_cutoff, 99.0))
    same = backtest(changed, [model], horizon=HORIZON, n_windows=2)
    pd.testing.assert_frame_equal(same.forecasts, base.forecasts)
    first_window = base.forecasts["cutoff"] == base.forecasts["cutoff"].min()
    later = panel.assign(
        promo=panel["promo"].where(~after_last_cutoff, 1 - panel["promo"])
    )
    moved = backtest(later, [model], horizon=HORIZON, n_windows=2).forecasts
    name = model.name
    np.testing.assert_array_equal(
        moved.loc[first_window, name], base.forecasts.loc[first_window, name]
    )
    assert not np.allclose(
        moved.loc[~first_window, name], base.forecasts.loc[~first_window, name]
    )
    assert after_first_horizon.any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(promo=f["promo"].where(f.index != 5)), r"'promo'.*'s0'"),
        (
            lambda f: f.assign(promo=np.where(f.index == 300, np.inf, f["promo"])),
            "'s2'",
        ),
        (lambda f: f.assign(promo="yes"), "not numeric"),
        (lambda f: f.drop(columns="sensor"), r"lacks the column\(s\) \['sensor'\]"),
        (
            lambda f: f.assign(region=np.where(f.index == 3, "east", f["region"])),
            r"several values within series 's0'",
        ),
    ],
    ids=["nan", "inf", "text", "missing-column", "varying-static"],
)
def test_bad_covariates_are_errors_that_name_the_series(panel, change, message):
    train, _ = _split(panel)
    with pytest.raises(DataError, match=message):
        _every_kind().fit(change(train))


def test_an_unseen_static_level_is_an_error_naming_it():
    encoding = StaticEncoding.fit(pd.DataFrame({"region": ["a", "b"], "size": [1, 3]}))
    assert encoding.names == ["region=a", "region=b", "size"]
    np.testing.assert_allclose(
        encoding.encode(pd.DataFrame({"region": ["b"], "size": [3]}), ["x"]),
        [[0.0, 1.0, 1.0]],
    )
    with pytest.raises(DataError, match=r"x \('c'\).*known levels: \['a', 'b'\]"):
        encoding.encode(pd.DataFrame({"region": ["c"], "size": [1]}), ["x"])


def test_static_covariates_can_come_as_static_df(panel):
    train, _ = _split(panel)
    static = train.groupby("unique_id", as_index=False)["region"].first()
    model = Forecaster(horizon=HORIZON, stat_exog=["region"], **FAST)
    model.fit(train.drop(columns="region"), static_df=static)
    assert model.fitted_.covariates.static.names == ["region=north", "region=south"]
    with pytest.raises(DataError, match=r"static_df has no static values.*'s3'"):
        Forecaster(horizon=HORIZON, stat_exog=["region"], **FAST).fit(
            train, static_df=static[static["unique_id"] != "s3"]
        )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"futr_exog": ["y"]}, "id, time or target"),
        ({"futr_exog": ["a"], "hist_exog": ["a"]}, "both futr_exog and hist_exog"),
        ({"futr_exog": "promo"}, "list of column names"),
        ({"holidays": "US"}, "calendar=True"),
        ({"hist_exog": ["sensor"], "output": "recursive"}, "output='direct'"),
    ],
)
def test_covariate_parameters_are_checked_before_reading_data(params, message):
    with pytest.raises(ConfigError, match=message):
        Forecaster(horizon=3, **params).fit(pd.Series(np.arange(30.0)))


def test_dynamic_statistics_leave_flags_and_use_the_column_spread_for_constants():
    exog = np.array([[0, 5.0], [1, 5.0], [0, 5.0], [1, 1.0], [0, 3.0], [1, 9.0]])
    loc, scale = dynamic_statistics(exog, np.array([0, 3, 6]), np.array([3, 3]))
    np.testing.assert_allclose(loc[:, 0], 0) and np.testing.assert_allclose(
        scale[:, 0], 1
    )
    np.testing.assert_allclose(loc[:, 1], [5.0, 13 / 3])
    assert scale[0, 1] == pytest.approx(exog[:, 1].std())  # constant: the column's
    assert scale[1, 1] == pytest.approx(np.std([1.0, 3.0, 9.0]))


def test_calendar_inputs_follow_the_frequency_and_flag_holidays():
    assert calendar_names("h")[:2] == ("hour_of_day_sin", "hour_of_day_cos")
    assert calendar_names("MS") == ("month_of_year_sin", "month_of_year_cos")
    stamps = pd.date_range("2024-07-03", periods=3, freq="D")
    values = calendar_values(stamps, "D", "US")
    np.testing.assert_array_equal(values[:, -1], [0, 1, 0])  # July 4th
    np.testing.assert_allclose(values[:, 0] ** 2 + values[:, 1] ** 2, 1.0)
    with pytest.raises(DataError, match="integer time"):
        calendar_names(1)
    with pytest.raises(DataError, match="daily or finer"):
        calendar_names("MS", "US")


def test_tune_scores_candidates_with_the_horizon_s_known_covariates(panel):
    from rnncast.evaluation.tune import tune

    settings = {k: v for k, v in FAST.items() if k != "seed"}
    result = tune(
        panel,
        horizon=HORIZON,
        candidates=[{"cell": "gru"}, {"cell": "lstm"}],
        refit=False,
        futr_exog=["promo"],
        **settings,
    )
    assert result.scores["mase"].notna().all() and result.scores["chosen"].sum() == 1
    assert result.best_params["futr_exog"] == ["promo"]
