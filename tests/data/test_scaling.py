import numpy as np
import pytest

from rnncast.data.scaling import (
    fit_scaler,
    inverse_transform,
    seasonal_mae,
    seasonal_maes,
    transform,
)
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


@pytest.mark.parametrize("power", ["log", "log1p", "boxcox"])
def test_power_transforms_round_trip(air, power):
    from rnncast.data.scaling import transform_rows

    values = air["y"].to_numpy(dtype=float)
    if power == "log1p":
        values = values - values.min()  # counts that reach 0
    offsets = np.array([0, 60, len(values)])
    stats = fit_scaler(values, offsets, np.array([48, 70]), "standard", power, 12)
    z = transform(values, offsets, stats)
    rows = np.stack([values[:60], values[-60:]])
    np.testing.assert_allclose(
        transform_rows(rows, stats), np.stack([z[:60], z[-60:]]), rtol=1e-12
    )
    np.testing.assert_allclose(
        inverse_transform(transform_rows(rows, stats), stats),
        rows,
        rtol=1e-10,
        atol=1e-9,
    )


def test_log_standardises_the_log_values(air):
    values = air["y"].to_numpy(dtype=float)
    stats = fit_scaler(
        values, np.array([0, len(values)]), np.array([100]), "standard", "log"
    )
    assert stats.power[0] == 0 and stats.shift[0] == 0
    assert stats.loc[0] == pytest.approx(np.log(values[:100]).mean())
    assert stats.scale[0] == pytest.approx(np.log(values[:100]).std())


def test_guerrero_finds_the_log_for_multiplicative_seasonality(air):
    from rnncast.data.scaling import guerrero_power

    y = air["y"].to_numpy(dtype=float)  # seasonal swings grow with the level
    assert guerrero_power(y, 12) <= 0.2
    # the same seasonal pattern added to a trend: the variance does not grow
    rng = np.random.default_rng(0)
    additive = 100 + np.arange(144) + 10 * np.sin(np.arange(144) * np.pi / 6)
    assert guerrero_power(additive + rng.normal(0, 1, 144), 12) >= 0.8


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 2.0], "log"),
        ([0.0, 2.0], "log1p"),
        ([-1.0, 2.0], "none"),
        ([np.nan, 3.0], "log"),
    ],
)
def test_auto_transform_follows_the_sign_of_the_data(values, expected):
    from rnncast.data.scaling import resolve_transform

    assert resolve_transform("auto", np.array(values)) == expected
    assert resolve_transform("boxcox", np.array(values)) == "boxcox"
    with pytest.raises(ConfigError, match="unknown transform 'sqrt'"):
        resolve_transform("sqrt", np.array(values))


def test_mase_scaler_divides_by_the_in_sample_seasonal_naive_mae(air):
    values = air["y"].to_numpy(dtype=float)
    stats = fit_scaler(values, np.array([0, 144]), np.array([100]), "mase", "none", 12)
    part = values[:100]
    assert stats.loc[0] == pytest.approx(part.mean())
    assert stats.scale[0] == pytest.approx(np.mean(np.abs(part[12:] - part[:-12])))
    # a gap drops the differences it touches; a series shorter than a season + 1
    # falls back to lag 1
    gappy = part.copy()
    gappy[50] = np.nan
    pairs = np.abs(gappy[12:] - gappy[:-12])
    stats = fit_scaler(gappy, np.array([0, 100]), np.array([100]), "mase", "none", 12)
    assert stats.scale[0] == pytest.approx(np.nanmean(pairs))
    short = fit_scaler(part[:10], np.array([0, 10]), np.array([10]), "mase", "none", 12)
    assert short.scale[0] == pytest.approx(np.mean(np.abs(np.diff(part[:10]))))


def _one_series_statistics(part, kind, season_length):
    """The textbook statistics of one series, written out without the vector path."""
    observed = part[~np.isnan(part)]
    if not len(observed) or np.max(np.abs(observed)) == 0:
        return 0.0, 1.0
    loc, std = observed.mean(), observed.std()
    if kind == "standard":
        return loc, std
    for lag in (season_length, 1):
        changes = np.abs(part[lag:] - part[:-lag])
        changes = changes[~np.isnan(changes)]
        if len(changes) and changes.mean() > 0:
            return loc, changes.mean()
    return loc, std


@pytest.mark.parametrize("kind", ["standard", "mase"])
def test_statistics_of_many_series_match_one_series_at_a_time(kind):
    # The vectorised path (sums per series) must agree with the per-series
    # formulas, including short series, gaps, constants and tiny training parts.
    rng = np.random.default_rng(1)
    parts = []
    for i in range(200):
        n = int(rng.integers(1, 30))
        y = rng.normal(size=n) * 10.0 ** rng.integers(-3, 4) + rng.normal() * 5
        if i % 10 == 1:
            y[rng.integers(0, n)] = np.nan
        elif i % 10 == 2:
            y = np.full(n, 3.0)
        elif i % 10 == 3:
            y = np.zeros(n)
        parts.append(y)
    lengths = np.array([len(p) for p in parts])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    train = np.maximum(lengths - rng.integers(0, 4, len(lengths)), 1)
    values = np.concatenate(parts)
    stats = fit_scaler(values, offsets, train, kind, "none", 4)
    for i, part in enumerate(parts):
        training = part[: train[i]]
        if np.isnan(training).all():
            training = part
        loc, scale = _one_series_statistics(training, kind, 4)
        if scale == 0 or scale <= 1e-12 * abs(loc):
            scale = 1.0
        np.testing.assert_allclose(stats.loc[i], loc, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(stats.scale[i], scale, rtol=1e-12)


def test_seasonal_maes_of_many_series_equal_seasonal_mae_of_each():
    # Gaps, an infinite value, constant and very short series, training parts that
    # stop early: the vectorised version must say what seasonal_mae says.
    rng = np.random.default_rng(2)
    parts = []
    for i in range(120):
        y = rng.normal(size=int(rng.integers(1, 20))) * 3 + 10
        if i % 6 == 1:
            y[rng.integers(0, len(y))] = np.nan
        elif i % 6 == 2:
            y[:] = 4.0
        elif i % 6 == 3:
            y[-1] = np.inf
        parts.append(y)
    lengths = np.array([len(p) for p in parts])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    train = np.maximum(lengths - rng.integers(0, 3, len(lengths)), 0)
    got = seasonal_maes(np.concatenate(parts), offsets, train, 4)
    for i, part in enumerate(parts):
        expected = seasonal_mae(part[: train[i]], 4)
        if expected is None:
            assert np.isnan(got[i]), i
        else:
            assert got[i] == pytest.approx(expected, rel=1e-12), i
