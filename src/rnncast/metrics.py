"""Point-forecast accuracy metrics: pure functions ``(y_true, y_pred, ...) -> float``.

All take array-likes of equal shape and ignore nothing silently: NaN in the inputs
propagates to the result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rnncast.exceptions import DataError

__all__ = ["METRICS", "evaluate", "mae", "mape", "mase", "mse", "rmse", "smape"]


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=np.float64)
    b = np.asarray(y_pred, dtype=np.float64)
    if a.shape != b.shape:
        raise DataError(f"y_true has shape {a.shape} but y_pred has shape {b.shape}.")
    if a.size == 0:
        raise DataError("cannot score an empty forecast.")
    return a, b


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Mean squared error, :math:`\frac1n\sum_t (y_t - \hat y_t)^2`.

    Examples
    --------
    >>> mse([1, 2, 3], [1, 2, 5])
    1.3333333333333333
    """
    a, b = _pair(y_true, y_pred)
    return float(np.mean((a - b) ** 2))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Mean absolute error, :math:`\frac1n\sum_t |y_t - \hat y_t|`."""
    a, b = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Root mean squared error, :math:`\sqrt{\mathrm{MSE}}`."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Mean absolute percentage error in percent.

    :math:`\frac{100}{|T|}\sum_{t \in T} |y_t - \hat y_t| / |y_t|` over
    :math:`T = \{t : y_t \ne 0\}`.

    Notes
    -----
    Zero actuals have no percentage error and are left out of the mean; if every
    actual is zero the result is NaN (undefined), never a silent 0 or inf.
    """
    a, b = _pair(y_true, y_pred)
    nonzero = a != 0
    if not nonzero.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs(a[nonzero] - b[nonzero]) / np.abs(a[nonzero])))


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Symmetric MAPE in percent (0 to 200), as in the M3 and M4 competitions.

    :math:`\frac{200}{n}\sum_t |y_t - \hat y_t| / (|y_t| + |\hat y_t|)`.

    Notes
    -----
    A term whose actual and forecast are both zero is a perfect forecast and counts 0.
    """
    a, b = _pair(y_true, y_pred)
    denominator = np.abs(a) + np.abs(b)
    terms = np.divide(
        np.abs(a - b), denominator, out=np.zeros_like(a), where=denominator != 0
    )
    return float(200.0 * np.mean(terms))


def mase(
    y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike, season_length: int = 1
) -> float:
    r"""Mean absolute scaled error (Hyndman & Koehler, 2006), as in the M4 competition.

    :math:`\mathrm{MASE} = \frac{\frac1h\sum_t |y_t - \hat y_t|}
    {\frac{1}{n-m}\sum_{t=m+1}^{n} |y_t - y_{t-m}|}`: the forecast's MAE divided by
    the in-sample MAE of the seasonal naive forecast with period :math:`m`
    (``season_length``) on the training series ``y_train`` of length :math:`n`.
    Below 1 the forecast beats in-sample seasonal naive.

    Notes
    -----
    Needs ``len(y_train) > season_length``. If the scale is zero (a training series
    that repeats its season exactly) the result is ``inf``, or 0 when the forecast
    is also exact.

    Examples
    --------
    >>> mase([3, 4], [3, 5], y_train=[1, 2, 3], season_length=1)
    0.5
    """
    a, b = _pair(y_true, y_pred)
    train = np.asarray(y_train, dtype=np.float64)
    m = int(season_length)
    if m < 1 or len(train) <= m:
        raise DataError(
            f"MASE needs a training series longer than season_length={m}; it has "
            f"{len(train)} values. Use a shorter season_length."
        )
    scale = float(np.mean(np.abs(train[m:] - train[:-m])))
    error = float(np.mean(np.abs(a - b)))
    if scale == 0:
        return 0.0 if error == 0 else float("inf")
    return error / scale


METRICS = ("mse", "mae", "rmse", "mape", "smape", "mase")


def evaluate(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    train: pd.DataFrame,
    *,
    models: list[str],
    season_length: int,
) -> pd.DataFrame:
    """Score forecast columns against actuals, per series.

    Parameters
    ----------
    forecasts : DataFrame
        ``unique_id, ds`` and one column per model in ``models``.
    actuals : DataFrame
        ``unique_id, ds, y`` covering the forecast timestamps.
    train : DataFrame
        ``unique_id, ds, y``: each series' history, the scale of MASE.
    models : list of str
        Forecast columns to score.
    season_length : int
        Seasonal period of MASE.

    Returns
    -------
    DataFrame
        One row per ``(unique_id, model)`` with a column per metric in ``METRICS``.
    """
    joined = forecasts.merge(actuals, on=["unique_id", "ds"], how="left")
    if joined["y"].isna().any():
        raise DataError(
            "some forecast timestamps have no actual value to score against."
        )
    history = {
        uid: g["y"].to_numpy() for uid, g in train.groupby("unique_id", sort=False)
    }
    rows = []
    for uid, group in joined.groupby("unique_id", sort=False):
        y = group["y"].to_numpy()
        for model in models:
            yhat = group[model].to_numpy()
            rows.append(
                {
                    "unique_id": uid,
                    "model": model,
                    "mse": mse(y, yhat),
                    "mae": mae(y, yhat),
                    "rmse": rmse(y, yhat),
                    "mape": mape(y, yhat),
                    "smape": smape(y, yhat),
                    "mase": mase(y, yhat, history[uid], season_length),
                }
            )
    return pd.DataFrame(rows)
