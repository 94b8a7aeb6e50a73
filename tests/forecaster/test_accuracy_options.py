"""Per-window levels, power transforms, ensembles and tuning: the accuracy options."""

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TINY
from rnncast import Forecaster
from rnncast.evaluation.tune import candidate_grid, tune
from rnncast.exceptions import ConfigError, DataError
from rnncast.explain import gate_activations
from rnncast.models.networks import EnsembleNetwork


def test_ensemble_forecast_is_the_median_of_its_members(air_panel):
    model = Forecaster(
        horizon=4, ensemble=3, lookback=[12, 18, 24], combine="none", **TINY
    )
    model.fit(air_panel)
    network = model.network_
    assert isinstance(network, EnsembleNetwork)
    assert network.lookbacks == (12, 18, 24) and model.lookback_ == 24
    x = model.network_inputs(model.context_, model.scaler_)
    with torch.no_grad():
        members = torch.stack(
            [
                m(x[:, -n:])
                for m, n in zip(network.members, network.lookbacks, strict=True)
            ]
        )
    z = members.median(dim=0).values.double().numpy()  # odd count: the middle one
    expected = z * model.scaler_.scale[:, None] + model.scaler_.loc[:, None]
    got = model.predict()["yhat"].to_numpy().reshape(3, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # members differ (seeds and lookbacks), so the median is not one member copied
    assert not torch.allclose(members[0], members[1])
    assert {r.member for r in model.history_} == {0, 1, 2}


def test_default_ensemble_lookbacks_grow_from_the_base(air):
    model = Forecaster(horizon=6, ensemble=4, **TINY).fit(air)
    assert model.network_.lookbacks == (24, 36, 48, 24)  # base max(2h, 2 * 12)


def test_ensemble_with_transform_round_trips_through_save_and_load(air_panel, tmp_path):
    model = Forecaster(
        horizon=4, ensemble=2, transform="boxcox", window_level="season", **TINY
    ).fit(air_panel)
    assert model.transform_ == "boxcox"
    assert model.scaler_.power is not None and (model.scaler_.power <= 1).all()
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)
    recent = air_panel.groupby("unique_id").tail(40)
    pd.testing.assert_frame_equal(loaded.predict(recent), model.predict(recent))


def test_seasonal_level_averages_the_last_season(air):
    model = Forecaster(horizon=3, window_level="season", **TINY).fit(air)
    assert model.network_.config.season_length == 12
    x = torch.arange(24.0).reshape(1, 24, 1)
    assert model.network_.window_level(x).item() == pytest.approx(
        np.mean(range(12, 24))
    )


def test_adaptive_level_adds_the_seasonal_naive_only_to_seasonal_windows(air):
    # A strongly seasonal window and a trending, non-seasonal one: the first
    # forecasts corrections to its seasonal naive, the second to its last season's
    # mean, so with a network that outputs 0 the forecasts are exactly those.
    model = Forecaster(horizon=6, window_level="adaptive", **TINY).fit(air)
    network = model.network_
    torch.nn.init.zeros_(network.head.weight)
    torch.nn.init.zeros_(network.head.bias)
    t = torch.arange(36.0)
    seasonal = 10 * torch.sin(2 * torch.pi * t / 12)
    trend = 0.5 * t + torch.tensor([0.0, 0.3] * 18)
    x = torch.stack([seasonal, trend])[:, :, None]
    out = network(x).detach()
    torch.testing.assert_close(out[0], seasonal[-12:-6])
    torch.testing.assert_close(out[1], trend[-12:].mean().expand(6))


def test_log_forecasts_stay_positive_and_follow_the_level(air):
    scaled_up = air.assign(y=air["y"] * 1000.0)
    a = Forecaster(horizon=6, transform="log", **TINY).fit(air).predict()
    b = Forecaster(horizon=6, transform="log", **TINY).fit(scaled_up).predict()
    assert (a["yhat"] > 0).all()
    # the log makes a constant factor an additive shift that standardising removes
    np.testing.assert_allclose(b["yhat"], 1000.0 * a["yhat"], rtol=1e-4)


def test_log_of_non_positive_values_names_the_series(air):
    bad = air.assign(y=air["y"] - 200.0)
    with pytest.raises(
        DataError,
        match="transform='log' needs positive values, but "
        "series 'AirPassengers' has -96",
    ):
        Forecaster(horizon=3, transform="log", **TINY).fit(bad)
    model = Forecaster(horizon=3, transform="auto", **TINY).fit(bad)
    assert model.transform_ == "none"
    counts = air.assign(y=air["y"] - air["y"].min())
    assert (
        Forecaster(horizon=3, transform="auto", **TINY).fit(counts).transform_
        == "log1p"
    )


def test_predict_refuses_new_history_outside_the_fitted_transform(air):
    model = Forecaster(horizon=3, transform="log", **TINY).fit(air)
    with pytest.raises(DataError, match="needs positive values"):
        model.predict(air.assign(y=air["y"] - 500.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ensemble": 0}, "ensemble must be a positive integer"),
        ({"transform": "sqrt"}, "unknown transform 'sqrt'"),
        ({"window_level": "median"}, "unknown window_level 'median'"),
        ({"lookback": []}, "lookback must be an integer or a non-empty list"),
        ({"lookback": [12, 0]}, "lookback must be a positive integer, got 0"),
        (
            {"window_level": "snaive", "lookback": 6},
            "level='snaive' repeats the last season .* lookback=6 is shorter than "
            "season_length=12",
        ),
        (
            {"window_level": "adaptive", "lookback": 6},
            "level='adaptive' repeats the last season .* lookback=6",
        ),
        (
            {"window_level": "adaptive", "output": "recursive"},
            "level='adaptive' forecasts corrections .* use output='direct'",
        ),
        (
            {"window_level": "snaive", "output": "recursive"},
            "level='snaive' forecasts corrections .* use output='direct'",
        ),
        (
            {"window_level": "detect", "lookback": 6},
            "level='detect' repeats the last season .* lookback=6 is shorter than "
            "season_length=12",
        ),
        (
            {"window_level": "detect", "output": "recursive"},
            "level='detect' forecasts corrections .* use output='direct'",
        ),
    ],
)
def test_bad_accuracy_options_are_reported_before_training(air, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Forecaster(horizon=3, **{**TINY, **kwargs}).fit(air)


def test_explain_refuses_an_ensemble_with_the_way_out(air):
    model = Forecaster(horizon=3, ensemble=2, **TINY).fit(air)
    with pytest.raises(ConfigError, match="fit with ensemble=1"):
        gate_activations(model)


def test_tune_scores_every_candidate_and_refits_the_best(air_panel):
    candidates = candidate_grid(cells=("lstm", "gru"), lookbacks=(12, 24))
    result = tune(air_panel, horizon=6, candidates=candidates, **TINY)
    scores = result.scores
    assert len(scores) == 4 and scores["chosen"].sum() == 1
    assert scores["mase"].is_monotonic_increasing  # best first
    best = scores.iloc[0]
    assert best["chosen"] and best["mase"] == scores["mase"].min()
    assert result.best_params["cell"] in ("lstm", "gru")
    assert result.forecaster.cell == result.best_params["cell"]
    assert result.forecaster.lookback == result.best_params["lookback"]
    assert len(result.forecaster.predict()) == 3 * 6
    again = tune(air_panel, horizon=6, candidates=candidates, **TINY)
    pd.testing.assert_frame_equal(
        again.scores.drop(columns="seconds"), scores.drop(columns="seconds")
    )
    assert "chosen" in result.summary()


def test_tune_validates_inside_the_data_only(air):
    """Changing values after the validation windows' end cannot change the scores."""
    head = air.iloc[:-6]
    a = tune(head, horizon=6, candidates=[{"cell": "gru"}], refit=False, **TINY)
    assert a.forecaster is None
    changed = pd.concat([head, air.iloc[-6:].assign(y=1e6)])
    b = tune(
        changed, horizon=6, candidates=[{"cell": "gru"}], windows=2, refit=False, **TINY
    )
    c = tune(
        head, horizon=6, candidates=[{"cell": "gru"}], windows=1, refit=False, **TINY
    )
    assert a.scores["mase"].iloc[0] == c.scores["mase"].iloc[0]
    assert np.isfinite(b.scores["mase"].iloc[0])


def test_tune_scores_leave_out_a_constant_history(air_panel):
    flat = air_panel[air_panel["unique_id"] == air_panel["unique_id"].iloc[0]]
    flat = flat.assign(unique_id="flat", y=100.0)
    flat.loc[flat.index[-3:], "y"] = 120.0  # the validation window moves
    with_flat = pd.concat([air_panel, flat], ignore_index=True)
    kept = tune(air_panel, horizon=6, candidates=[{"cell": "gru"}], refit=False, **TINY)
    both = tune(with_flat, horizon=6, candidates=[{"cell": "gru"}], refit=False, **TINY)
    assert np.isfinite(both.scores["mase"].iloc[0])
    assert both.scores["smape"].iloc[0] != kept.scores["smape"].iloc[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"candidates": []}, "tune needs at least one candidate"),
        ({"candidates": [{"celll": "gru"}]}, "unknown Forecaster parameter 'celll'"),
        ({"epoch": 3}, "unknown Forecaster parameter 'epoch'"),
        ({"windows": 0}, "windows must be a positive integer"),
    ],
)
def test_tune_refuses_bad_settings_before_fitting(air, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        tune(air, horizon=6, **kwargs)


def test_season_inputs_are_the_phase_of_every_input_value(air_panel, tmp_path):
    model = Forecaster(horizon=4, lookback=24, season_inputs=True, **TINY)
    model.fit(air_panel)
    assert model.network_.config.input_size == 4  # y, sin, cos, seasonal flag
    phases = model.season_phases(model.last_ds_)
    x = model.network_inputs(model.context_, model.scaler_, phases=phases)
    months = pd.DatetimeIndex(model.last_ds_).month.to_numpy()  # all end in a month
    assert x.shape == (3, 24, 5)  # + the scaled zero before the flag (not read)
    # the last input is the last month of each series: angle 2 pi (month - 1) / 12
    angle = torch.atan2(x[:, -1, 1], x[:, -1, 2]).double().numpy() % (2 * np.pi)
    np.testing.assert_allclose(angle, 2 * np.pi * (months - 1) / 12, atol=1e-6)
    # a year earlier, the same phase
    torch.testing.assert_close(x[:, -13, 1:3], x[:, -1, 1:3])
    # the phases follow the calendar, not the series: "recent" starts 44 months
    # after the others yet ends in the same month, with the same channels
    torch.testing.assert_close(x[0, :, 1:3], x[1, :, 1:3])
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)
    recent = air_panel.groupby("unique_id").head(100)  # ends 44 months earlier
    assert np.isfinite(model.predict(recent)["yhat"]).all()


def test_season_inputs_hold_the_phase_of_every_kept_season():
    # two weeks of hourly data with a daily and a weekly pattern: the day and
    # the week are kept, and each has its sine and cosine channel
    hours = pd.date_range("2024-01-01", periods=24 * 7 * 6, freq="h")  # a Monday
    t = np.arange(len(hours))
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) + 8 * (hours.dayofweek >= 5)
    y = y + np.random.default_rng(0).normal(0, 1, len(t))
    data = pd.DataFrame({"unique_id": "s", "ds": hours, "y": y})
    model = Forecaster(horizon=24, season_inputs=True, **TINY).fit(data)
    assert model.seasons_ == (24, 168)
    x = model.network_inputs(
        model.context_, model.scaler_, phases=model.season_phases(model.last_ds_)
    )
    day, week = (
        torch.atan2(x[0, :, k], x[0, :, k + 1]).double().numpy() % (2 * np.pi)
        for k in (1, 3)
    )
    stamps = hours[-model.lookback_ :]
    np.testing.assert_allclose(day, 2 * np.pi * stamps.hour / 24, atol=1e-5)
    in_week = stamps.dayofweek * 24 + stamps.hour  # 1970-01-01 was a Thursday (3)
    np.testing.assert_allclose(
        week, 2 * np.pi * ((in_week - 72) % 168) / 168, atol=1e-5
    )


def test_phase_angles_of_a_non_integer_period_follow_the_step_count():
    from rnncast.data.timeline import step_ordinals
    from rnncast.data.windows import phase_angles

    days = pd.date_range("2020-01-01", periods=3 * 365, freq="D")
    steps = step_ordinals(days[-1:], "D")
    assert steps[0] == (days[-1] - pd.Timestamp("1970-01-01")).days
    angles = phase_angles(steps, np.array([len(days)]), (7, 365.25))
    assert angles.shape == (len(days), 2)
    ordinals = (days - pd.Timestamp("1970-01-01")).days.to_numpy()
    np.testing.assert_allclose(angles[:, 0], 2 * np.pi * (ordinals % 7) / 7)
    np.testing.assert_allclose(
        angles[:, 1], 2 * np.pi * (ordinals % 365.25) / 365.25, atol=1e-12
    )
    # a year apart, the same phase of the year to within a quarter day's turn
    year = np.abs(angles[365:, 1] - angles[:-365, 1])
    assert np.all(
        np.minimum(year, 2 * np.pi - year) < 2 * np.pi * 0.25 / 365.25 + 1e-12
    )


def test_training_windows_carry_the_phases_predict_gives(air):
    # The last training window of a series ends where predict's context ends minus
    # the horizon; its phase channels must be the ones predict computes there.
    from rnncast.data.timeline import season_phases
    from rnncast.data.windows import gather, phase_angles, phase_channels

    lengths = np.array([len(air)])
    last = season_phases([air["ds"].iloc[-1]], "MS", 12)
    angles = torch.as_tensor(phase_angles(last, lengths, (12,)))
    values = torch.as_tensor(air["y"].to_numpy())
    start = torch.tensor([len(air) - 24 - 4])
    inputs, _, _ = gather(values, start, 24, 4, channels=phase_channels(angles))
    model = Forecaster(horizon=4, lookback=24, season_inputs=True, **TINY).fit(air)
    window_end = air["ds"].iloc[-5]  # the last input of that training window
    phases = model.season_phases([window_end])
    expected = model.network_inputs(
        air["y"].to_numpy()[None, -28:-4], model.scaler_, torch.float64, phases=phases
    )
    torch.testing.assert_close(inputs[:, :, 1:], expected[:, :, 1:3])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"season_length": 1}, "season of at least 2"),
        ({"output": "recursive", "window_level": "last"}, "output='direct'"),
    ],
)
def test_season_inputs_refuse_what_they_cannot_do(air, params, match):
    model = Forecaster(horizon=4, lookback=24, season_inputs=True, **TINY, **params)
    with pytest.raises(ConfigError, match=match):
        model.fit(air)


def test_season_inputs_work_with_gaps_explanations_and_conformal_bands(gappy_panel):
    model = Forecaster(
        horizon=4,
        lookback=24,
        season_inputs=True,
        missing="mask",
        intervals="conformal",
        combine="none",  # explain's reference computes the network's forecast
        **TINY,
    ).fit(gappy_panel)
    assert model.network_.config.input_size == 5  # y, observed, sin, cos, flag
    out = model.predict(level=[80])
    assert (out["yhat-lo-80"] <= out["yhat-hi-80"]).all()
    # the NumPy reference of explain reads the same phases as predict
    trace = gate_activations(model, series="sqrt")
    expected = out.loc[out["unique_id"] == "sqrt", "yhat"].to_numpy()
    np.testing.assert_allclose(trace.forecast["yhat"], expected, rtol=1e-4)
