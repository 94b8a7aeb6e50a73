"""Judging forecasts: metrics, rolling-origin backtests, tuning, reports, plots.

* ``metrics``: MSE, MAE, RMSE, MAPE, sMAPE, MASE, coverage, width, MSIS, pinball;
  ``evaluate`` and ``step_scores`` for frames;
* ``backtest``: every model refitted at rolling cutoffs, with a leaderboard;
* ``tune``: the configuration with the lowest validation MASE;
* ``report``: one self-contained HTML file of a backtest;
* ``plotting``: the PNG figures of forecasts, backtests, gates and gradients.
"""
