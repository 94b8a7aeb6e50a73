"""pmdarima and statsmodels as baselines: the same forecasts as the libraries give."""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from rnncast import ConfigError, backtest
from rnncast.baselines import OwnModel, make_baseline
from rnncast.evaluation.metrics import mase

pm = pytest.importorskip("pmdarima", reason="pip install 'rnncast[pmdarima]'")
ets = pytest.importorskip(
    "statsmodels.tsa.exponential_smoothing.ets", reason="pip install statsmodels"
)
from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa: E402
from statsmodels.tsa.statespace.sarimax import SARIMAX  # noqa: E402


@pytest.fixture
def split(air):
    return air.iloc[:-12], air.iloc[-12:]


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def test_pmdarima_is_auto_arima_with_its_recommended_settings(split):
    train, test = split
    out = make_baseline("pmdarima", horizon=12).fit(train).predict(level=[80])
    direct = _quiet(
        lambda: pm.auto_arima(
            train["y"].to_numpy(),
            seasonal=True,
            m=12,
            stepwise=True,
            suppress_warnings=True,
            error_action="ignore",
        )
    )
    mean, bounds = direct.predict(n_periods=12, return_conf_int=True, alpha=0.2)
    np.testing.assert_allclose(out["pmdarima"], mean, rtol=1e-8)
    np.testing.assert_allclose(out["pmdarima-lo-80"], bounds[:, 0], rtol=1e-8)
    np.testing.assert_allclose(out["pmdarima-hi-80"], bounds[:, 1], rtol=1e-8)
    naive = mase(test["y"], np.repeat(train["y"].iloc[-1], 12), train["y"], 12)
    assert mase(test["y"], out["pmdarima"], train["y"], 12) < naive


def test_sm_ets_is_the_additive_ets_form_of_lowest_aicc(split):
    train, _ = split
    out = make_baseline("sm-ets", horizon=12).fit(train).predict(level=[90])
    y = pd.Series(train["y"].to_numpy())
    forms = [{}, {"trend": "add", "damped_trend": True}]
    forms += [{**f, "seasonal": "add", "seasonal_periods": 12} for f in forms]
    fits = [
        _quiet(lambda f=f: ets.ETSModel(y, error="add", **f).fit(disp=False))
        for f in forms
    ]
    best = min(fits, key=lambda r: r.aicc)
    frame = best.get_prediction(start=len(y), end=len(y) + 11).summary_frame(alpha=0.1)
    np.testing.assert_allclose(out["sm-ets"], frame["mean"], rtol=1e-8)
    np.testing.assert_allclose(out["sm-ets-lo-90"], frame["pi_lower"], rtol=1e-8)
    assert best.model.seasonal == "add"  # air passengers: the season wins


def test_sarimax_is_the_airline_model(split):
    train, _ = split
    out = make_baseline("sarimax", horizon=12).fit(train).predict(level=[80])
    y = pd.Series(train["y"].to_numpy())
    model = SARIMAX(y, order=(1, 1, 1), seasonal_order=(0, 1, 1, 12))
    results = _quiet(lambda: model.fit(disp=False))
    frame = results.get_forecast(12).summary_frame(alpha=0.2)
    np.testing.assert_allclose(out["sarimax"], frame["mean"], rtol=1e-6)
    np.testing.assert_allclose(out["sarimax-hi-80"], frame["mean_ci_upper"], rtol=1e-6)


def test_own_models_forecast_as_their_library_does(split):
    train, _ = split
    y = train["y"].to_numpy()
    arima = OwnModel(pm.ARIMA(order=(1, 1, 0)), alias="my-arima", horizon=12)
    out = arima.fit(train).predict()
    direct = _quiet(lambda: pm.ARIMA(order=(1, 1, 0)).fit(y))
    np.testing.assert_allclose(out["my-arima"], direct.predict(n_periods=12))
    holt = functools.partial(
        ExponentialSmoothing, trend="add", seasonal="mul", seasonal_periods=12
    )
    winters = OwnModel(holt, alias="holt-winters", horizon=12).fit(train)
    out = winters.predict(level=[80])
    expected = _quiet(lambda: holt(pd.Series(y)).fit().forecast(12))
    np.testing.assert_allclose(out["holt-winters"], expected)
    lower, upper = out["holt-winters-lo-80"], out["holt-winters-hi-80"]
    assert (lower < out["holt-winters"]).all() and (out["holt-winters"] < upper).all()


def test_own_models_refuse_what_they_cannot_do(air, tmp_path):
    with pytest.raises(ConfigError, match="pmdarima model or a callable"):
        OwnModel("arima", horizon=3).fit(air)
    fitted = OwnModel(pm.ARIMA(order=(0, 1, 0)), horizon=3).fit(air)
    with pytest.raises(ConfigError, match="save the model with its library"):
        fitted.save(tmp_path / "own.json")
    params = fitted.get_params()
    assert params["alias"] == "own" and params["horizon"] == 3


def test_the_libraries_models_in_a_backtest_leaderboard(air_panel):
    result = backtest(
        air_panel,
        [
            "pmdarima",
            "sm-ets",
            "sarimax",
            OwnModel(pm.ARIMA(order=(0, 1, 1)), alias="ima"),
        ],
        horizon=6,
        n_windows=1,
    )
    names = set(result.leaderboard["model"])
    assert names == {"pmdarima", "sm-ets", "sarimax", "ima", "snaive"}
    assert result.leaderboard["mase"].notna().all()


def test_sarimax_and_pmdarima_take_future_known_regressors(promo_days):
    frame = promo_days
    train, future = frame.iloc[:-7], frame.iloc[-7:]
    for alias in ("sarimax", "pmdarima"):
        plain = make_baseline(alias, horizon=7).fit(train).predict()[alias]
        model = make_baseline(alias, horizon=7, futr_exog=["promo"]).fit(train)
        with_promo = model.predict(futr_df=future.drop(columns="y"))[alias]
        error = np.abs(with_promo.to_numpy() - future["y"].to_numpy()).mean()
        assert error < 0.3 * np.abs(plain.to_numpy() - future["y"].to_numpy()).mean()
