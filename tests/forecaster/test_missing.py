"""Gaps kept as gaps (missing="mask") and irregular timestamps (resample=)."""

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TINY
from rnncast import ConfigError, DataError, Forecaster
from rnncast.training import loss_function, observed_loss


@pytest.fixture
def gappy_air(air):
    """The airline series with 10 % of its values missing, at random and in a burst."""
    rng = np.random.default_rng(0)
    damaged = air.copy()
    damaged.loc[rng.choice(np.arange(1, 132), 10, replace=False), "y"] = np.nan
    damaged.loc[60:63, "y"] = np.nan
    return damaged


def test_observed_loss_is_the_loss_over_observed_targets_only():
    forecasts = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    targets = torch.tensor([[1.5, float("nan"), 2.0], [float("nan"), 7.0, 6.0]])
    loss, n = observed_loss(loss_function("mse"), forecasts, targets, masked=True)
    assert n == 4
    assert loss.item() == pytest.approx((0.25 + 1.0 + 4.0 + 0.0) / 4)


def test_masked_fit_trains_and_forecasts_through_gaps(gappy_air):
    """A masked model differs from one trained on interpolated values."""
    model = Forecaster(horizon=12, missing="mask", **TINY).fit(gappy_air)
    assert model.network_.config.input_size == 3  # y, observed, seasonal flag
    assert model.data_report_.masked == int(gappy_air["y"].isna().sum())
    assert np.isfinite([r.train_loss for r in model.history_]).all()
    forecast = model.predict()
    assert np.isfinite(forecast["yhat"]).all()
    filled = gappy_air.assign(y=gappy_air["y"].interpolate())
    other = Forecaster(horizon=12, **TINY).fit(filled)
    assert not np.allclose(forecast["yhat"], other.predict()["yhat"])


def test_masked_model_saves_and_loads_exactly(gappy_air, tmp_path):
    model = Forecaster(horizon=6, missing="mask", **TINY).fit(gappy_air)
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    recent = gappy_air.tail(40)
    pd.testing.assert_frame_equal(loaded.predict(recent), model.predict(recent))


def test_masked_predict_refuses_a_window_without_observations(gappy_air):
    model = Forecaster(horizon=6, lookback=12, missing="mask", **TINY).fit(gappy_air)
    blind = gappy_air.copy()
    blind.loc[len(blind) - 12 :, "y"] = np.nan
    with pytest.raises(DataError, match="no observed value in their last lookback=12"):
        model.predict(blind)


def test_mask_and_fill_together_are_refused(air):
    with pytest.raises(ConfigError, match="cannot be combined"):
        Forecaster(horizon=6, missing="mask", fill="ffill").fit(air)
    with pytest.raises(ConfigError, match="unknown missing mode"):
        Forecaster(horizon=6, missing="drop").fit(air)


def test_masked_explain_runs_on_the_two_channels(gappy_air):
    from rnncast.explain import gate_activations, gradient_decay

    model = Forecaster(horizon=6, missing="mask", combine="none", **TINY)
    trace = gate_activations(model.fit(gappy_air))
    np.testing.assert_allclose(
        trace.forecast["yhat"], model.predict()["yhat"], rtol=1e-5
    )
    assert np.isfinite(gradient_decay(model)["hidden"]).all()


def test_resample_in_fit_reports_what_changed(air):
    jittered = air.copy()
    jittered["ds"] = jittered["ds"] + pd.to_timedelta(np.arange(144) % 5, unit="D")
    jittered = jittered.drop(index=[30, 31, 90])
    model = Forecaster(horizon=6, resample="MS", max_gap=1, missing="mask", **TINY).fit(
        jittered
    )
    report = model.data_report_.resample
    assert report.totals()["bins"] == 144
    assert report.totals()["filled"] == 1  # month 90, a one-step gap
    assert report.totals()["unfilled"] == 2  # months 30 and 31
    assert model.data_report_.masked == 2
    assert model.predict()["ds"].iloc[0] == pd.Timestamp("1961-01-01")


def test_masked_model_pads_series_shorter_than_a_window(air):
    short = air.tail(20).assign(unique_id="short")  # lookback 24 + horizon 6 > 20
    data = pd.concat([air, short])
    with pytest.raises(DataError, match="'short \\(20\\)'"):
        Forecaster(horizon=6, missing="error", **TINY).fit(data)
    model = Forecaster(horizon=6, missing="mask", **TINY).fit(data)
    auto = Forecaster(horizon=6, **TINY).fit(data)  # missing="auto" pads it too
    pd.testing.assert_frame_equal(auto.predict(), model.predict(), check_exact=True)
    assert model.data_report_.masked == 0  # padding is not a gap of the data
    forecast = model.predict()
    assert np.isfinite(forecast["yhat"]).all()
    assert forecast.groupby("unique_id").size().to_dict() == {
        "AirPassengers": 6,
        "short": 6,
    }
    assert np.isfinite(model.predict(short.tail(10))["yhat"]).all()
