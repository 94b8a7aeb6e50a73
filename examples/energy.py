"""Energy: one global network over many series against per-series ARIMA and ETS.

Run: python examples/energy.py   (about 2-3 minutes on 2 CPU cores)

The seven hourly series of the ETTh1 transformer (six loads and the oil temperature),
the last 30 days, 24 hours ahead from 3 cutoffs. The networks are global: one model
is trained on windows of all seven series, its forecast mixed with the Theta method's
(the default ``combine="theta"``; ``lstm+none`` is the network alone). ARIMA, ETS and
Theta are fitted series by
series with a daily season of 24 hours (and fall back to seasonal naive when a fit
runs past 8 seconds: auto-ARIMA with a 24-hour season is slow).
"""

from __future__ import annotations

from rnncast import backtest
from rnncast.datasets import load_ett


def main() -> None:
    data = load_ett().groupby("unique_id").tail(30 * 24)
    result = backtest(
        data,
        ["lstm", "lstm+none", "gru", "arima", "ets", "theta", "snaive"],
        horizon=24,
        n_windows=3,
        season_length=24,
        time_limit=8,
        neural_params={"lookback": 48, "hidden": (32,), "epochs": 25, "patience": 5},
    )
    board = result.leaderboard.set_index("model")
    print("ETTh1, 7 hourly series, 24 hours ahead, 3 windows")
    print(
        board[["mae", "rmse", "smape", "mase", "owa", "fit_seconds", "fallbacks"]]
        .round(3)
        .to_string()
    )
    per_series = result.metrics.pivot_table(
        index="unique_id", columns="model", values="mase"
    )
    print("\nMASE per series (mean over windows)")
    print(per_series[list(board.index)].round(3).to_string())
    for row in result.fallbacks.itertuples():
        print(f"fallback: {row.model} on {row.unique_id} ({row.reason})")


if __name__ == "__main__":
    main()
