"""Transport: hourly traffic with the weather and the holidays as covariates.

Run: python examples/traffic.py   (about ten minutes on 2 CPU cores)

The westbound I-94 traffic volume (shipped as ``traffic_weather``), the last eight
weeks, 24 hours ahead from 7 cutoffs a day apart (every weekday once). The same
network three times: on the traffic alone, with calendar inputs and US holidays,
and with those and the weather of the horizon (temperature, rain, clouds,
rain/snow/fog flags; observed weather standing in for a perfect forecast). Each
model gets the weather of the horizon from the data at each cutoff, and no value
from after it; the leaderboard's ``covariates`` column says what each saw.
"""

from __future__ import annotations

from rnncast import Forecaster, backtest
from rnncast.datasets import load_traffic_weather

WEATHER = ["temp", "rain_1h", "clouds_all", "rain", "snow", "fog"]


def main() -> None:
    data = load_traffic_weather().tail(8 * 7 * 24)
    calendar = {"calendar": True, "holidays": "US"}
    result = backtest(
        data,
        [
            Forecaster(alias="net"),
            Forecaster(alias="net+calendar", **calendar),
            Forecaster(alias="net+weather", futr_exog=WEATHER, **calendar),
            "snaive",
        ],
        horizon=24,
        n_windows=7,
        step=24,
        season_length=24,
        fill="interpolate",
        level=[80],
    )
    board = result.leaderboard.set_index("model")
    print("I-94 traffic, last 8 weeks, 24 hours ahead, 7 daily cutoffs")
    columns = ["mae", "smape", "mase", "coverage_80", "fit_seconds", "covariates"]
    print(board[columns].round(3).to_string())


if __name__ == "__main__":
    main()
