"""Classical forecasts (Theta, damped trend) and ``Forecaster(combine=...)``."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import seasonal_decompose

from conftest import TINY, as_version_1, rewrite_model, with_state, with_weight
from rnncast import ConfigError, Forecaster
from rnncast.classical import (
    classical_forecasts,
    damped_forecast,
    damped_trend,
    seasonal_indices,
    smoothing_weight,
    theta_forecast,
)
from rnncast.combine import FittedMix, best_weight, combination_weight
from rnncast.exceptions import ModelFileError
from rnncast.intervals.methods import ConformalizedQuantiles

PATTERN = np.array([0.8, 1.1, 1.3, 0.8])  # a quarterly pattern of mean 1


def test_seasonal_indices_equal_statsmodels_classical_decomposition(air):
    y = air["y"].to_numpy()
    for model, multiplicative in [("multiplicative", True), ("additive", False)]:
        expected = seasonal_decompose(y, model=model, period=12).seasonal[:12]
        np.testing.assert_allclose(
            seasonal_indices(y, 12, multiplicative), expected, rtol=1e-12
        )


def test_seasonal_indices_recover_an_exact_pattern():
    level = np.repeat(50.0, 24)
    np.testing.assert_allclose(
        seasonal_indices(level * np.tile(PATTERN, 6), 4, True), PATTERN
    )
    # a centred moving average leaves a straight line as it is
    line = 10.0 + 0.5 * np.arange(24)
    additive = PATTERN - 1.0
    np.testing.assert_allclose(
        seasonal_indices(line + np.tile(additive, 6), 4, False), additive, atol=1e-12
    )


def test_smoothing_weight_by_hand():
    # x = 1, 2, 3: errors 1 and 2 - alpha; the squared sum 1 + (2 - alpha)^2 falls
    # all the way to alpha = 1, whose last level is the last value
    assert smoothing_weight(np.array([1.0, 2.0, 3.0])) == (1.0, 3.0)


def test_smoothing_weight_is_the_grid_minimum_of_a_plain_loop(air):
    y = air["y"].to_numpy()
    x = y / np.tile(seasonal_indices(y, 12, True), 12)  # seasonally adjusted

    def squared_errors(alpha):
        level, total = x[0], 0.0
        for value in x[1:]:
            total += (value - level) ** 2
            level += alpha * (value - level)
        return total, level

    grid = [k / 100 for k in range(1, 101)]
    best = min(grid, key=lambda a: squared_errors(a)[0])
    alpha, level = smoothing_weight(x)
    assert alpha == pytest.approx(best)
    assert level == pytest.approx(squared_errors(best)[1])
    assert 0.01 < alpha < 1.0  # an inner minimum, not an end of the grid


def test_theta_forecast_of_a_line_is_half_its_drift():
    # alpha = 1 (level = last value), slope b: y_n + b / 2 * (k - 1 + 1)
    y = 3.0 + 2.0 * np.arange(10)
    np.testing.assert_allclose(theta_forecast(y, 4, 1), y[-1] + 1.0 * np.arange(1, 5))


def test_theta_forecast_continues_the_seasonal_pattern_in_phase():
    y = 100.0 * np.tile(PATTERN, 5)[1:]  # 19 values, starting at the 2nd quarter
    forecast = theta_forecast(y, 6, 4)
    np.testing.assert_allclose(forecast, 100.0 * np.tile(PATTERN, 2)[:6])  # 20, 21..
    # a value that is not positive: additive indices, the same forecast
    shifted = y - y.min()
    np.testing.assert_allclose(
        theta_forecast(shifted, 6, 4), forecast - y.min(), atol=1e-9
    )


def test_theta_forecast_of_tiny_series():
    assert np.isnan(theta_forecast(np.array([]), 3, 4)).all()
    np.testing.assert_array_equal(theta_forecast(np.array([7.0]), 2, 4), [7.0, 7.0])
    np.testing.assert_array_equal(theta_forecast(np.full(9, 2.0), 2, 4), [2.0, 2.0])


def test_theta_forecasts_from_cut_offs_skip_padding_and_fill_gaps():
    a = 100.0 * np.tile(PATTERN, 5)
    b = 5.0 + np.arange(12.0)
    values = np.concatenate([[np.nan, np.nan], a, b])
    gappy = b.copy()
    gappy[4] = np.nan
    values_gappy = np.concatenate([values, gappy])
    starts = np.array([0, 22, 22, 34])
    lengths = np.array([22, 12, 8, 12])
    forecasts = classical_forecasts(values_gappy, starts, lengths, 3, 4)
    np.testing.assert_allclose(forecasts[0], theta_forecast(a, 3, 4))
    np.testing.assert_allclose(forecasts[1], theta_forecast(b, 3, 4))
    np.testing.assert_allclose(forecasts[2], theta_forecast(b[:8], 3, 4))
    np.testing.assert_allclose(forecasts[3], forecasts[1])  # linear fill of the line


def test_damped_trend_is_the_grid_minimum_of_a_plain_loop(air):
    y = air["y"].to_numpy()
    x = y / np.tile(seasonal_indices(y, 12, True), 12)  # seasonally adjusted

    def squared_errors(alpha, beta, phi):
        level, trend, total = x[0], x[1] - x[0], 0.0
        for value in x[1:]:
            forecast = level + phi * trend
            total += (value - forecast) ** 2
            level = forecast + alpha * (value - forecast)
            trend = phi * trend + alpha * beta * (value - forecast)
        return total, level, trend

    grid = [
        (a / 20, b, p)
        for a in range(1, 21)
        for b in (0.01, 0.05, 0.1, 0.2, 0.3)
        for p in (0.8, 0.85, 0.9, 0.95, 0.98)
        if b <= a / 20
    ]
    best = min(grid, key=lambda g: squared_errors(*g)[0])
    params, level, trend = damped_trend(x)
    np.testing.assert_allclose(params, best)
    np.testing.assert_allclose([level, trend], squared_errors(*best)[1:])


def test_damped_forecast_steps_shrink_by_phi():
    y = 3.0 + 2.0 * np.arange(20)  # a line: the trend is damped, not dropped
    (_, _, phi), level, trend = damped_trend(y)
    forecast = damped_forecast(y, 6, 1)
    steps = np.diff(np.concatenate([[level], forecast]))
    np.testing.assert_allclose(steps, trend * phi ** np.arange(1, 7))
    assert trend > 0 and (forecast < y[-1] + 2.0 * np.arange(1, 7) + 1e-9).all()


def test_theta_plus_damped_is_the_mean_of_both():
    y = 100.0 * np.tile(PATTERN, 5) + np.arange(20.0)
    values, starts, lengths = y, np.array([0, 0]), np.array([20, 14])
    mixed = classical_forecasts(values, starts, lengths, 3, 4, "theta+damped")
    for row, n in zip(mixed, lengths, strict=True):
        expected = (theta_forecast(y[:n], 3, 4) + damped_forecast(y[:n], 3, 4)) / 2
        np.testing.assert_allclose(row, expected)


def test_combination_weight_by_hand():
    targets = np.zeros((2, 3))
    network, theta = targets + 1.0, targets - 1.0  # errors cancel at w = 0.5
    weight, errors = combination_weight(network, theta, targets)
    assert weight == 0.5 and errors[0.5] == 0.0
    assert errors[1.0] == errors[0.0] == 1.0
    assert errors[0.8] == pytest.approx(0.6)  # |0.8 - 0.2|
    # equal errors: the largest weight, the network alone
    assert combination_weight(network, network, targets)[0] == 1.0
    # gaps in the targets are left out; a Theta forecast that is not finite
    # counts as the network's
    targets[0, 0], theta[1, 1] = np.nan, np.inf
    weight, errors = combination_weight(network, theta, targets)
    assert errors[0.0] == pytest.approx((4 * 1.0 + 1.0) / 5)


def test_validation_targets_that_are_all_gaps_give_equal_weights():
    targets = np.full((2, 3), np.nan)
    weight, errors = combination_weight(targets + 1.0, targets - 1.0, targets)
    assert weight == 0.5 and errors is None


def test_few_validation_windows_pull_the_weight_towards_equal():
    targets = np.zeros((1, 3))
    network = targets.copy()  # the network alone is best: w-hat = 1
    theta = targets - 1.0
    assert combination_weight(network, theta, targets)[0] == 1.0
    # n independent windows: 0.5 + (1 - 0.5) * n / (n + 3)
    assert combination_weight(network, theta, targets, independent=1)[0] == 0.625
    assert combination_weight(network, theta, targets, independent=3)[0] == 0.75
    # many series keep the validated weight
    assert combination_weight(network, theta, targets, independent=1e9)[0] == 1.0


@pytest.fixture(scope="module")
def quarterly() -> pd.DataFrame:
    """Three real quarterly series: the airline data summed to quarters."""
    from rnncast.datasets import load_air_passengers

    air = load_air_passengers()
    air["ds"] = air["ds"].dt.to_period("Q").dt.start_time
    summed = air.groupby("ds", as_index=False)["y"].sum()
    return pd.concat(
        [
            summed.assign(unique_id="air"),
            summed.assign(unique_id="sqrt", y=np.sqrt(summed["y"])),
            summed.tail(30).assign(unique_id="recent"),
        ],
        ignore_index=True,
    )[["unique_id", "ds", "y"]]


def _mixed(**kwargs):
    params = {"horizon": 4, "lookback": 8, "seed": 0, "combine": "theta", **TINY}
    return Forecaster(**{**params, "epochs": 10, **kwargs})


def test_combined_forecast_is_the_weighted_mean_of_network_and_theta(quarterly):
    model = _mixed().fit(quarterly)
    weight = model.combine_weight_
    # three series, one validation window each: 3 independent windows
    pulled = 0.5 + (best_weight(model.combine_scores_) - 0.5) * 3 / 6
    assert weight == round(pulled, 3)
    assert sorted(model.combine_scores_) == [w / 10 for w in range(11)]
    mixed = model.predict()
    network = with_weight(model, 1.0).predict()["yhat"].to_numpy()  # network alone
    theta = np.concatenate(
        [
            theta_forecast(
                quarterly.loc[quarterly.unique_id == i, "y"].to_numpy(), 4, 4
            )
            for i in model.ids_
        ]
    )
    np.testing.assert_allclose(model.classical_.ravel(), theta)
    np.testing.assert_allclose(
        mixed["yhat"], weight * network + (1 - weight) * theta, rtol=1e-12
    )


def test_combination_of_new_history_uses_its_theta(quarterly):
    model = _mixed().fit(quarterly)
    cut = quarterly.groupby("unique_id").head(-4)
    from_cut = model.predict(cut)["yhat"].to_numpy()
    # the same forecast as a model that had held the cut's context and Theta
    series = dataclasses.replace(
        model.fitted_.series,
        classical=classical_forecasts(*_flat(cut, model.ids_), 4, 4),
        context=np.stack(
            [cut.loc[cut.unique_id == i, "y"].to_numpy()[-8:] for i in model.ids_]
        ),
    )
    with_state(model, series=series)
    np.testing.assert_allclose(from_cut, model.predict()["yhat"], rtol=1e-12)
    assert not np.allclose(from_cut, _mixed().fit(quarterly).predict()["yhat"])


def _flat(frame, ids):
    parts = [frame.loc[frame.unique_id == i, "y"].to_numpy() for i in ids]
    lengths = np.array([len(p) for p in parts])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.concatenate(parts), starts, lengths


def test_conformal_scores_are_the_mixed_forecasts_errors(quarterly):
    one = quarterly[quarterly.unique_id == "air"]
    model = _mixed(intervals="conformal", refit_full=False).fit(one)
    assert model.combine_weight_ < 1.0  # else this would test the network alone
    # the validation window is the last horizon: the same forecast from the cut
    validation = model.predict(one.head(-4))["yhat"].to_numpy()
    errors = one["y"].to_numpy()[-4:] - validation
    unit = model.interval_scale_[0] * model.scaler_.scale[0]
    # float32 network: validation inputs gathered from float32 values, not cast
    np.testing.assert_allclose(model.conformal_scores_[0], errors / unit, rtol=1e-5)


def test_combine_theta_plus_damped_mixes_their_mean(quarterly):
    model = _mixed(combine="theta+damped").fit(quarterly)
    parts = [
        quarterly.loc[quarterly.unique_id == i, "y"].to_numpy() for i in model.ids_
    ]
    expected = [(theta_forecast(y, 4, 4) + damped_forecast(y, 4, 4)) / 2 for y in parts]
    np.testing.assert_allclose(model.classical_, expected)
    mixed, weight = model.predict()["yhat"], model.combine_weight_
    network = with_weight(model, 1.0).predict()["yhat"]
    np.testing.assert_allclose(
        mixed, weight * network + (1 - weight) * np.ravel(expected), rtol=1e-12
    )


def test_without_validation_the_weights_are_equal(quarterly):
    model = _mixed(validation=False).fit(quarterly)
    assert model.combine_weight_ == 0.5 and model.combine_scores_ is None


def test_save_load_keeps_the_combination(quarterly, tmp_path):
    model = _mixed(intervals="conformal").fit(quarterly)
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    assert loaded.combine_weight_ == model.combine_weight_
    assert loaded.combine_scores_ == model.combine_scores_
    pd.testing.assert_frame_equal(loaded.predict(level=[80]), model.predict(level=[80]))
    rewrite_model(
        tmp_path / "m",
        lambda config, tensors: tensors.pop("combine.classical"),
        tmp_path / "broken",
    )
    with pytest.raises(ModelFileError, match="combination"):
        Forecaster.load(tmp_path / "broken")


def test_theta_is_the_default_mix():
    assert Forecaster(horizon=4).combine == "theta"


@pytest.mark.parametrize("none", ["none", None])
def test_a_model_without_combine_saves_no_theta(quarterly, tmp_path, none):
    model = Forecaster(horizon=4, lookback=8, combine=none, **TINY).fit(quarterly)
    assert model.classical_ is None and model.combine_weight_ is None
    model.save(tmp_path / "m")
    saved = []
    rewrite_model(tmp_path / "m", lambda config, tensors: saved.extend(tensors))
    assert "combine.classical" not in saved
    assert Forecaster.load(tmp_path / "m").classical_ is None


def test_a_model_saved_before_combine_existed_loads_as_the_network_alone(
    quarterly, tmp_path
):
    model = Forecaster(horizon=4, lookback=8, combine="none", **TINY).fit(quarterly)
    model.save(tmp_path / "m")

    def before_combine(config, tensors):
        as_version_1(config, tensors)
        for key in ("combine_weight", "combine_scores"):
            del config["fitted"][key]
        del config["params"]["combine"]  # files from before it had no such parameter

    rewrite_model(tmp_path / "m", before_combine, tmp_path / "old")
    loaded = Forecaster.load(tmp_path / "old")
    assert loaded.combine is None and loaded.classical_ is None
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"combine": "ets"}, "unknown combine 'ets'"),
        ({"combine": "damped"}, "unknown combine 'damped'"),
    ],
)
def test_bad_combinations_are_reported(quarterly, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Forecaster(horizon=4, **TINY, **kwargs).fit(quarterly)


@pytest.mark.parametrize("intervals", ["quantile", "cqr"])
def test_quantile_heads_move_with_the_mixed_median(quarterly, intervals):
    model = _mixed(intervals=intervals, levels=(80,)).fit(quarterly)
    assert model.combine_weight_ < 1.0  # else the mix would change nothing
    mixed = model.predict(level=[80])
    weight = model.combine_weight_
    network = with_weight(model, 1.0).predict(level=[80])
    theta = model.classical_.ravel()
    expected = weight * network["yhat"] + (1 - weight) * theta
    np.testing.assert_allclose(mixed["yhat"], expected, rtol=1e-12)
    # no transform, scaler="mase": the bounds move by the median's change
    shift = (mixed["yhat"] - network["yhat"]).to_numpy()
    for bound in ("yhat-lo-80", "yhat-hi-80"):
        np.testing.assert_allclose(mixed[bound], network[bound] + shift, rtol=1e-9)


def test_cqr_scores_are_those_of_the_mixed_quantiles():
    quantiles = (0.1, 0.5, 0.9)
    z = np.array([[[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]])  # quantiles 0.1, 0.5, 0.9
    theta, y = np.array([[3.0, 2.0]]), np.array([[4.0, 2.5]])
    # mixed medians 2.0 and 2.0: 80 % intervals [1, 3] and [1, 3]
    mixed = FittedMix("theta", 0.5).apply(z, theta, median=1)
    scores = ConformalizedQuantiles(levels=(80,)).scores(mixed, y, quantiles)
    np.testing.assert_allclose(scores[..., 0], [[1.0, -0.5]])


def test_theta_without_a_scaled_value_leaves_the_network_alone():
    # e.g. a Theta forecast below zero under transform="log" scales to NaN
    z, theta = np.array([[1.0, 2.0]]), np.array([[3.0, np.nan]])
    np.testing.assert_allclose(FittedMix("theta", 0.6).apply(z, theta), [[1.8, 2.0]])
