"""Prediction intervals: conformal and quantile networks, baselines, metrics."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TINY, as_version_1, rewrite_model
from rnncast import ConfigError, Forecaster, backtest
from rnncast.baselines import make_baseline
from rnncast.baselines.simple import simple_sigma
from rnncast.data.scaling import recent_change_deviations, seasonal_maes
from rnncast.datasets import load_exchange_rate
from rnncast.evaluation.metrics import coverage, msis, pinball
from rnncast.exceptions import ModelFileError
from rnncast.intervals import (
    check_levels,
    conformal_bounds,
    conformal_offsets,
    conformal_unit,
    conformal_widths,
    conformalized_quantile_bounds,
    independent_windows,
    nested_bounds,
    quantile_scores,
    series_conformal_offsets,
    signed_conformal_offsets,
    step_quantiles,
)
from rnncast.training import pinball_loss

LEVELS = [80, 95]


def _bounds_are_ordered(frame, column="yhat"):
    ordered = [
        frame[f"{column}-lo-95"],
        frame[f"{column}-lo-80"],
        frame[column],
        frame[f"{column}-hi-80"],
        frame[f"{column}-hi-95"],
    ]
    return all((a <= b + 1e-9).all() for a, b in itertools.pairwise(ordered))


def test_check_levels():
    assert check_levels([95, 80.0, 80]) == (80, 95)
    assert check_levels(None) == ()
    for bad in ([0], [100], ["80"], [True]):
        with pytest.raises(ConfigError, match="levels"):
            check_levels(bad)


def test_conformal_widths_per_step_are_the_finite_sample_quantile():
    scores = np.tile(np.arange(1.0, 20.0)[:, None], (1, 3))  # 19 scores a step
    scores[:, 1] *= 2
    widths, method = conformal_widths(scores, (80, 95))
    assert method == "per-step"
    # ceil(20 * 0.8) = 16th and ceil(20 * 0.95) = 19th smallest of 1..19
    np.testing.assert_array_equal(widths, [[16, 19], [32, 38], [16, 19]])


def test_conformal_widths_pool_steps_when_each_has_too_few():
    scores = np.array([[1.0, 2.0], [3.0, 6.0], [2.0, 4.0]] * 4)  # 12 per step
    widths, method = conformal_widths(scores, (95,))
    assert method == "pooled"
    # step 2's errors are twice step 1's: so are the widths
    assert widths[1, 0] == pytest.approx(2 * widths[0, 0])
    with pytest.raises(ConfigError, match="too few calibration errors"):
        conformal_widths(np.ones((2, 1)), (95,))


def test_signed_offsets_take_each_tail_from_its_own_quantile():
    errors = np.tile(np.arange(-10.0, 29.0)[:, None], (1, 2))  # 39 errors a step
    errors[:, 1] *= 2
    lower, upper, method = signed_conformal_offsets(errors, (80, 95))
    assert method == "per-step"
    # upper: the ceil(40 * 0.9) = 36th and ceil(40 * 0.975) = 39th smallest of
    # -10..28 (25, 28); lower: the same ranks from the top, negated (-7, -10).
    # Step 2 is step 1 doubled, so pooling the neighbouring step in units of
    # each step's spread changes nothing (but the rounding of e / s * s)
    np.testing.assert_allclose(upper, [[25, 28], [50, 56]], rtol=1e-12)
    np.testing.assert_allclose(lower, [[-7, -10], [-14, -20]], rtol=1e-12)
    # 40 windows, but step 2 observed in 20 (gaps), too few for 95 % tails per
    # step (39): pooled in units of each step's mean absolute error
    errors = np.tile(np.arange(-10.0, 30.0)[:, None], (1, 2))
    errors[:, 1] *= 2
    errors[20:, 1] = np.nan
    lower, upper, method = signed_conformal_offsets(errors, (95,))
    assert method == "pooled"
    spread = np.nanmean(np.abs(errors), axis=0)
    np.testing.assert_allclose(upper[:, 0] / spread, upper[0, 0] / spread[0])
    np.testing.assert_allclose(lower[:, 0] / spread, lower[0, 0] / spread[0])
    assert lower[0, 0] < 0 < upper[0, 0]
    # 20 windows are too few for 95 % tails whatever the errors
    assert signed_conformal_offsets(errors[:20], (95,)) is None


def test_step_quantiles_pool_the_neighbouring_steps_in_spread_units():
    """A step's quantile: its neighbours' errors over their spread, times its own."""
    rng = np.random.default_rng(3)
    errors = rng.standard_t(3, size=(60, 5)) * np.array([1.0, 2.0, 3.0, 5.0, 8.0])
    errors[:, 2] = 0.0  # a step with only zero errors keeps its own quantile, 0
    spread = np.mean(np.abs(errors), axis=0)
    lower, upper, method = signed_conformal_offsets(errors, (80, 95))
    assert method == "per-step"
    for k in range(5):
        near = [j for j in range(k - 2, k + 3) if 0 <= j < 5 and spread[j] > 0]
        pool = np.sort(np.concatenate([errors[:, j] / spread[j] for j in near]))
        n = len(pool)
        for i, level in enumerate((80, 95)):
            rank = math.ceil((n + 1) * (50 + level / 2) / 100)
            want_hi = 0.0 if k == 2 else pool[rank - 1] * spread[k]
            want_lo = 0.0 if k == 2 else pool[n - rank] * spread[k]
            assert upper[k, i] == pytest.approx(want_hi, rel=1e-12)
            assert lower[k, i] == pytest.approx(want_lo, rel=1e-12)
    # no neighbours: each step's own quantile
    widths, _ = step_quantiles(np.abs(errors), (90,), spread, 0)
    own = [np.sort(np.abs(errors[:, k]))[math.ceil(61 * 0.9) - 1] for k in range(5)]
    np.testing.assert_array_equal(widths[:, 0], own)


def test_too_few_errors_for_signed_tails_give_symmetric_intervals():
    errors = np.array([[1.0, -2.0], [3.0, 5.0], [-2.0, 4.0]] * 5)  # 30 in all
    assert signed_conformal_offsets(errors, (95,)) is None  # 39 needed
    lower, upper, method = conformal_offsets(errors, (95,))
    widths, how = conformal_widths(np.abs(errors), (95,))
    assert method == f"{how}, symmetric"
    np.testing.assert_array_equal(upper, widths)
    np.testing.assert_array_equal(lower, -widths)
    lower, upper, method = conformal_offsets(errors, (80,))  # 9 a step suffice
    assert method == "per-step, signed"


def test_conformal_bounds_keep_a_biased_forecast_inside_its_intervals():
    errors = np.tile(np.arange(1.0, 41.0)[:, None], (1, 2))  # always too low
    forecasts = np.array([[10.0, 10.0]])
    lower, upper, method = conformal_bounds(forecasts, errors, np.array([0.5]), (80,))
    assert method == "per-step, signed"
    # 80 %: upper the ceil(41 * 0.9) = 37th smallest, lower the 37th largest
    # (4), both above the forecast: the lower bound is nested up to it
    np.testing.assert_allclose(upper[0, :, 0], 10 + 0.5 * 37)
    np.testing.assert_allclose(lower[0, :, 0], 10.0)
    lower, upper, method = conformal_bounds(
        forecasts, np.abs(errors), np.array([0.5]), (80,), signed=False
    )
    assert method == "per-step, symmetric"
    np.testing.assert_allclose(upper[0, :, 0] - 10, 10 - lower[0, :, 0])


@pytest.mark.parametrize("intervals", ["conformal", "cqr"])
def test_conformal_coverage_is_close_to_nominal_on_stationary_returns(intervals):
    """Daily AUD/USD log returns (stationary), 300 one-step forecasts.

    The empirical coverage of a conformal interval calibrated on n errors and
    tested on K points has a standard deviation of about
    sqrt(p (1 - p) (1/K + 1/n)); the tolerance is three of them (9.8 points at
    80 %, 5.3 at 95 %). Conformalized quantile heads (``"cqr"``) carry the same
    guarantee however well the tiny network learnt its quantiles.
    """
    fx = load_exchange_rate()
    aud = fx[fx["unique_id"] == "AUD"].copy()
    aud["y"] = np.log(aud["y"]).diff()
    aud = aud.dropna()
    n = k = 300
    result = backtest(
        aud,
        ["lstm"],
        horizon=1,
        n_windows=k,
        refit=False,
        level=LEVELS,
        neural_params={
            **TINY,
            "lookback": 20,
            "validation_windows": n,
            "intervals": intervals,
        },
    )
    row = result.leaderboard.set_index("model").loc["lstm"]
    for level in LEVELS:
        p = level / 100
        tolerance = 3 * math.sqrt(p * (1 - p) * (1 / k + 1 / n))
        assert abs(row[f"coverage_{level}"] - p) <= tolerance


def test_seasonal_unit_is_the_mase_denominator():
    values = np.array([1.0, 3.0, 2.0, 6.0, 5.0, np.nan, 7.0])
    offsets = np.array([0, 4, 7])
    scale = conformal_unit(values, offsets, np.array([4, 3]), 2, "seasonal")
    # series 1, lag 2: |2 - 1|, |6 - 3| -> 2; series 2, lag 2: |7 - 5| -> 2
    np.testing.assert_allclose(scale, [2.0, 2.0])
    # only the first 2 values of series 2: not longer than a season, so lag 1,
    # and its one pair has the gap: no step left, the unit is 1
    cut = conformal_unit(values, offsets, np.array([4, 2]), 2, "seasonal")
    np.testing.assert_allclose(cut, [2, 1])


def test_recent_noise_is_the_spread_of_the_last_seasonal_changes():
    # series 1 (season 2): changes y_t - y_{t-2} = 2, 4, 2, 6, 2; those whose y_t
    # is among the last 3 values, 2, 6, 2, around their mean 10/3:
    # (4/3 + 8/3 + 4/3) / 3 = 16/9
    first = np.array([0.0, 1.0, 2.0, 5.0, 4.0, 11.0, 6.0])
    # series 2: a steady trend, changes all 2: no noise at all
    second = np.arange(0.0, 16.0, 2.0) / 2
    # series 3: one change only (a gap breaks the other pair): undefined
    third = np.array([1.0, np.nan, 4.0, 5.0])
    values = np.concatenate([first, second, third])
    offsets = np.array([0, 7, 15, 19])
    lengths = np.array([7, 8, 4])
    noise = recent_change_deviations(values, offsets, lengths, 2, count=3)
    np.testing.assert_allclose(noise[:2], [16 / 9, 0.0])
    assert np.isnan(noise[2])
    # only the first 5 values of series 1: changes 2, 4, 2 (all three recent)
    cut = recent_change_deviations(values, offsets, np.array([5, 8, 4]), 2, count=3)
    np.testing.assert_allclose(cut[0], (2 / 3 + 4 / 3 + 2 / 3) / 3)


def test_recent_unit_is_the_geometric_mean_and_falls_back_to_seasonal():
    values = np.concatenate([np.arange(20.0), [3.0, 1.0, 4.0, 1.0, 5.0, 9.0]])
    offsets = np.array([0, 20, 26])
    lengths = np.array([20, 6])
    seasonal = conformal_unit(values, offsets, lengths, 2, "seasonal")
    np.testing.assert_allclose(seasonal, seasonal_maes(values, offsets, lengths, 2))
    recent = conformal_unit(values, offsets, lengths, 2)
    # series 1: a straight line, no recent noise: the seasonal unit (2)
    assert recent[0] == seasonal[0] == 2.0
    # series 2: changes 1, 0, 1, 8 (fewer than 12, all recent), mean 2.5 (the
    # seasonal unit), around it 1.5, 2.5, 1.5, 5.5: spread 2.75
    assert seasonal[1] == 2.5
    np.testing.assert_allclose(recent[1], math.sqrt(2.5 * 2.75))
    with pytest.raises(ConfigError, match="unknown conformal_unit"):
        conformal_unit(values, offsets, lengths, 2, "local")


def test_conformal_units_divide_the_same_errors(air, tmp_path):
    """Both units see the same network errors; only each series' unit differs."""
    fitted = {
        kind: Forecaster(
            horizon=6, intervals="conformal", conformal_unit=kind, **TINY
        ).fit(air)
        for kind in ("recent", "seasonal")
    }
    holdout = 6 + fitted["recent"].validation_windows_ - 1
    y = air["y"].to_numpy()
    errors = {}
    for kind, model in fitted.items():
        # the forecasts' unit: of the whole series (refit_full), in original units
        unit = model.interval_scale_[0] * model.scaler_.scale[0]
        np.testing.assert_allclose(unit, _unit_by_hand(y, kind), rtol=1e-9)
        # the scores' unit: of the values before the validation windows
        errors[kind] = model.conformal_scores_ * _unit_by_hand(y[:-holdout], kind)
    np.testing.assert_allclose(errors["recent"], errors["seasonal"], rtol=1e-6)
    # a model file saved before conformal_unit existed divided by the seasonal
    # unit: it loads as "seasonal" and forecasts as before
    model = fitted["seasonal"]
    model.save(tmp_path / "m")

    def before_recent_units(config, tensors):
        as_version_1(config, tensors)
        del config["params"]["conformal_unit"]

    rewrite_model(tmp_path / "m", before_recent_units, tmp_path / "old")
    old = Forecaster.load(tmp_path / "old")
    assert old.conformal_unit == "seasonal"
    pd.testing.assert_frame_equal(
        old.predict(air, level=LEVELS), model.predict(air, level=LEVELS)
    )
    with pytest.raises(ConfigError, match="unknown conformal_unit"):
        Forecaster(horizon=1, intervals="conformal", conformal_unit="local").fit(air)


def test_conformal_forecaster_saves_and_loads_its_intervals(air, tmp_path):
    model = Forecaster(horizon=6, intervals="conformal", **TINY).fit(air)
    assert model.validation_windows_ == 6  # min(horizon, ceil(40 / 1 series))
    forecast = model.predict(level=LEVELS)
    assert _bounds_are_ordered(forecast)
    widths = forecast["yhat-hi-95"] - forecast["yhat-lo-95"]
    assert (widths > 0).all()
    model.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m").predict(level=LEVELS)
    pd.testing.assert_frame_equal(again, forecast)
    assert "yhat-lo-50" in model.predict(level=50).columns  # any level


def test_signed_conformal_bounds_are_the_stored_errors_offsets(air, tmp_path):
    # one step ahead from 40 origins: 40 errors and 40 independent windows
    model = Forecaster(
        horizon=1, validation_windows=40, intervals="conformal", **TINY
    ).fit(air)
    scores = model.conformal_scores_  # 40 windows x 1 step of y - yhat, in units
    assert scores.shape == (40, 1)
    forecast = model.predict(level=LEVELS)
    assert forecast.attrs["interval_method"] == "per-step, signed"  # 39 needed
    assert _bounds_are_ordered(forecast)
    low, high, _ = signed_conformal_offsets(scores, (80, 95))
    unit = model.interval_scale_[0] * model.scaler_.scale[0]
    yhat = forecast["yhat"].to_numpy()
    np.testing.assert_allclose(
        forecast["yhat-hi-95"], np.maximum(yhat + high[:, 1] * unit, yhat), rtol=1e-9
    )
    np.testing.assert_allclose(
        forecast["yhat-lo-95"], np.minimum(yhat + low[:, 1] * unit, yhat), rtol=1e-9
    )
    # the same errors, absolute: symmetric bounds
    model.conformal_errors = "absolute"
    symmetric = model.predict(level=LEVELS)
    np.testing.assert_allclose(
        symmetric["yhat-hi-95"] - yhat, yhat - symmetric["yhat-lo-95"], rtol=1e-9
    )
    assert symmetric.attrs["interval_method"] == "per-step, symmetric"
    # 8 steps ahead from 8 origins: 64 errors, but the windows overlap (one
    # independent window), too few for signed tails
    overlapping = Forecaster(horizon=8, intervals="conformal", **TINY).fit(air)
    method = overlapping.predict(level=LEVELS).attrs["interval_method"]
    assert method == "pooled, symmetric"
    # a model file saved before conformal_errors existed held absolute errors:
    # it loads as "absolute"
    model.conformal_errors = "signed"
    model.save(tmp_path / "m")

    def before_signed_errors(config, tensors):
        as_version_1(config, tensors)
        del config["params"]["conformal_errors"]
        tensors["conformal.scores"] = tensors["conformal.scores"].abs()

    rewrite_model(tmp_path / "m", before_signed_errors, tmp_path / "old")
    old = Forecaster.load(tmp_path / "old")
    assert old.conformal_errors == "absolute"
    pd.testing.assert_frame_equal(old.predict(level=LEVELS), symmetric)
    with pytest.raises(ConfigError, match="unknown conformal_errors"):
        Forecaster(horizon=1, intervals="conformal", conformal_errors="abs").fit(air)


def test_series_offsets_come_from_each_series_own_errors():
    rng = np.random.default_rng(0)
    long = rng.normal(1.0, 2.0, size=(40, 2))  # series 0: 40 a step, per step
    short = rng.normal(0.0, 1.0, size=(20, 2))  # series 1: 20 windows
    few = rng.normal(0.0, 9.0, size=(5, 2))  # series 2: too few, all series'
    mid = rng.normal(0.0, 3.0, size=(12, 2))  # series 4: 24 errors, pooled
    errors = np.concatenate([long, short, few, mid])
    owners = np.repeat([0, 1, 2, 4], [40, 20, 5, 12])
    lower, upper, own = series_conformal_offsets(errors, owners, 5, (80, 95))
    np.testing.assert_array_equal(own, [True, True, False, False, True])
    # per step (with the neighbouring steps, in every series' spread of each step)
    spread = np.mean(np.abs(errors), axis=0)
    first = signed_conformal_offsets(long, (80, 95), spread)
    assert first[2] == "per-step"
    np.testing.assert_array_equal(lower[0], first[0])
    np.testing.assert_array_equal(upper[0], first[1])
    # 20 windows are too few for signed 95 % tails (39), enough for symmetric
    # ones per step (19): both steps' |errors| over their spread, 40 in all,
    # give the ceil(41 * 0.95) = 39th smallest, times each step's spread
    pool = np.sort((np.abs(short) / spread).reshape(-1))
    np.testing.assert_allclose(upper[1, :, 1], pool[39 - 1] * spread)
    np.testing.assert_allclose(lower[1], -upper[1])
    # 12 a step are too few for 95 % per step (19), the 24 pooled over its steps
    # in units of every series' mean |error| of the step: the 24th smallest
    q = np.sort((np.abs(mid) / spread).reshape(-1))[math.ceil(25 * 0.95) - 1]
    np.testing.assert_allclose(upper[4, :, 1], q * spread)
    everyone, everyone_high, _ = conformal_offsets(errors, (80, 95))
    for i in (2, 3):  # too few errors, and none (series 3)
        np.testing.assert_array_equal(lower[i], everyone)
        np.testing.assert_array_equal(upper[i], everyone_high)
    # windows 40 steps long overlap: one independent window per series, too
    # few for signed tails, so every series' own offsets are symmetric
    lower, upper, own = series_conformal_offsets(
        errors, owners, 5, (80, 95), overlap=40
    )
    np.testing.assert_array_equal(own, [True, True, False, False, True])
    np.testing.assert_allclose(upper, -lower)
    widths, _ = step_quantiles(np.abs(long), (80, 95), spread)  # every series'
    np.testing.assert_array_equal(upper[0], widths)


def test_independent_windows_count_each_series_once_per_overlap():
    owners = np.repeat([0, 1, 3], [10, 3, 1])
    assert independent_windows(owners, 1) == 14
    assert independent_windows(owners, 4) == 3 + 1 + 1


def test_conformal_per_series_uses_each_fitted_series_errors(air, tmp_path):
    wiggly = air.assign(unique_id="wiggly", y=air["y"] * (1 + 0.2 * (air.index % 2)))
    data = pd.concat([air, wiggly])
    model = Forecaster(
        horizon=1,
        intervals="conformal",
        validation_windows=40,
        conformal_per_series=True,
        **TINY,
    ).fit(data)
    np.testing.assert_array_equal(model.conformal_series_, np.repeat([0, 1], 40))
    forecast = model.predict(level=LEVELS)
    assert forecast.attrs["interval_method"].startswith("own errors for 2 of 2 series")
    scores = model.conformal_scores_
    for i, uid in enumerate(model.ids_):
        low, high, _ = signed_conformal_offsets(
            scores[model.conformal_series_ == i],
            (80, 95),
            np.mean(np.abs(scores), axis=0),
        )
        rows = forecast["unique_id"] == uid
        yhat = forecast.loc[rows, "yhat"].to_numpy()
        unit = model.interval_scale_[i] * model.scaler_.scale[i]
        np.testing.assert_allclose(
            forecast.loc[rows, "yhat-hi-95"],
            np.maximum(yhat + high[:, 1] * unit, yhat),
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            forecast.loc[rows, "yhat-lo-95"],
            np.minimum(yhat + low[:, 1] * unit, yhat),
            rtol=1e-9,
        )
    # a series not seen by fit gets the offsets of all series' errors
    new = model.predict(air.assign(unique_id="new"), level=[95])
    assert new.attrs["interval_method"].startswith("own errors for 0 of 1 series")
    model.conformal_per_series = False
    pooled = model.predict(air.assign(unique_id="new"), level=[95])
    pd.testing.assert_frame_equal(new, pooled)
    model.conformal_per_series = True
    model.save(tmp_path / "m")
    pd.testing.assert_frame_equal(
        Forecaster.load(tmp_path / "m").predict(level=LEVELS), forecast
    )
    rewrite_model(
        tmp_path / "m",
        lambda config, tensors: tensors.pop("conformal.series"),
        tmp_path / "broken",
    )
    with pytest.raises(ModelFileError, match="do not fit this rnncast"):
        Forecaster.load(tmp_path / "broken")
    with pytest.raises(ConfigError, match="needs intervals='conformal'"):
        Forecaster(horizon=1, intervals="cqr", conformal_per_series=True).fit(air)


def test_conformal_intervals_scale_with_the_series(air):
    big = air.assign(unique_id="x1000", y=air["y"] * 1000)
    model = Forecaster(horizon=6, intervals="conformal", **TINY)
    forecast = model.fit(pd.concat([air, big])).predict(level=[80])
    width = (forecast["yhat-hi-80"] - forecast["yhat-lo-80"]).to_numpy()
    np.testing.assert_allclose(width[6:], 1000 * width[:6], rtol=1e-6)


def test_quantile_heads_give_ordered_bounds(air):
    model = Forecaster(horizon=6, intervals="quantile", **TINY).fit(air)
    assert model.network_.config.quantiles == (0.025, 0.1, 0.5, 0.9, 0.975)
    forecast = model.predict(level=LEVELS)
    assert _bounds_are_ordered(forecast)
    with pytest.raises(ConfigError, match="trained for levels"):
        model.predict(level=[50])


def test_quantile_scores_are_the_distance_outside_the_interval():
    lower = np.array([[[1.0], [1.0], [1.0]]])  # (1 window, 3 steps, 1 level)
    upper = np.array([[[3.0], [3.0], [3.0]]])
    targets = np.array([[0.0, 2.5, 5.0]])  # below, inside, above
    np.testing.assert_allclose(
        quantile_scores(lower, upper, targets)[0, :, 0], [1.0, -0.5, 2.0]
    )


def test_conformalized_quantile_bounds_shift_by_the_conformal_quantile():
    # 19 scores per step; step 2's scores are step 1's minus 10 (too wide). Each
    # step's shift reads both steps' scores (neighbours within 2), each divided
    # by its step's mean absolute score (10 and 90 / 19), scaled back by its own:
    # of the 38, the ceil(39 * 0.8) = 32nd and ceil(39 * 0.95) = 38th smallest.
    base = np.arange(1.0, 20.0)[np.random.default_rng(0).permutation(19)]
    scores = np.stack([np.stack([base, base]), np.stack([base - 10, base - 10])])
    scores = scores.transpose(2, 0, 1)  # (19 windows, 2 steps, 2 levels)
    lower = np.zeros((2, 2, 2))
    upper = np.ones((2, 2, 2))
    unit = np.array([1.0, 3.0])
    lo, hi, method = conformalized_quantile_bounds(lower, upper, scores, unit, (80, 95))
    assert method == "per-step"
    spreads = np.array([10.0, 90 / 19])
    relative = np.sort(np.concatenate([base / spreads[0], (base - 10) / spreads[1]]))
    shift = np.outer(spreads, relative[[31, 37]])  # (step, level)
    np.testing.assert_allclose(hi, 1 + shift[None] * unit[:, None, None])
    np.testing.assert_allclose(lo, -shift[None] * unit[:, None, None])
    # 4 scores per step are too few for 95 % per step: one pooled shift, the
    # ceil(9 * 0.95) = 9th smallest of 8 -> too few altogether
    with pytest.raises(ConfigError, match="too few calibration scores"):
        conformalized_quantile_bounds(lower, upper, scores[:4], unit, (80, 95))
    # 3 per step are too few even for 80 % (4 needed): the 6 pooled, 6th smallest
    lo, hi, method = conformalized_quantile_bounds(
        lower[:, :, :1], upper[:, :, :1], scores[:3, :, :1], unit, (80,)
    )
    pooled = np.sort(scores[:3, :, 0].reshape(-1))[math.ceil(7 * 0.8) - 1]
    assert method == "pooled"
    np.testing.assert_allclose(hi[:, :, 0], np.outer(1 + pooled * unit, [1, 1]))


def test_nested_bounds_fix_crossing_levels():
    median = np.array([[5.0]])
    lower = np.array([[[6.0, 4.0]]])  # lo-80 above the median, lo-95 below
    upper = np.array([[[9.0, 8.0]]])  # hi-95 below hi-80
    lo, hi = nested_bounds(lower, upper, median)
    np.testing.assert_allclose(lo[0, 0], [5.0, 4.0])
    np.testing.assert_allclose(hi[0, 0], [9.0, 9.0])


def test_cqr_conformalizes_the_quantile_heads(air, tmp_path):
    model = Forecaster(horizon=6, intervals="cqr", **TINY).fit(air)
    assert model.network_.config.quantiles == (0.025, 0.1, 0.5, 0.9, 0.975)
    assert model.conformal_scores_.shape == (6, 6, 2)  # windows, steps, levels
    forecast = model.predict(level=LEVELS)
    assert _bounds_are_ordered(forecast)
    # the same network's raw quantiles, moved by the scores' conformal quantiles
    model.intervals = "quantile"
    raw = model.predict(level=[80])
    model.intervals = "cqr"
    scale = model.scaler_.scale[0]
    pooled = np.sort(model.conformal_scores_[:, :, 0].reshape(-1))
    shift = pooled[math.ceil(37 * 0.8) - 1] * model.interval_scale_[0] * scale
    lo, hi = forecast["yhat-lo-80"], forecast["yhat-hi-80"]
    yhat = forecast["yhat"]
    np.testing.assert_allclose(
        np.minimum(raw["yhat-lo-80"] - shift, yhat), lo, rtol=1e-9
    )
    np.testing.assert_allclose(
        np.maximum(raw["yhat-hi-80"] + shift, yhat), hi, rtol=1e-9
    )
    model.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m").predict(level=LEVELS)
    pd.testing.assert_frame_equal(again, forecast)
    with pytest.raises(ConfigError, match="trained for levels"):
        model.predict(level=[50])
    with pytest.raises(ConfigError, match="validation=True"):
        Forecaster(horizon=6, intervals="cqr", validation=False).fit(air)


@pytest.mark.parametrize("intervals", ["conformal", "cqr"])
def test_a_calibrated_model_file_without_its_scores_is_refused(
    air, tmp_path, intervals
):
    Forecaster(horizon=6, intervals=intervals, **TINY).fit(air).save(tmp_path / "m")
    rewrite_model(
        tmp_path / "m",
        lambda config, tensors: tensors.pop("conformal.scores"),
        tmp_path / "broken",
    )
    with pytest.raises(ModelFileError, match="do not fit this rnncast"):
        Forecaster.load(tmp_path / "broken")


def test_levels_need_a_model_with_intervals(air):
    model = Forecaster(horizon=6, intervals=None, **TINY).fit(air)
    with pytest.raises(ConfigError, match="intervals='auto' \\(the default\\)"):
        model.predict(level=[80])
    with pytest.raises(ConfigError, match="unknown intervals"):
        Forecaster(horizon=6, intervals="bootstrap").fit(air)
    with pytest.raises(ConfigError, match="validation=True"):
        Forecaster(horizon=6, intervals="conformal", validation=False).fit(air)


def test_masked_model_calibrates_on_observed_errors_only(air):
    gappy = air.copy()
    gappy.loc[[130, 135, 140], "y"] = np.nan  # gaps inside the validation windows
    model = Forecaster(horizon=6, intervals="conformal", missing="mask", **TINY)
    model.fit(gappy)
    assert np.isnan(model.conformal_scores_).sum() > 0
    forecast = model.predict(level=LEVELS)
    assert np.isfinite(forecast.drop(columns=["unique_id", "ds"])).all().all()


def test_naive_intervals_are_sigma_sqrt_h(air):
    y = air["y"].to_numpy()
    sigma = np.sqrt(np.mean(np.diff(y) ** 2))
    np.testing.assert_allclose(
        simple_sigma(y, 3, "naive"), sigma * np.sqrt([1, 2, 3]), rtol=1e-12
    )
    forecast = make_baseline("naive", horizon=3).fit(air).predict(level=[95])
    half = forecast["naive-hi-95"] - forecast["naive"]
    np.testing.assert_allclose(half, 1.959964 * sigma * np.sqrt([1, 2, 3]), rtol=1e-6)


@pytest.mark.parametrize("name", ["naive", "snaive", "drift", "ets", "theta", "arima"])
def test_every_baseline_gives_ordered_intervals(air, name):
    model = make_baseline(name, horizon=12, levels=LEVELS).fit(air)
    forecast = model.predict(level=LEVELS)
    assert _bounds_are_ordered(forecast, model.alias)
    assert not model.fallbacks_


def test_baseline_computes_a_level_it_was_not_fitted_for(air):
    model = make_baseline("snaive", horizon=3).fit(air)
    assert "snaive-lo-90" in model.predict(level=[90]).columns


def test_msis_by_hand():
    y, lo, hi = [10.0, 20.0, 5.0], [8.0, 8.0, 8.0], [12.0, 12.0, 12.0]
    train = [1.0, 3.0, 2.0, 4.0]  # in-sample naive MAE = (2 + 1 + 2) / 3 = 5/3
    # widths 4 each; misses: 20 above 12 by 8, 5 below 8 by 3; alpha = 0.2
    by_hand = (4 + (4 + 2 / 0.2 * 8) + (4 + 2 / 0.2 * 3)) / 3 / (5 / 3)
    assert msis(y, lo, hi, train, season_length=1, level=80) == pytest.approx(by_hand)
    assert coverage(y, lo, hi) == pytest.approx(1 / 3)


def test_pinball_loss_in_torch_matches_the_metric():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    q = rng.normal(size=(50, 3))
    taus = np.array([0.1, 0.5, 0.9])
    by_metric = np.mean([pinball(y, q[:, j], taus[j]) for j in range(3)])
    by_torch = pinball_loss(torch.tensor(q), torch.tensor(y), torch.tensor(taus))
    assert by_torch.item() == pytest.approx(by_metric)


def test_backtest_with_levels_scores_intervals(air):
    result = backtest(
        air,
        ["lstm", "naive"],
        horizon=6,
        n_windows=2,
        level=LEVELS,
        neural_params=TINY,
    )
    assert {"lstm-lo-95", "naive-hi-80"} <= set(result.forecasts.columns)
    board = result.leaderboard
    for column in ["coverage_80", "width_95", "msis_95", "pinball"]:
        assert board[column].notna().all()
    assert board["coverage_80"].between(0, 1).all()


def _unit_by_hand(y: np.ndarray, kind: str) -> float:
    """conformal_unit of one monthly series, written out: the seasonal-naive MAE,
    or its geometric mean with the mean absolute deviation of the last 36 seasonal
    changes from their mean."""
    changes = y[12:] - y[:-12]
    mae = np.mean(np.abs(changes))
    if kind == "seasonal":
        return mae
    recent = changes[-36:]
    return np.sqrt(mae * np.mean(np.abs(recent - recent.mean())))


@pytest.mark.parametrize("kind", ["recent", "seasonal"])
@pytest.mark.parametrize(("horizon", "windows"), [(6, 4), (6, 8), (1, 40)])
def test_conformal_baseline_calibrates_on_refits_at_earlier_origins(
    air, horizon, windows, kind
):
    model = make_baseline(
        "snaive",
        horizon=horizon,
        levels=LEVELS,
        intervals="conformal",
        calibration_windows=windows,
        conformal_unit=kind,
    ).fit(air)
    forecast = model.predict(level=LEVELS)
    assert _bounds_are_ordered(forecast, "snaive")
    # seasonal naive at the earlier origins, scored by hand: errors y - yhat,
    # each in the unit of the values before its origin
    y = air["y"].to_numpy()
    unit = _unit_by_hand(y, kind)  # the whole history's, for the bounds
    errors = []
    for j in range(windows):
        n = len(y) - horizon - j
        before = _unit_by_hand(y[:n], kind)
        errors.append((y[n : n + horizon] - y[n - 12 : n - 12 + horizon]) / before)
    errors = np.array(errors)
    yhat = forecast["snaive"].to_numpy()
    if horizon == 6:  # 24 errors, or 48 from 2 independent windows: symmetric
        widths, method = conformal_widths(np.abs(errors), (95,))
        assert method == "pooled"
        half = (forecast["snaive-hi-95"] - yhat).to_numpy()
        np.testing.assert_allclose(half, widths[:, 0] * unit, rtol=1e-9)
        return
    low, high, method = signed_conformal_offsets(errors, (95,))  # 40 windows
    assert method == "per-step"
    np.testing.assert_allclose(
        forecast["snaive-hi-95"], np.maximum(yhat + high[:, 0] * unit, yhat)
    )
    np.testing.assert_allclose(
        forecast["snaive-lo-95"], np.minimum(yhat + low[:, 0] * unit, yhat)
    )
    with pytest.raises(ConfigError, match="unknown conformal_errors"):
        make_baseline("snaive", horizon=6, conformal_errors="abs").fit(air)
    with pytest.raises(ConfigError, match="unknown conformal_unit"):
        make_baseline("snaive", horizon=6, conformal_unit="local").fit(air)


def test_prophet_gives_ordered_intervals(air):
    model = make_baseline("prophet", horizon=6, levels=LEVELS).fit(air)
    assert _bounds_are_ordered(model.predict(level=LEVELS), "prophet")


def test_bad_levels_are_refused_before_training(air):
    with pytest.raises(ConfigError, match=r"percentages in \(0, 100\)"):
        Forecaster(horizon=6, intervals="conformal", levels=[150], **TINY).fit(air)
    with pytest.raises(ConfigError, match="unknown intervals 'bootstrap'"):
        make_baseline("naive", horizon=3, intervals="bootstrap").fit(air)
