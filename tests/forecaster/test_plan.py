"""What a fit decides before training: season, lookbacks, windows, window level."""

import pytest

from rnncast import ConfigError
from rnncast.combine import ClassicalMix, NetworkAlone
from rnncast.forecaster.plan import make_plan, member_lookbacks
from rnncast.intervals.methods import Conformal, NoIntervals, QuantileHeads
from rnncast.options import ForecasterParams


def _plan(freq="MS", n_series=3, **params):
    return make_plan(ForecasterParams(horizon=6, **params).validate(), freq, n_series)


def test_the_season_comes_from_the_frequency_unless_given():
    assert _plan("MS").season_length == 12
    assert _plan("h").season_length == 24
    assert _plan("MS", season_length=4).season_length == 4


def test_the_default_lookback_covers_two_seasons_or_two_horizons():
    assert _plan("MS").lookbacks == (24,)  # max(2 * 6, 2 * 12)
    assert _plan("QS").lookbacks == (12,)  # max(2 * 6, 2 * 4)


def test_an_ensemble_cycles_through_its_lookbacks():
    params = ForecasterParams(horizon=6, ensemble=4)
    assert member_lookbacks(params, 12) == [24, 36, 48, 24]  # 1, 1.5, 2 times 24
    params = ForecasterParams(horizon=6, ensemble=3, lookback=(10, 20))
    assert member_lookbacks(params, 12) == [10, 20, 10]
    plan = make_plan(params, "MS", 1)
    assert plan.lookback == 20  # every window is as long as the longest


@pytest.mark.parametrize(
    ("params", "level", "inputs", "multiplicative"),
    [
        ({}, "detect", 2, True),  # the value and the seasonal flag
        ({"transform": "log"}, "detect", 2, False),  # ratios need the data's zero
        ({"seasonal_pattern": "additive"}, "detect", 2, False),
        ({"output": "recursive"}, "season", 1, False),
        ({"lookback": 8}, "last", 1, False),  # no whole season in the window
        ({"missing": "mask", "season_inputs": True}, "detect", 5, True),
        ({"window_level": "snaive"}, "snaive", 1, False),
    ],
    ids=["detect", "log", "additive", "recursive", "short", "mask-phases", "snaive"],
)
def test_the_window_level_is_resolved_with_its_inputs(
    params, level, inputs, multiplicative
):
    network = _plan(**params).network
    assert network.level == level
    assert network.input_size == inputs
    assert network.multiplicative == multiplicative
    seasonal = level in ("detect", "season", "snaive", "adaptive")
    assert network.season_length == (12 if seasonal else 1)


def test_the_naive_checks_plan_starts_from_the_last_value():
    plan = _plan()
    last = plan.choosing_last()
    assert (last.network.level, last.level_choice) == ("last", "last")
    assert last.network.input_size == 1 and not last.network.multiplicative
    assert (last.lookbacks, last.holdout) == (plan.lookbacks, plan.holdout)


def test_validation_windows_and_holdout():
    # the default intervals="auto": 40 errors in all, 1 window from 7 series of 6
    assert _plan(n_series=7).validation_windows == 1 and _plan(n_series=7).holdout == 6
    assert _plan(n_series=3).validation_windows == 3  # ceil(40 / 18)
    assert _plan(n_series=1).validation_windows == 6  # at most a horizon
    assert _plan(n_series=1, intervals=None).validation_windows == 1
    assert _plan(n_series=1, validation=False).holdout == 0
    # calibrated intervals asked for: about 40 errors a step
    assert _plan(n_series=1, intervals="conformal").validation_windows == 6
    assert _plan(n_series=10, intervals="conformal").validation_windows == 4
    assert _plan(n_series=100, intervals="conformal").validation_windows == 1
    assert _plan(validation_windows=3).holdout == 8
    assert _plan(validation=False).holdout == 0


def test_the_strategies_are_chosen_once_from_the_parameters():
    assert isinstance(_plan().mix, ClassicalMix) and _plan().mix.method == "theta"
    assert isinstance(_plan(combine="none").mix, NetworkAlone)
    assert isinstance(_plan(intervals=None).intervals, NoIntervals)
    assert isinstance(_plan(intervals="none").intervals, NoIntervals)
    assert isinstance(_plan().intervals, Conformal)  # "auto"
    conformal = _plan(intervals="conformal", conformal_errors="absolute").intervals
    assert isinstance(conformal, Conformal) and not conformal.signed
    heads = _plan(intervals="quantile", levels=(80,))
    assert isinstance(heads.intervals, QuantileHeads)
    assert heads.network.quantiles == (0.1, 0.5, 0.9)
    assert heads.training.loss == "pinball"


def test_a_pattern_level_needs_a_whole_season_in_the_window():
    with pytest.raises(ConfigError, match="lookback=8 is shorter than season_length"):
        _plan(window_level="snaive", lookback=8)
    with pytest.raises(ConfigError, match="needs a season of at least 2 steps"):
        _plan(freq=1, season_inputs=True)
