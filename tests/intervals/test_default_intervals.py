"""intervals="auto": a default model gives conformal intervals at any level."""

import pandas as pd
import pytest

from conftest import TINY
from rnncast import ConfigError, Forecaster


def test_a_default_model_predicts_intervals(air):
    model = Forecaster(horizon=12, **TINY).fit(air)
    forecast = model.predict(level=[80, 95])
    assert {"yhat-lo-95", "yhat-lo-80", "yhat-hi-80", "yhat-hi-95"} <= set(forecast)
    assert (forecast["yhat-lo-95"] < forecast["yhat-hi-95"]).all()
    # one series x 12 steps: 4 validation windows give 48 >= 40 errors in all
    assert model.validation_windows_ == 4
    assert forecast.attrs["interval_method"]


def test_auto_keeps_the_point_forecasts_where_one_window_suffices(air_panel):
    """3 series x 14 steps >= 40 errors: the default's one window, as without them."""
    auto = Forecaster(horizon=14, **TINY).fit(air_panel)
    none = Forecaster(horizon=14, intervals=None, **TINY).fit(air_panel)
    assert auto.validation_windows_ == none.validation_windows_ == 1
    pd.testing.assert_frame_equal(auto.predict(), none.predict(), check_exact=True)
    conformal = Forecaster(
        horizon=14, intervals="conformal", validation_windows=1, **TINY
    ).fit(air_panel)
    pd.testing.assert_frame_equal(
        auto.predict(level=[80, 95]),
        conformal.predict(level=[80, 95]),
        check_exact=True,
    )


def test_explicit_conformal_keeps_its_windows_per_step(air_panel):
    model = Forecaster(horizon=14, intervals="conformal", **TINY).fit(air_panel)
    assert model.validation_windows_ == 14  # min(horizon, ceil(40 / 3))


@pytest.mark.parametrize("settings", [{"validation": False}, {"intervals": "none"}])
def test_no_validation_or_none_means_no_intervals(air, settings):
    model = Forecaster(horizon=6, **settings, **TINY).fit(air)
    assert list(model.predict().columns) == ["unique_id", "ds", "yhat"]
    with pytest.raises(ConfigError, match="this model has no intervals"):
        model.predict(level=[80])
