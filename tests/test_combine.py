"""The mix strategies: the network alone, or mixed with a classical method."""

import numpy as np

from rnncast.combine import (
    EQUAL_WEIGHT,
    ClassicalMix,
    FittedMix,
    NetworkAlone,
    combination_weight,
    mixer,
)


def test_the_strategy_is_chosen_from_combine():
    assert type(mixer(None)) is NetworkAlone and type(mixer("none")) is NetworkAlone
    assert isinstance(mixer("theta"), ClassicalMix)
    assert mixer("theta+damped").method == "theta+damped"


def test_the_network_alone_has_no_classical_forecast_and_changes_nothing():
    alone = NetworkAlone()
    values = np.arange(30.0)
    assert alone.forecasts(values, np.array([0]), np.array([30]), 4, 1) is None
    fitted = alone.fit(None, None, None)
    assert fitted == FittedMix()
    z = np.ones((2, 4))
    assert fitted.apply(z, np.zeros((2, 4))) is z


def test_a_mix_without_validation_weighs_both_equally():
    fitted = ClassicalMix("theta").fit(None, None, None)
    assert fitted == FittedMix("theta", EQUAL_WEIGHT, None)
    z, classical = np.zeros((1, 2)), np.ones((1, 2))
    np.testing.assert_allclose(fitted.apply(z, classical), [[0.5, 0.5]])


def test_a_validated_mix_takes_combination_weights_choice():
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(50, 3))
    network = targets + rng.normal(scale=0.1, size=targets.shape)  # nearly right
    classical = targets + rng.normal(scale=1.0, size=targets.shape)
    fitted = ClassicalMix("theta").fit(network, classical, targets, independent=50)
    weight, scores = combination_weight(network, classical, targets, 50)
    assert fitted == FittedMix("theta", weight, scores) and weight > 0.8


def test_quantile_heads_move_by_the_medians_change():
    z = np.array([[[0.0, 1.0, 3.0]]])  # quantiles of one step, the median at 1
    mixed = FittedMix("theta", 0.5).apply(z, np.array([[3.0]]), median=1)
    np.testing.assert_allclose(mixed, [[[1.0, 2.0, 4.0]]])  # all moved by +1
