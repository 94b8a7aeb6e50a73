import json
import time

import numpy as np
import pandas as pd
import pytest

from rnncast import (
    ConfigError,
    Drift,
    ModelFileError,
    Naive,
    NotFittedError,
    SeasonalNaive,
)
from rnncast.baselines import (
    AutoARIMA,
    AutoETS,
    AutoTheta,
    Baseline,
    Prophet,
    drift,
    make_baseline,
    naive,
    seasonal_naive,
)
from rnncast.evaluation.metrics import mase
from rnncast.exceptions import DataError


def test_seasonal_naive_reproduces_the_last_season_exactly(air):
    fc = SeasonalNaive(horizon=18).fit(air).predict()
    last_year = air["y"].to_numpy()[-12:]
    np.testing.assert_array_equal(
        fc["snaive"].to_numpy(), np.concatenate([last_year, last_year[:6]])
    )
    assert fc["ds"].iloc[0] == pd.Timestamp("1961-01-01")


def test_drift_matches_its_formula():
    y = np.array([3.0, 5.0, 4.0, 9.0])
    slope = (9.0 - 3.0) / 3
    np.testing.assert_allclose(drift(y, 3), [9 + slope, 9 + 2 * slope, 9 + 3 * slope])
    np.testing.assert_array_equal(drift(np.array([2.0]), 2), [2.0, 2.0])


def test_naive_repeats_the_last_value(air):
    np.testing.assert_array_equal(naive(np.array([1.0, 7.0]), 3), [7.0, 7.0, 7.0])
    assert (Naive(horizon=2).fit(air).predict()["naive"] == 432.0).all()
    assert Drift(horizon=2).fit(air).predict()["drift"].iloc[0] == pytest.approx(
        432 + (432 - 112) / 143
    )


def test_seasonal_naive_needs_a_full_season():
    with pytest.raises(DataError, match="one full season"):
        seasonal_naive(np.arange(5.0), 3, 12)


def test_baseline_predict_before_fit():
    with pytest.raises(NotFittedError, match="call fit"):
        SeasonalNaive(horizon=3).predict()


@pytest.mark.parametrize(
    "model", [AutoARIMA, AutoETS, AutoTheta], ids=["arima", "ets", "theta"]
)
def test_statistical_models_beat_naive_on_a_real_monthly_series(air, model):
    train, test = air.iloc[:-12], air.iloc[-12:]
    fitted = model(horizon=12).fit(train)
    fc = fitted.predict()[model.alias].to_numpy()
    assert fitted.fallbacks_ == {}
    assert np.isfinite(fc).all() and fc.std() > 1.0
    naive_fc = Naive(horizon=12).fit(train).predict()["naive"]
    assert mase(test["y"], fc, train["y"], 12) < mase(
        test["y"], naive_fc, train["y"], 12
    )


def test_prophet_forecasts_a_real_series(air):
    fitted = Prophet(horizon=6).fit(air.iloc[:-6])
    fc = fitted.predict()
    assert fitted.fallbacks_ == {}
    assert (
        list(fc.columns) == ["unique_id", "ds", "prophet"]
        and np.isfinite(fc["prophet"]).all()
    )


class Broken(Baseline):
    alias = "broken"

    def forecast_one(self, task):
        raise RuntimeError("the optimiser diverged")


class Hanging(Baseline):
    alias = "hanging"

    def forecast_one(self, task):
        time.sleep(30)
        return task.values[-task.horizon :]


class NanOutput(Baseline):
    alias = "nan"

    def forecast_one(self, task):
        return np.full(task.horizon, np.nan)


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (Broken(horizon=12), "RuntimeError: the optimiser diverged"),
        (Hanging(horizon=12, time_limit=0.5), "timed out after 0.5 s"),
        (NanOutput(horizon=12), "non-finite forecasts"),
    ],
    ids=["error", "timeout", "nan"],
)
def test_failing_baseline_falls_back_to_seasonal_naive_and_says_why(
    air_panel, model, reason
):
    start = time.perf_counter()
    fc = model.fit(air_panel).predict()
    assert time.perf_counter() - start < 20
    assert set(model.fallbacks_) == {"AirPassengers", "recent", "sqrt"}
    assert all(reason in why for why in model.fallbacks_.values())
    expected = SeasonalNaive(horizon=12).fit(air_panel).predict()["snaive"]
    np.testing.assert_array_equal(fc[model.alias], expected)


def test_one_failing_series_does_not_stop_the_others(air_panel):
    class FailsOnSqrt(Baseline):
        alias = "picky"

        def forecast_one(self, task):
            if task.values.max() < 100:
                raise ValueError("too small")
            return naive(task.values, task.horizon)

    model = FailsOnSqrt(horizon=3, n_jobs=2).fit(air_panel)
    assert list(model.fallbacks_) == ["sqrt"]
    fc = model.predict()
    assert (fc.loc[fc["unique_id"] == "AirPassengers", "picky"] == 432.0).all()


def test_save_and_load_refit_to_the_same_forecast(air_panel, tmp_path):
    model = AutoETS(horizon=6).fit(air_panel)
    model.save(tmp_path / "ets.json")
    loaded = Baseline.load(tmp_path / "ets.json")
    assert isinstance(loaded, AutoETS)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_load_refuses_damaged_files(air, tmp_path):
    SeasonalNaive(horizon=3).fit(air).save(tmp_path / "s.json")
    content = json.loads((tmp_path / "s.json").read_text())
    content["model"] = "deep_magic"
    (tmp_path / "bad.json").write_text(json.dumps(content))
    with pytest.raises(ModelFileError, match="unknown baseline 'deep_magic'"):
        Baseline.load(tmp_path / "bad.json")
    (tmp_path / "cut.json").write_text((tmp_path / "s.json").read_text()[:40])
    with pytest.raises(ModelFileError, match="damaged"):
        Baseline.load(tmp_path / "cut.json")


def test_missing_engine_names_the_extra(air, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_statsforecast(name, *args, **kwargs):
        if name.startswith("statsforecast"):
            raise ImportError("No module named 'statsforecast'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_statsforecast)
    with pytest.raises(ConfigError, match=r"pip install 'rnncast\[baselines\]'"):
        AutoARIMA(horizon=3).fit(air)


def test_make_baseline_rejects_unknown_names():
    with pytest.raises(ConfigError, match="unknown baseline 'lstm'"):
        make_baseline("lstm", horizon=3)


def _promo_series(length=120, seed=0):
    rng = np.random.default_rng(seed)
    promo = (rng.random(length) < 0.25).astype(float)
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=length, freq="D"),
            "y": 50 + 20 * promo + rng.normal(0, 1, length),
            "promo": promo,
        }
    )


@pytest.mark.parametrize("alias", ["arima", "prophet"])
def test_arima_and_prophet_take_future_known_regressors(alias):
    frame = _promo_series()
    train, future = frame.iloc[:-7], frame.iloc[-7:]
    plain = make_baseline(alias, horizon=7).fit(train).predict()
    model = make_baseline(alias, horizon=7, futr_exog=["promo"]).fit(train)
    with_regressor = model.predict(futr_df=future.drop(columns="y"), level=[80])
    error = np.abs(with_regressor[alias].to_numpy() - future["y"].to_numpy()).mean()
    assert error < 0.3 * np.abs(plain[alias].to_numpy() - future["y"].to_numpy()).mean()
    assert {f"{alias}-lo-80", f"{alias}-hi-80"} <= set(with_regressor.columns)
    with pytest.raises(DataError, match="futr_df"):
        model.predict()


def test_baselines_without_regressors_refuse_futr_exog():
    with pytest.raises(ConfigError, match=r"ets takes no covariates.*'arima'"):
        make_baseline("ets", horizon=7, futr_exog=["promo"]).fit(_promo_series())
    with pytest.raises(ConfigError, match="conformal"):
        make_baseline(
            "arima", horizon=7, futr_exog=["promo"], intervals="conformal"
        ).fit(_promo_series())
