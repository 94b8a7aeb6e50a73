"""The seasonality test and the per-series level it drives (level="detect")."""

import numpy as np
import pandas as pd
import pytest
import torch
from statsmodels.tsa.stattools import acf

from conftest import TINY, rewrite_model
from rnncast import Forecaster
from rnncast.data.seasonality import autocorrelations, is_seasonal, seasonal_series
from rnncast.datasets import load_stocks
from rnncast.exceptions import ConfigError, ModelFileError
from rnncast.models.window_levels import seasonal_profile, seasonal_ratios


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    """The last 300 daily closes of each bundled stock, on a step index."""
    stocks = load_stocks().groupby("unique_id").tail(300)
    return stocks.assign(ds=stocks.groupby("unique_id").cumcount())[
        ["unique_id", "ds", "y"]
    ]


def test_autocorrelations_equal_statsmodels(air):
    y = air["y"].to_numpy()
    np.testing.assert_allclose(
        autocorrelations(y, 12), acf(y, nlags=12, fft=False)[1:], rtol=1e-12
    )


def test_autocorrelations_leave_gaps_out():
    y = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
    padded = np.concatenate([[np.nan, np.nan], y])
    np.testing.assert_allclose(autocorrelations(padded, 3), autocorrelations(y, 3))
    gappy = y.copy()
    gappy[3] = np.nan  # the pairs (2, 3) and (3, 4) at lag 1 drop out
    c = gappy[~np.isnan(gappy)].mean()
    d = np.nan_to_num(gappy - c)
    lag1 = (d[1:] * d[:-1]).sum() / (d**2).sum()
    assert autocorrelations(gappy, 1)[0] == pytest.approx(lag1)
    assert (autocorrelations(np.full(9, 4.0), 2) == 0).all()


def test_airline_passengers_are_seasonal_and_a_short_series_is_not(air):
    y = air["y"].to_numpy()
    assert is_seasonal(y, 12) and is_seasonal(np.diff(y), 12)
    assert not is_seasonal(y[:35], 12)  # under three seasons: not tested
    assert not is_seasonal(y, 1)


def test_prices_pass_on_levels_but_their_changes_are_not_seasonal(prices):
    # A random walk's levels correlate at every lag, so the test on levels calls
    # every stock seasonal; its daily changes carry no monthly pattern.
    for _, series in prices.groupby("unique_id"):
        y = series["y"].to_numpy()
        assert is_seasonal(y, 12)
    offsets = np.concatenate([[0], np.cumsum(prices.groupby("unique_id").size())])
    flags = seasonal_series(
        prices["y"].to_numpy(), offsets, np.diff(offsets), season_length=12
    )
    assert flags.sum() <= 1  # a 10 % test may pass one of the five by chance


def test_detect_level_starts_each_series_from_its_flagged_level(air):
    # With a network that outputs 0 the forecast is the start itself: for a
    # flagged series the last season's mean plus the seasonal pattern averaged
    # over the window's three seasons, for the others the last season's mean.
    model = Forecaster(horizon=6, window_level="detect", **TINY).fit(air)
    network = model.network_
    assert network.config.level == "detect" and network.config.input_size == 2
    torch.nn.init.zeros_(network.head.weight)
    torch.nn.init.zeros_(network.head.bias)
    y = torch.as_tensor(air["y"].to_numpy()[-36:], dtype=torch.float32)
    flags = torch.tensor([1.0, 0.0])[:, None, None].expand(2, 36, 1)
    # a scaled zero above the window: additive patterns (multiplicative ones
    # are tested below)
    zero = (y.max() + 1).expand(2, 36, 1)
    x = torch.cat([y.expand(2, 36)[:, :, None], zero, flags], dim=-1)
    out = network(x).detach()
    seasons = [y[12 * k : 12 * (k + 1)] for k in range(3)]
    pattern = sum(s - s.mean() for s in seasons) / 3
    torch.testing.assert_close(out[0], (seasons[2].mean() + pattern)[:6])
    torch.testing.assert_close(out[1], seasons[2].mean().expand(6))
    assert not torch.allclose(out[0], y[-12:-6])  # not the seasonal naive


def test_seasonal_profile_of_one_season_is_the_seasonal_naive(air):
    y = torch.as_tensor(air["y"].to_numpy()[None, -30:])  # 2 whole seasons + 6
    one = seasonal_profile(y[:, -12:], 12) + y[:, -12:].mean()
    torch.testing.assert_close(one, y[:, -12:])
    two = seasonal_profile(y, 12)  # the first 6 values are not a whole season
    seasons = y[0, 6:].reshape(2, 12)
    expected = (seasons - seasons.mean(dim=1, keepdim=True)).mean(dim=0)
    torch.testing.assert_close(two[0], expected)
    # an empty batch (no windows to score) is an empty profile, not an error
    assert seasonal_profile(y[:0], 12).shape == (0, 12)


def test_seasonal_ratios_average_each_season_over_its_mean(air):
    y = torch.as_tensor(air["y"].to_numpy()[None, -30:])  # 2 whole seasons + 6
    one = seasonal_ratios(y[:, -12:], 12) * y[:, -12:].mean()
    torch.testing.assert_close(one, y[:, -12:])  # one season: the seasonal naive
    seasons = y[0, 6:].reshape(2, 12)
    expected = (seasons / seasons.mean(dim=1, keepdim=True)).mean(dim=0)
    torch.testing.assert_close(seasonal_ratios(y, 12)[0], expected)
    # a season of twice the level swings twice as far around its mean
    doubled = torch.cat([y[:, 6:18], 2 * y[:, 6:18]], dim=1)
    torch.testing.assert_close(
        seasonal_ratios(doubled, 12), seasonal_ratios(y[:, 6:18], 12)
    )


def test_multiplicative_start_follows_the_level_of_positive_windows(air):
    # A network whose head outputs 0 forecasts its start: for a flagged window
    # above its zero c, c + (l - c) r_j; below it, the additive l + p_j.
    model = Forecaster(horizon=12, lookback=24, **TINY).fit(air)
    network = model.network_
    assert network.config.multiplicative
    torch.nn.init.zeros_(network.head.weight)
    torch.nn.init.zeros_(network.head.bias)
    x = model.network_inputs(model.context_, model.scaler_, torch.float64)
    network.double()
    with torch.no_grad():
        start = network(x)[0]
    value, zero = x[0, :, 0], x[0, 0, -2]
    assert x[0, 0, -1] == 1.0 and (value > zero).all()
    level = value[-12:].mean()
    seasons = (value - zero).reshape(2, 12)
    ratios = (seasons / seasons.mean(dim=1, keepdim=True)).mean(dim=0)
    torch.testing.assert_close(start, zero + (level - zero) * ratios)
    below = x.clone()
    below[:, :, -2] = value.max() + 1.0  # a zero above the window: not positive
    with torch.no_grad():
        additive = network(below)[0]
    torch.testing.assert_close(additive, level + seasonal_profile(value[None], 12)[0])


def test_multiplicative_patterns_only_without_a_transform(air):
    plain = Forecaster(horizon=6, **TINY).fit(air)
    logged = Forecaster(horizon=6, transform="log", **TINY).fit(air)
    assert plain.network_.config.multiplicative
    assert plain.network_.config.input_size == 2  # value and flag; not the zero
    assert plain.network_inputs(plain.context_, plain.scaler_).shape[2] == 3
    assert not logged.network_.config.multiplicative  # log: already ratios
    assert logged.network_inputs(logged.context_, logged.scaler_).shape[2] == 2


def test_additive_patterns_on_request_even_in_positive_windows(air, tmp_path):
    # Air passengers are positive throughout, where "auto" would use ratios.
    model = Forecaster(horizon=12, lookback=24, seasonal_pattern="additive", **TINY)
    network = model.fit(air).network_
    assert not network.config.multiplicative
    torch.nn.init.zeros_(network.head.weight)
    torch.nn.init.zeros_(network.head.bias)
    x = model.network_inputs(model.context_, model.scaler_, torch.float64)
    assert x.shape[2] == 2 and x[0, 0, -1] == 1.0  # value and flag; no zero
    network.double()
    with torch.no_grad():
        start = network(x)[0]
    value = x[0, :, 0]
    level = value[-12:].mean()
    torch.testing.assert_close(start, level + seasonal_profile(value[None], 12)[0])
    model.save(tmp_path / "m")
    assert not Forecaster.load(tmp_path / "m").network_.config.multiplicative


def test_unknown_seasonal_pattern_is_refused_before_training(air):
    with pytest.raises(ConfigError, match=r"seasonal_pattern 'ratio'.*'additive'"):
        Forecaster(horizon=6, seasonal_pattern="ratio", **TINY).fit(air)


def test_detect_is_the_default_and_flags_each_series(air, prices):
    data = pd.concat([air.assign(ds=np.arange(len(air))), prices])
    model = Forecaster(horizon=6, season_length=12, **TINY).fit(data)
    assert model.network_.config.level == "detect"
    flags = dict(zip(model.ids_, model.scaler_.seasonal, strict=True))
    assert flags["AirPassengers"] == 1.0
    assert sum(flags.values()) <= 2
    x = model.network_inputs(model.context_, model.scaler_)
    torch.testing.assert_close(
        x[:, :, -1],
        torch.as_tensor(model.scaler_.seasonal)
        .float()[:, None]
        .expand(-1, model.lookback_),
    )


def test_detect_flags_come_from_the_training_part_only(air):
    # The holdout of the validation window is not tested: flags depend on the
    # first len - horizon values, the same ones that fit the scaler.
    # (Of the validated training; refit_full then fits them on whole series.)
    y = air["y"].to_numpy()
    model = Forecaster(horizon=6, refit_full=False, **TINY).fit(air)
    expected = is_seasonal(np.diff(y[:-6]), 12)
    np.testing.assert_array_equal(model.scaler_.seasonal, [float(expected)])


def test_a_padded_series_seen_only_in_its_holdout_is_tested_on_its_history(air):
    # As the scaler does (scaling.training_part): nothing observed in the
    # training part, so the whole observed history is tested.
    y = air["y"].to_numpy()
    values = np.concatenate([np.full(10, np.nan), y])
    offsets = np.array([0, len(values)])
    flags = seasonal_series(values, offsets, np.array([10]), 12)
    assert flags.tolist() == [True]


def test_new_series_are_tested_on_the_history_given_to_predict(air, prices):
    model = Forecaster(horizon=6, season_length=12, **TINY).fit(
        air.assign(ds=np.arange(len(air)))
    )
    stats = model.scaler_for(model.read(prices))
    offsets = np.concatenate([[0], np.cumsum(prices.groupby("unique_id").size())])
    own = seasonal_series(prices["y"].to_numpy(), offsets, np.diff(offsets), 12)
    np.testing.assert_array_equal(stats.seasonal, own.astype(float))
    assert len(model.predict(prices)) == 5 * 6
    rows = [2, 0]  # the test of some series only, in the order asked
    np.testing.assert_array_equal(
        seasonal_series(prices["y"].to_numpy(), offsets, np.diff(offsets), 12, rows),
        own[rows],
    )
    # A known series keeps its fitted flag whatever history it is given; only
    # the new ones are tested.
    first = prices["unique_id"].iloc[0]
    stock = prices[prices["unique_id"] == first]
    assert not seasonal_series(
        stock["y"].to_numpy(), np.array([0, len(stock)]), np.array([len(stock)]), 12
    )[0]
    mixed = pd.concat([stock.assign(unique_id="AirPassengers"), prices])
    read = model.read(mixed)
    flags = dict(zip(read.ids, model.scaler_for(read).seasonal, strict=True))
    assert flags["AirPassengers"] == model.scaler_.seasonal[0] == 1.0
    expected = dict(zip(sorted(prices["unique_id"].unique()), own, strict=True))
    assert {k: v for k, v in flags.items() if k != "AirPassengers"} == expected


def test_auto_level_without_a_whole_season_drops_the_flag_channel(air):
    model = Forecaster(horizon=3, lookback=6, **TINY).fit(air)
    assert model.network_.config.level == "last"
    assert model.network_.config.input_size == 1
    assert model.scaler_.seasonal is None


def test_flags_round_trip_and_a_model_without_them_is_refused(air, tmp_path):
    model = Forecaster(horizon=6, **TINY).fit(air)
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.scaler_.seasonal, model.scaler_.seasonal)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)
    rewrite_model(
        tmp_path / "m",
        lambda config, tensors: tensors.pop("scaler.seasonal"),
        tmp_path / "broken",
    )
    with pytest.raises(ModelFileError, match="seasonal flags"):
        Forecaster.load(tmp_path / "broken")
