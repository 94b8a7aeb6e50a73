"""Short series by default: padded and masked; a single value is its own forecast."""

import numpy as np
import pandas as pd
import pytest

from conftest import TINY
from rnncast import DataError, Forecaster
from rnncast.options import MIN_VALUES

HORIZON = 6
NEWBORN = MIN_VALUES - 1  # values of a series too short for a training window


@pytest.fixture
def young_panel(air_panel):
    """``air_panel`` plus a young series (20 values) and a newborn (too short)."""
    young = air_panel[air_panel["unique_id"] == "sqrt"].tail(20)
    newborn = air_panel[air_panel["unique_id"] == "recent"].tail(NEWBORN)
    return pd.concat(
        [
            air_panel,
            young.assign(unique_id="young"),
            newborn.assign(unique_id="newborn"),
        ],
        ignore_index=True,
    )


def test_default_fit_forecasts_every_series_and_a_single_value_by_itself(young_panel):
    model = Forecaster(horizon=HORIZON, **TINY).fit(young_panel)
    forecast = model.predict()
    assert sorted(forecast["unique_id"].unique()) == sorted(
        young_panel["unique_id"].unique()
    )
    assert np.isfinite(forecast["yhat"]).all()
    assert model.masked_  # "young" is shorter than lookback + horizon
    assert list(model.fallbacks_) == ["newborn"]  # "young" is padded, not replaced
    reason = model.fallbacks_["newborn"]
    assert f"{NEWBORN} observed value(s)" in reason and "naive" in reason
    assert forecast.attrs["fallbacks"] == model.fallbacks_
    assert any("'newborn'" in line for line in model.data_report_.lines())
    newborn = young_panel.loc[young_panel["unique_id"] == "newborn", "y"].to_numpy()
    got = forecast.loc[forecast["unique_id"] == "newborn", "yhat"].to_numpy()
    np.testing.assert_allclose(got, newborn[-1], rtol=1e-12)


def test_the_network_trains_without_the_fallback_series(young_panel):
    """The newborn series adds no training window: the network is the same."""
    with_newborn = Forecaster(horizon=HORIZON, **TINY).fit(young_panel)
    without = young_panel[young_panel["unique_id"] != "newborn"]
    alone = Forecaster(horizon=HORIZON, **TINY).fit(without)
    a, b = with_newborn.predict(), alone.predict()
    shared = a[a["unique_id"] != "newborn"].reset_index(drop=True)
    pd.testing.assert_frame_equal(shared, b, check_exact=True)


def test_a_default_fit_on_long_series_is_the_unmasked_model(air_panel):
    """missing="auto" changes nothing where every series is long enough."""
    auto = Forecaster(horizon=HORIZON, **TINY).fit(air_panel)
    strict = Forecaster(horizon=HORIZON, missing="error", **TINY).fit(air_panel)
    assert not auto.masked_ and auto.fallbacks_ == {}
    pd.testing.assert_frame_equal(auto.predict(), strict.predict(), check_exact=True)


def test_auto_equals_mask_where_a_series_is_shorter_than_a_window(young_panel):
    auto = Forecaster(horizon=HORIZON, **TINY).fit(young_panel)
    mask = Forecaster(horizon=HORIZON, missing="mask", **TINY).fit(young_panel)
    pd.testing.assert_frame_equal(auto.predict(), mask.predict(), check_exact=True)


def test_auto_keeps_gaps_as_masked_gaps(gappy_panel):
    model = Forecaster(horizon=HORIZON, **TINY).fit(gappy_panel)
    assert model.masked_ and model.data_report_.masked == 3
    assert np.isfinite(model.predict()["yhat"]).all()


def test_missing_error_names_every_short_series(young_panel):
    named = rf"2 series .*'newborn \({NEWBORN}\)', 'young \(20\)'"
    with pytest.raises(DataError, match=named):
        Forecaster(horizon=HORIZON, missing="error", **TINY).fit(young_panel)


def test_all_series_too_short_is_an_error(air):
    with pytest.raises(DataError, match="every series has fewer than 2 observed"):
        Forecaster(horizon=HORIZON, freq="MS", **TINY).fit(air.tail(NEWBORN))


def test_series_without_a_finite_value_are_all_named(air_panel):
    recent = air_panel[air_panel["unique_id"] == "recent"]
    parts = [recent.assign(unique_id=name, y=np.nan) for name in ("void", "null")]
    data = pd.concat([air_panel, *parts])
    with pytest.raises(
        DataError, match="2 series have no finite value: 'null', 'void'"
    ):
        Forecaster(horizon=HORIZON, **TINY).fit(data)


def test_predict_on_new_history_falls_back_per_series(young_panel, air_panel):
    recent = air_panel[air_panel["unique_id"] == "recent"]
    history = pd.concat([air_panel, recent.tail(1).assign(unique_id="new")])
    model = Forecaster(horizon=HORIZON, **TINY).fit(young_panel)
    forecast = model.predict(history)
    assert set(forecast.attrs["fallbacks"]) == {"new"}
    assert forecast.groupby("unique_id").size().eq(HORIZON).all()


def test_a_single_value_gets_no_interval_the_others_do(young_panel):
    model = Forecaster(horizon=HORIZON, **TINY).fit(young_panel)
    forecast = model.predict(level=[80, 95])
    bounds = ["yhat-lo-95", "yhat-lo-80", "yhat-hi-80", "yhat-hi-95"]
    newborn = forecast["unique_id"] == "newborn"
    assert forecast.loc[newborn, bounds].isna().all().all()
    others = forecast.loc[~newborn]
    assert np.isfinite(others[bounds]).all().all()
    assert (others["yhat-lo-95"] <= others["yhat-lo-80"]).all()
    assert (others["yhat-hi-80"] <= others["yhat-hi-95"]).all()


@pytest.mark.parametrize(
    "settings",
    [
        {"intervals": "quantile"},
        {"intervals": "conformal", "conformal_per_series": True},
    ],
    ids=["quantile-heads", "per-series"],
)
def test_fallbacks_with_other_interval_methods(young_panel, settings):
    model = Forecaster(horizon=HORIZON, **settings, **TINY).fit(young_panel)
    forecast = model.predict(level=[80])
    newborn = forecast["unique_id"] == "newborn"
    expected = young_panel.loc[young_panel["unique_id"] == "newborn", "y"].iloc[-1]
    assert (forecast.loc[newborn, "yhat"] == expected).all()
    assert forecast.loc[newborn, ["yhat-lo-80", "yhat-hi-80"]].isna().all().all()
    assert (
        np.isfinite(forecast.loc[~newborn].drop(columns=["unique_id", "ds"]))
        .all()
        .all()
    )


def test_a_saved_model_keeps_its_fallbacks(young_panel, tmp_path):
    model = Forecaster(horizon=HORIZON, **TINY).fit(young_panel)
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    assert loaded.fallbacks_ == model.fallbacks_ and loaded.masked_
    pd.testing.assert_frame_equal(
        loaded.predict(level=[80]), model.predict(level=[80]), check_exact=True
    )
