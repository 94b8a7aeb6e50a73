"""Several seasons at once: a day and a week of hourly data, a year of days."""

import argparse

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, TINY_ARGS
from rnncast import ConfigError, Forecaster
from rnncast.baselines import make_baseline
from rnncast.classical import fourier_pattern, theta_forecast
from rnncast.cli import main
from rnncast.cli.arguments import seasons
from rnncast.data.seasonality import kept_seasons
from rnncast.data.series import season_length_from_freq, seasons_from_freq
from rnncast.evaluation.backtest import backtest
from rnncast.forecaster.plan import make_plan, member_lookbacks
from rnncast.options import ForecasterParams

WEEK = 168


def hourly_panel(n_series=4, weeks=8, weekly=True, seed=0) -> pd.DataFrame:
    """Hourly series with a daily pattern and, if ``weekly``, quiet weekends."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks * WEEK)
    frames = []
    for i in range(n_series):
        daily = 1 + 0.4 * np.sin(2 * np.pi * (t + 3 * i) / 24)
        weekend = np.where((t // 24) % 7 >= 5, 0.5, 1.0) if weekly else 1.0
        y = (100 + 10 * i) * daily * weekend * (1 + 0.03 * rng.normal(size=len(t)))
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2024-01-01", periods=len(t), freq="h"),
                    "y": y,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def flat(frame: pd.DataFrame):
    lengths = frame.groupby("unique_id").size().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return frame["y"].to_numpy(dtype=float), offsets, lengths


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("h", (24, 168)),
        ("2h", (12, 84)),
        ("30min", (48, 336)),
        ("15min", (96, 672)),
        ("5min", (288, 2016)),
        ("D", (7, 365.25)),
        ("W", (365.25 / 7,)),
        ("MS", (12,)),
        ("QS", (4,)),
        ("5h", (1,)),  # a day is not a whole number of 5-hour steps
        (1, (1,)),
    ],
)
def test_a_frequency_has_its_usual_periods(freq, expected):
    assert seasons_from_freq(freq) == pytest.approx(expected)
    assert season_length_from_freq(freq) == round(expected[0])  # unchanged: W 52


def test_the_week_is_kept_where_the_panel_shows_it():
    both = (24, WEEK)
    assert kept_seasons(*flat(hourly_panel(weekly=True)), both) == both
    assert kept_seasons(*flat(hourly_panel(weekly=False)), both) == (24,)
    # three weeks are too few to test a weekly season: it is dropped
    short = hourly_panel(weeks=2, weekly=True)
    assert kept_seasons(*flat(short), both) == (24,)


def test_the_default_lookback_covers_a_week_up_to_the_limit():
    params = ForecasterParams(horizon=48)
    assert member_lookbacks(params, (24, 168)) == [168]
    assert member_lookbacks(params, (48, 336)) == [336]
    assert member_lookbacks(params, (96, 672)) == [192]  # 2 days; a week is past it
    assert member_lookbacks(params, (24,)) == [96]  # one season: as before
    assert member_lookbacks(params, 24) == [96]
    plan = make_plan(ForecasterParams(horizon=48, season_length=24), "h", 3)
    assert plan.seasons == (24,) and plan.lookback == 96


def test_season_length_takes_increasing_periods():
    assert Forecaster(horizon=4, season_length=(7, 365.25)).checked_params()
    for bad in [(168, 24), (1, 24), (24, 24), "24", (), (24, True)]:
        with pytest.raises(ConfigError, match="season_length"):
            Forecaster(horizon=4, season_length=bad).checked_params()
    assert seasons("24") == 24
    assert seasons("24,168") == (24, 168)
    assert seasons("7,365.25") == (7, 365.25)
    with pytest.raises(argparse.ArgumentTypeError):
        seasons("24,week")


def test_theta_adjusts_for_each_season():
    panel = hourly_panel(n_series=1, weeks=9)
    y = panel["y"].to_numpy()
    history, future = y[:-48], y[-48:]
    one = theta_forecast(history, 48, 24)
    both = theta_forecast(history, 48, (24, WEEK))
    error = lambda f: np.abs(f - future).mean()  # noqa: E731
    assert error(both) < 0.5 * error(one)  # the weekend is forecast
    # one period: the same forecast as the single season
    np.testing.assert_array_equal(theta_forecast(history, 48, (24,)), one)


def test_a_period_of_a_non_integer_length_is_a_fourier_pattern():
    period = 365.25 / 7
    t = np.arange(52 * 6)
    seasonal = (
        1 + 0.2 * np.sin(2 * np.pi * t / period) + 0.1 * np.cos(4 * np.pi * t / period)
    )
    y = 50 * seasonal
    pattern = fourier_pattern(y, period, multiplicative=True, length=len(t) + 52)
    inner = slice(30, len(t) - 30)  # the moving average's ends are undefined
    np.testing.assert_allclose(pattern[inner], seasonal[inner], atol=0.01)
    ahead = 1 + 0.2 * np.sin(2 * np.pi * (len(t) + np.arange(52)) / period)
    ahead += 0.1 * np.cos(4 * np.pi * (len(t) + np.arange(52)) / period)
    np.testing.assert_allclose(pattern[len(t) :], ahead, atol=0.01)
    forecast = theta_forecast(y, 52, (period,))
    np.testing.assert_allclose(forecast, 50 * ahead, rtol=0.02)


def test_a_fit_keeps_the_week_and_saves_it(tmp_path):
    panel = hourly_panel()
    model = Forecaster(horizon=24, **TINY, seed=0).fit(panel)
    assert model.seasons_ == (24, WEEK)
    assert model.season_length_ == 24 and model.lookback_ == WEEK
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    assert loaded.seasons_ == (24, WEEK)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    new = panel.assign(unique_id=panel["unique_id"] + "-new")  # classical mix redone
    pd.testing.assert_frame_equal(
        loaded.predict(new), model.predict(new), check_exact=False, rtol=1e-6
    )
    daily = Forecaster(horizon=24, **TINY, seed=0).fit(hourly_panel(weekly=False))
    assert daily.seasons_ == (24,) and daily.lookback_ == 48


def test_mstl_forecasts_the_weekend():
    panel = hourly_panel(n_series=2, weeks=9)
    train = panel.groupby("unique_id").head(8 * WEEK)
    future = panel.groupby("unique_id").tail(WEEK)["y"].to_numpy()
    mstl = make_baseline("mstl", horizon=WEEK, freq="h").fit(train).predict()
    ets = make_baseline("ets", horizon=WEEK, freq="h").fit(train).predict()
    error = lambda f, col: np.abs(f[col].to_numpy() - future).mean()  # noqa: E731
    assert error(mstl, "mstl") < 0.5 * error(ets, "ets")
    # too short for a season: the non-seasonal AutoETS
    short = train.groupby("unique_id").head(40)
    predicted = make_baseline("mstl", horizon=6, freq="h").fit(short).predict()
    assert predicted["mstl"].notna().all() and len(predicted) == 12


def test_a_backtest_scores_with_the_first_season_and_fits_with_all():
    panel = hourly_panel(n_series=2, weeks=6)
    result = backtest(
        panel,
        ["snaive", Forecaster(**TINY, seed=0)],
        horizon=24,
        n_windows=1,
        season_length=(24, WEEK),
    )
    assert result.season_length == 24
    assert set(result.leaderboard["model"]) == {"snaive", "lstm"}
    with pytest.raises(ConfigError, match="season_length"):
        backtest(panel, ["snaive"], horizon=24, season_length=(WEEK, 24))


def test_the_command_line_takes_and_reports_several_seasons(
    write_csv, tmp_path, capsys
):
    data = write_csv(hourly_panel(n_series=2, weeks=6))
    common = ["forecast", str(data), "--horizon", "6", *TINY_ARGS]
    out = str(tmp_path / "f.csv")
    assert main([*common, "-o", out]) == 0
    assert "seasons 24 and 168" in capsys.readouterr().err
    assert main([*common, "--season-length", "24", "-o", out]) == 0
    assert "seasons 24:" in capsys.readouterr().err
    assert main([*common, "--season-length", "168,24", "-o", out]) == 1
    assert "shortest first" in capsys.readouterr().err
