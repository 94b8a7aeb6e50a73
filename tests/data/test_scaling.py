import numpy as np
import pytest

from rnncast.data.scaling import fit_scaler, inverse_transform, transform
from rnncast.exceptions import ConfigError


@pytest.mark.parametrize("kind", ["standard", "robust", "none"])
def test_round_trip(kind):
    rng = np.random.default_rng(0)
    values = rng.normal(50, 10, size=30)
    offsets = np.array([0, 12, 30])
    stats = fit_scaler(values, offsets, np.array([12, 18]), kind)
    z = transform(values, offsets, stats)
    back = np.concatenate(
        [
            inverse_transform(z[None, :12], _row(stats, 0))[0],
            inverse_transform(z[None, 12:], _row(stats, 1))[0],
        ]
    )
    np.testing.assert_allclose(back, values, rtol=1e-12)


def _row(stats, i):
    from rnncast.data.scaling import ScalerStats

    return ScalerStats(stats.loc[i : i + 1], stats.scale[i : i + 1])


def test_statistics_use_only_the_training_part():
    values = np.array([1.0, 2.0, 3.0, 1000.0, -1000.0])
    stats = fit_scaler(values, np.array([0, 5]), np.array([3]), "standard")
    assert stats.loc[0] == pytest.approx(2.0)
    assert stats.scale[0] == pytest.approx(np.std([1.0, 2.0, 3.0]))


def test_robust_scaler_ignores_an_outlier():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5000.0])
    stats = fit_scaler(values, np.array([0, 5]), np.array([5]), "robust")
    assert stats.loc[0] == 3.0
    assert stats.scale[0] == pytest.approx(1.4826 * 1.0)


def test_constant_series_gets_unit_scale():
    stats = fit_scaler(np.full(5, 7.0), np.array([0, 5]), np.array([5]), "standard")
    assert stats.scale[0] == 1.0 and stats.loc[0] == 7.0


def test_unknown_scaler():
    with pytest.raises(ConfigError, match="unknown scaler 'minmax'"):
        fit_scaler(np.ones(3), np.array([0, 3]), np.array([3]), "minmax")


@pytest.mark.parametrize("kind", ["standard", "robust"])
def test_statistics_of_huge_values_do_not_overflow(kind):
    values = np.array([0.0, 1.9e154, 0.0, 3e300, -2e300])
    stats = fit_scaler(values, np.array([0, 5]), np.array([5]), kind)
    assert np.isfinite(stats.loc).all() and np.isfinite(stats.scale).all()
    assert stats.scale[0] > 1e299 or kind == "robust"
