"""Weekly data: the year as 52.18 weeks (0.3.0's default) against 52 (0.2.0's).

Usage: python benchmarks/weekly_season.py

A backtest of the default Forecaster on the bundled ILI series (966 weeks), six
windows of 12 weeks, seed 0, with the default season (the Theta member adjusts
for a year of 52.18 weeks with Fourier terms) and with ``season_length=52``
(seasonal indices of 52 weeks, which drift a day and a quarter a year). The
network's own season (scale, window start) is 52 weeks in both.
"""

import time

from rnncast import Forecaster
from rnncast.datasets import load_ili
from rnncast.evaluation.backtest import backtest


def main() -> None:
    data = load_ili()
    for label, extra in (("52.18 (default)", {}), ("52", {"season_length": 52})):
        start = time.perf_counter()
        model = Forecaster(seed=0, **extra)
        result = backtest(data, [model], horizon=12, n_windows=6, step=12)
        row = result.leaderboard.set_index("model").loc["lstm"]
        seconds = time.perf_counter() - start
        print(
            f"{label}: MASE {row['mase']:.3f}, sMAPE {row['smape']:.2f} %, "
            f"{seconds:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
