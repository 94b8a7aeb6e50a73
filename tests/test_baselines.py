import numpy as np
import pandas as pd
import pytest

from rnncast import Drift, Naive, NotFittedError, SeasonalNaive
from rnncast.baselines import drift, naive, seasonal_naive
from rnncast.exceptions import DataError


def test_seasonal_naive_reproduces_the_last_season_exactly(air):
    fc = SeasonalNaive(horizon=18).fit(air).predict()
    last_year = air["y"].to_numpy()[-12:]
    np.testing.assert_array_equal(
        fc["snaive"].to_numpy(), np.concatenate([last_year, last_year[:6]])
    )
    assert fc["ds"].iloc[0] == pd.Timestamp("1961-01-01")


def test_drift_matches_its_formula():
    y = np.array([3.0, 5.0, 4.0, 9.0])
    slope = (9.0 - 3.0) / 3
    np.testing.assert_allclose(drift(y, 3), [9 + slope, 9 + 2 * slope, 9 + 3 * slope])
    np.testing.assert_array_equal(drift(np.array([2.0]), 2), [2.0, 2.0])


def test_naive_repeats_the_last_value(air):
    np.testing.assert_array_equal(naive(np.array([1.0, 7.0]), 3), [7.0, 7.0, 7.0])
    assert (Naive(horizon=2).fit(air).predict()["naive"] == 432.0).all()
    assert Drift(horizon=2).fit(air).predict()["drift"].iloc[0] == pytest.approx(
        432 + (432 - 112) / 143
    )


def test_seasonal_naive_needs_a_full_season():
    with pytest.raises(DataError, match="one full season"):
        seasonal_naive(np.arange(5.0), 3, 12)


def test_baseline_predict_before_fit():
    with pytest.raises(NotFittedError, match="call fit"):
        SeasonalNaive(horizon=3).predict()
