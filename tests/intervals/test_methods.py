"""The interval methods: chosen once from the parameters, each its own bounds."""

import numpy as np
import pytest

from rnncast import ConfigError
from rnncast.intervals import conformal_bounds, quantile_bounds
from rnncast.intervals.methods import (
    Calibration,
    Conformal,
    ConformalizedQuantiles,
    NoIntervals,
    QuantileHeads,
    interval_method,
)
from rnncast.options import ForecasterParams


def test_the_method_follows_the_parameters():
    def method(**params):
        return interval_method(ForecasterParams(horizon=4, **params))

    assert type(method(intervals=None)) is NoIntervals
    assert type(method(validation=False)) is NoIntervals  # "auto" needs validation
    auto = method()
    assert auto == Conformal(calibration_errors=40, errors_per_step=False)
    conformal = method(intervals="conformal", conformal_unit="seasonal")
    assert conformal == Conformal(
        unit_kind="seasonal", signed=True, per_series=False, calibration_errors=40
    )
    assert conformal.calibrated and conformal.quantiles() == ()
    heads = method(intervals="quantile", levels=(95, 80))
    assert heads == QuantileHeads(levels=(80, 95)) and not heads.calibrated
    assert heads.quantiles() == (0.025, 0.1, 0.5, 0.9, 0.975)
    cqr = method(intervals="cqr", levels=(80,))
    assert isinstance(cqr, ConformalizedQuantiles) and cqr.calibrated


def test_each_method_says_which_levels_it_can_give():
    with pytest.raises(ConfigError, match="this model has no intervals"):
        NoIntervals().check_asked((80,))
    NoIntervals().check_asked(())
    Conformal().check_asked((50, 99.5))  # any level
    with pytest.raises(ConfigError, match=r"trained for levels \[80\], not \[95\]"):
        QuantileHeads(levels=(80,)).check_asked((80, 95))


def test_conformal_bounds_are_those_of_the_pure_function():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(60, 3))
    owners = np.repeat(np.arange(20), 3)
    z, unit = rng.normal(size=(2, 3)), np.array([1.0, 2.0])
    lower, upper, method = Conformal().bounds(
        z, (80,), (), unit, Calibration(scores, owners)
    )
    want = conformal_bounds(z, scores, unit, (80,), owners=owners, overlap=3)
    np.testing.assert_array_equal(lower, want[0])
    np.testing.assert_array_equal(upper, want[1])
    assert method == want[2]
    empty = Conformal().bounds(z, (), (), unit, Calibration(scores, owners))
    assert empty[0].shape == (2, 3, 0)


def test_quantile_heads_read_their_levels_columns():
    quantiles = QuantileHeads(levels=(80,)).quantiles()
    z = np.sort(np.random.default_rng(2).normal(size=(2, 4, 3)), axis=2)
    lower, upper, method = QuantileHeads(levels=(80,)).bounds(
        z, (80,), quantiles, None, None
    )
    np.testing.assert_array_equal(lower[:, :, 0], z[:, :, 0])
    np.testing.assert_array_equal(upper[:, :, 0], z[:, :, 2])
    assert method == "quantile heads"
    assert quantile_bounds(z, quantiles, (80,))[0].shape == (2, 4, 1)
