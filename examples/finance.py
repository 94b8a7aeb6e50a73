"""Finance: stock prices, log returns and exchange rates against the random walk.

Run: python examples/finance.py   (about 2-3 minutes on 2 CPU cores)

Prices of AAPL, IBM and MSFT (the last 750 trading days to March 2013, adjusted
close) and eight exchange rates are backtested over rolling origins. For prices the
random walk is `naive` (tomorrow = today). Besides MAE/MSE we report directional
accuracy: how often a model gets the sign of the change from the cutoff right. For
daily log returns the random walk forecasts a return of 0.

Risk: the LSTM's conformal 80 % and 95 % bands for AAPL 20 trading days ahead, step
by step, beside the random walk's own band (sigma * sqrt(h)): both widen with the
horizon. The exchange-rate backtest reports how often each model's bands held.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnncast import Forecaster, backtest
from rnncast.baselines import make_baseline
from rnncast.datasets import load_exchange_rate, load_stocks

NETWORK = {"hidden": (32,), "lookback": 30, "epochs": 30, "patience": 5}
# lstm, gru: the defaults, mixed with the Theta method; lstm+none: the network alone
MODELS = ["lstm", "lstm+none", "gru", "naive", "drift", "theta"]


def directional_accuracy(result, models: list[str]) -> pd.Series:
    """Share of forecasts whose change from the cutoff value has the right sign."""
    fc = result.forecasts
    history = result.history.set_index(["unique_id", "ds"])["y"]
    last = history.loc[list(zip(fc["unique_id"], fc["cutoff"], strict=True))].to_numpy()
    actual = np.sign(fc["y"].to_numpy() - last)
    return pd.Series(
        {m: float(np.mean(np.sign(fc[m].to_numpy() - last) == actual)) for m in models}
    )


def show(title: str, result, models: list[str]) -> None:
    board = result.leaderboard.set_index("model")
    board["direction"] = directional_accuracy(result, models)
    columns = ["mae", "mse", "mase", "direction", "fit_seconds"]
    print(f"\n{title}\n{board[columns].round(6).to_string()}")
    best = board["mase"].idxmin()
    if best in ("naive", "snaive"):
        print("=> Nothing beats the random walk here.")
    else:
        gain = 1 - board.loc[best, "mase"] / board.loc["naive", "mase"]
        print(
            f"=> Best: {best}, {gain:.1%} below the random walk's MASE "
            f"({len(result.forecasts) // result.summary['horizon']} forecasts)."
        )


def band_widths(stocks: pd.DataFrame) -> None:
    """Print how the 80 % and 95 % bands widen with the horizon (AAPL, 20 days)."""
    aapl = stocks[stocks["unique_id"] == "AAPL"]
    levels = [80, 95]
    lstm = Forecaster(
        horizon=20, intervals="conformal", validation_windows=100, seed=0, **NETWORK
    )
    band = lstm.fit(aapl).predict(level=levels)
    walk = make_baseline("naive", horizon=20).fit(aapl).predict(level=levels)
    table = pd.DataFrame(
        {
            "day": np.arange(1, 21),
            "lstm 80%": band["yhat-hi-80"] - band["yhat-lo-80"],
            "lstm 95%": band["yhat-hi-95"] - band["yhat-lo-95"],
            "random walk 80%": walk["naive-hi-80"] - walk["naive-lo-80"],
            "random walk 95%": walk["naive-hi-95"] - walk["naive-lo-95"],
        }
    ).iloc[[0, 1, 4, 9, 14, 19]]
    print(
        f"\nAAPL (last close {aapl['y'].iloc[-1]:.2f} USD): width of the bands in "
        f"USD, by trading day ahead\n{table.round(2).to_string(index=False)}"
    )


def main() -> None:
    stocks = load_stocks()
    stocks = stocks[stocks["unique_id"].isin(["AAPL", "IBM", "MSFT"])]
    stocks = stocks.groupby("unique_id").tail(750)[["unique_id", "ds", "y"]]
    prices = backtest(
        stocks, MODELS, horizon=5, n_windows=6, reference="naive", neural_params=NETWORK
    )
    show(
        "Stock prices (adjusted close), 5 trading days ahead, 6 windows", prices, MODELS
    )

    band_widths(stocks)

    returns = stocks.assign(y=np.log(stocks["y"])).copy()
    returns["y"] = returns.groupby("unique_id")["y"].diff()
    returns = returns.dropna()
    result = backtest(
        returns,
        ["lstm", "gru", "naive"],
        horizon=5,
        n_windows=6,
        reference="naive",
        neural_params=NETWORK,
    )
    fc = result.forecasts.assign(zero=0.0)
    zero_mae = float(np.mean(np.abs(fc["y"] - fc["zero"])))
    board = result.leaderboard.set_index("model")[["mae", "mse", "fit_seconds"]]
    board.loc["random walk (return 0)"] = [zero_mae, float(np.mean(fc["y"] ** 2)), 0.0]
    sign_hits = {
        m: float(np.mean(np.sign(fc[m]) == np.sign(fc["y"])))
        for m in ("lstm", "gru", "naive")
    }
    board["direction"] = pd.Series(sign_hits)
    print(f"\nDaily log returns, 5 days ahead, 6 windows\n{board.round(6).to_string()}")
    best = board["mae"].idxmin()
    print(
        "=> Nothing beats the random walk here."
        if best.startswith("random walk")
        else f"=> Lowest MAE: {best}."
    )

    rates = backtest(
        load_exchange_rate(),
        MODELS,
        horizon=10,
        n_windows=3,
        reference="naive",
        neural_params=NETWORK,
        level=[80, 95],
    )
    show("Exchange rates (8 currencies), 10 days ahead, 3 windows", rates, MODELS)
    bands = rates.leaderboard.set_index("model")[
        ["coverage_80", "coverage_95", "msis_95"]
    ]
    print(f"How often the bands held (share of actuals inside)\n{bands.round(3)}")


if __name__ == "__main__":
    main()
