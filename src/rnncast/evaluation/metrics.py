"""Forecast accuracy metrics: pure functions ``(y_true, y_pred, ...) -> float``.

Point forecasts: MSE, MAE, RMSE, MAPE, sMAPE, MASE. Intervals and quantiles:
coverage, mean width, MSIS (the M4 interval score) and the scaled pinball loss.

All take array-likes of equal shape and ignore nothing silently: NaN in the inputs
propagates to the result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rnncast.data.scaling import lagged_maes
from rnncast.exceptions import DataError
from rnncast.intervals import bound_column, level_quantiles

__all__ = [
    "METRICS",
    "coverage",
    "evaluate",
    "interval_metric_names",
    "interval_width",
    "mae",
    "mape",
    "mase",
    "mse",
    "msis",
    "pinball",
    "rmse",
    "series_scale",
    "smape",
    "step_scores",
]


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
    with np.errstate(over="ignore"):  # beyond 1e154 the true MSE is inf in float64
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
    return float(200.0 * np.mean(_smape_terms(a, b)))


def _smape_terms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r""":math:`|y_t - \hat y_t| / (|y_t| + |\hat y_t|)`, 0 where both are 0."""
    denominator = np.abs(a) + np.abs(b)
    return np.divide(
        np.abs(a - b), denominator, out=np.zeros_like(a), where=denominator != 0
    )


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
    train, m = y_train, season_length
    return _scaled(float(np.mean(np.abs(a - b))), _seasonal_scale(train, m))


def _seasonal_scale(y_train: ArrayLike, season_length: int) -> float:
    """In-sample MAE of seasonal naive, the denominator of MASE and MSIS.

    :func:`~rnncast.data.scaling.lagged_maes` at lag ``season_length``; NaN when
    the training series has a missing or infinite value.
    """
    train = np.asarray(y_train, dtype=np.float64)
    m = int(season_length)
    if m < 1 or len(train) <= m:
        raise DataError(
            f"MASE needs a training series longer than season_length={m}; it has "
            f"{len(train)} values. Use a shorter season_length."
        )
    if not np.isfinite(train).all():
        return float("nan")
    offsets = np.array([0, len(train)], dtype=np.int64)
    return float(lagged_maes(train, offsets, offsets[1:], m)[0])


def series_scale(y_train: ArrayLike, season_length: int) -> float:
    """Return the MASE and MSIS scale of one series in a panel's scores.

    Its in-sample seasonal-naive MAE, or, for a series too short for that (no
    more values than ``season_length``), its lag-1 MAE, as the ``"mase"``
    scaler does; NaN for a single value.
    """
    train = np.asarray(y_train, dtype=np.float64)
    if len(train) < 2:
        return float("nan")
    lag = season_length if len(train) > season_length else 1
    return _seasonal_scale(train, lag)


def constant_histories(train: pd.DataFrame, season_length: int) -> set[object]:
    """Series of ``train`` (``unique_id, y``) whose MASE scale is 0.

    Their MASE, MSIS and pinball are ``inf`` (or 0 for an exact forecast), so
    panel means leave them out (:func:`is_scaled_metric`).
    """
    return {
        uid
        for uid, g in train.groupby("unique_id", sort=False)
        if series_scale(g["y"].to_numpy(), season_length) == 0
    }


def _scaled(error: float, scale: float) -> float:
    return float(_scaled_rows(np.array([error]), np.array([scale]))[0])


def coverage(y_true: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    r"""Share of actuals inside their interval.

    :math:`\frac1h\sum_t [l_t \le y_t \le u_t]`.

    Examples
    --------
    >>> coverage([1, 2, 3, 4], [0, 0, 0, 0], [2, 2, 2, 2])
    0.5
    """
    y, lo = _pair(y_true, lower)
    _, hi = _pair(y_true, upper)
    return float(np.mean((lo <= y) & (y <= hi)))


def interval_width(lower: ArrayLike, upper: ArrayLike) -> float:
    r"""Mean width of the intervals, :math:`\frac1h\sum_t (u_t - l_t)`."""
    lo, hi = _pair(lower, upper)
    return float(np.mean(hi - lo))


def msis(
    y_true: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    y_train: ArrayLike,
    season_length: int = 1,
    level: float = 95,
) -> float:
    r"""Mean scaled interval score (M4 competition) of a :math:`(1-\alpha)` interval.

    .. math::
        \mathrm{MSIS} = \frac{\frac1h\sum_t (u_t - l_t)
        + \frac{2}{\alpha}(l_t - y_t)[y_t < l_t]
        + \frac{2}{\alpha}(y_t - u_t)[y_t > u_t]}
        {\frac{1}{n-m}\sum_{t=m+1}^{n} |y_t - y_{t-m}|}

    with :math:`\alpha = 1 - \mathrm{level}/100`: narrow intervals score well, and
    each miss costs :math:`2/\alpha` times its distance. The M4 competition used
    the 95 % interval (:math:`\alpha = 0.05`).

    Examples
    --------
    >>> msis([1, 5], [0, 0], [2, 2], y_train=[0, 1, 2], season_length=1, level=50)
    8.0
    """
    y, lo = _pair(y_true, lower)
    _, hi = _pair(y_true, upper)
    score = float(np.mean(_interval_scores(y, lo, hi, level)))
    return _scaled(score, _seasonal_scale(y_train, season_length))


def _interval_scores(
    y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float
) -> np.ndarray:
    r"""Interval score of each step: width plus :math:`2/\alpha` times the miss."""
    alpha = 1 - level / 100
    penalty = (2 / alpha) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
    return hi - lo + penalty


def pinball(y_true: ArrayLike, y_quantile: ArrayLike, quantile: float) -> float:
    r"""Mean pinball loss of a :math:`\tau`-quantile forecast.

    :math:`\frac1h\sum_t \max(\tau (y_t - \hat q_t), (\tau - 1)(y_t - \hat q_t))`.

    Examples
    --------
    >>> pinball([10, 10], [8, 12], quantile=0.9)
    1.0
    """
    y, q = _pair(y_true, y_quantile)
    return float(np.mean(_pinball_terms(y, q, quantile)))


def _pinball_terms(y: np.ndarray, q: np.ndarray, quantile: float) -> np.ndarray:
    r""":math:`\max(\tau e, (\tau - 1) e)` of each step, :math:`e = y - \hat q`."""
    error = y - q
    return np.maximum(quantile * error, (quantile - 1) * error)


METRICS = ("mse", "mae", "rmse", "mape", "smape", "mase")


def is_scaled_metric(name: str) -> bool:
    """Whether metric ``name`` is divided by the series' MASE scale.

    A series whose history is constant has scale 0, so these metrics are ``inf``
    for it (or 0 for an exact forecast); panel means leave such series out.
    """
    return name in ("mase", "pinball") or name.startswith("msis_")


def interval_metric_names(levels: tuple[float, ...]) -> list[str]:
    """Column names of the interval metrics :func:`evaluate` adds for ``levels``."""
    names = []
    for lv in levels:
        names += [f"coverage_{lv}", f"width_{lv}", f"msis_{lv}"]
    return [*names, "pinball"] if levels else []


def evaluate(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    train: pd.DataFrame,
    *,
    models: list[str],
    season_length: int,
    levels: tuple[float, ...] = (),
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
        Seasonal period of MASE (lag 1 for a series with no more values; see
        :func:`series_scale`).
    levels : tuple of float, optional
        Interval levels: ``forecasts`` then holds ``{model}-lo-{level}`` and
        ``{model}-hi-{level}``, and the result gains, per level, ``coverage_``,
        ``width_`` and ``msis_`` columns, and ``pinball``: the pinball loss
        averaged over the point forecast (as the median) and every bound (as its
        quantile), divided by the MASE scale.

    Returns
    -------
    DataFrame
        One row per ``(unique_id, model)`` with a column per metric in ``METRICS``
        (and :func:`interval_metric_names`).
    """
    joined = _with_actuals(forecasts, actuals)
    history = {
        uid: g["y"].to_numpy() for uid, g in train.groupby("unique_id", sort=False)
    }
    codes, uids = pd.factorize(joined["unique_id"])
    counts = np.bincount(codes)
    ordered = joined.iloc[np.argsort(codes, kind="stable")]  # series after series
    owner = np.repeat(np.arange(len(uids)), counts)
    parts, keys = [], []
    with np.errstate(over="ignore", invalid="ignore"):  # near 1e308 a metric is inf
        for steps in np.unique(counts):  # one (series, steps) table per horizon
            chosen = np.flatnonzero(counts == steps)
            rows = ordered[np.isin(owner, chosen)]
            parts.append(
                _score_table(rows, uids[chosen], models, levels, history, season_length)
            )
            keys.append(np.repeat(chosen, len(models)))
    if len(parts) == 1:
        return parts[0]
    order = np.argsort(np.concatenate(keys), kind="stable")  # series' first order
    return pd.concat(parts, ignore_index=True).iloc[order].reset_index(drop=True)


def step_scores(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    train: pd.DataFrame,
    *,
    models: list[str],
    season_length: int,
    levels: tuple[float, ...] = (),
) -> pd.DataFrame:
    r"""Accuracy of each forecast step: one row per model and step, over series.

    Step :math:`k` is each series' :math:`k`-th forecast value (1 = the first
    after its last observation). Over the :math:`N` series,

    .. math::
        \mathrm{MAE}_k = \frac1N \sum_i |e_{i,k}|,\quad
        \mathrm{sMAPE}_k = \frac{200}{N} \sum_i
            \frac{|e_{i,k}|}{|y_{i,k}| + |\hat y_{i,k}|},\quad
        \mathrm{MASE}_k = \frac1N \sum_i \frac{|e_{i,k}|}{d_i},

    with :math:`e_{i,k} = y_{i,k} - \hat y_{i,k}` and :math:`d_i` the in-sample
    seasonal-naive MAE of ``train`` (MASE's scale; series with a constant history,
    :math:`d_i = 0`, leave the MASE mean), plus ``coverage_{level}``,
    the share of series whose step-:math:`k` actual lies inside the interval.
    When every series is forecast over the same horizon, the mean of
    :math:`\mathrm{MASE}_k` over the steps is the mean of :func:`evaluate`'s MASE
    over series (and likewise MAE and sMAPE): the table shows where in the
    horizon a model gains or loses it.

    Parameters are those of :func:`evaluate`.

    Returns
    -------
    DataFrame
        ``model, step, mae, smape, mase`` and ``coverage_{level}`` per level.
    """
    joined = _with_actuals(forecasts, actuals)
    joined = joined.sort_values("ds", kind="stable")
    step = joined.groupby("unique_id", sort=False).cumcount().to_numpy() + 1
    scales = {
        uid: series_scale(g["y"].to_numpy(), season_length)
        for uid, g in train.groupby("unique_id", sort=False)
    }
    scale = joined["unique_id"].map(scales).to_numpy(dtype=np.float64)
    y = joined["y"].to_numpy(dtype=np.float64)
    parts = []
    with np.errstate(over="ignore", invalid="ignore"):
        for model in models:
            yhat = joined[model].to_numpy(dtype=np.float64)
            absolute = np.abs(y - yhat)
            columns = {
                "model": model,
                "step": step,
                "mae": absolute,
                "smape": 200.0 * _smape_terms(y, yhat),
                "mase": np.where(scale == 0, np.nan, _scaled_rows(absolute, scale)),
            }
            for lv in levels:
                lo = joined[bound_column(model, "lo", lv)].to_numpy(dtype=np.float64)
                hi = joined[bound_column(model, "hi", lv)].to_numpy(dtype=np.float64)
                columns[f"coverage_{lv}"] = ((lo <= y) & (y <= hi)).astype(float)
            parts.append(pd.DataFrame(columns))
    rows = pd.concat(parts, ignore_index=True)
    return rows.groupby(["model", "step"], sort=False).mean().reset_index()


def _with_actuals(forecasts: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """``forecasts`` with the column ``y`` of ``actuals``; every row must have one."""
    joined = forecasts.merge(actuals, on=["unique_id", "ds"], how="left")
    if joined["y"].isna().any():
        raise DataError(
            "some forecast timestamps have no actual value to score against."
        )
    return joined


def _score_table(
    joined: pd.DataFrame,
    uids: pd.Index,
    models: list[str],
    levels: tuple[float, ...],
    history: dict[object, np.ndarray],
    season_length: int,
) -> pd.DataFrame:
    """Score series of equal horizon, all at once: one row per series and model.

    Each metric is computed on (series, horizon) arrays, row by row with the same
    NumPy reductions (and the same element formulas) as the functions above, so
    the numbers are theirs.
    """
    n = len(uids)

    def table(column: str) -> np.ndarray:
        return joined[column].to_numpy(dtype=np.float64).reshape(n, -1)

    y = table("y")
    scale = np.array([series_scale(history[uid], season_length) for uid in uids])
    columns: dict[str, list[np.ndarray]] = {}
    for model in models:
        yhat = table(model)
        scores = _point_scores(y, yhat, scale)
        if levels:
            bounds = {
                (side, lv): table(bound_column(model, side, lv))
                for lv in levels
                for side in ("lo", "hi")
            }
            scores |= _interval_table(y, yhat, bounds, levels, scale)
        for name, values in scores.items():
            columns.setdefault(name, []).append(values)
    frame = {  # lists, so that pandas infers the column types as from rows
        "unique_id": np.repeat(uids.to_numpy(dtype=object), len(models)).tolist(),
        "model": models * n,
    }
    for name, per_model in columns.items():
        frame[name] = np.column_stack(per_model).ravel()  # series-major, as rows
    return pd.DataFrame(frame)


def _point_scores(
    y: np.ndarray, yhat: np.ndarray, scale: np.ndarray
) -> dict[str, np.ndarray]:
    """Score each row of (series, horizon) arrays by every metric of ``METRICS``."""
    error = y - yhat
    squared = np.mean(error**2, axis=1)
    absolute = np.mean(np.abs(error), axis=1)
    nonzero = y != 0
    relative = np.divide(np.abs(error), np.abs(y), out=np.zeros_like(y), where=nonzero)
    percentage = 100.0 * np.mean(relative, axis=1)
    partly = ~nonzero.all(axis=1)  # zero actuals leave the mean: row by row
    percentage[partly] = [
        mape(a, b) for a, b in zip(y[partly], yhat[partly], strict=True)
    ]
    return {
        "mse": squared,
        "mae": absolute,
        "rmse": np.sqrt(squared),
        "mape": percentage,
        "smape": 200.0 * np.mean(_smape_terms(y, yhat), axis=1),
        "mase": _scaled_rows(absolute, scale),
    }


def _interval_table(
    y: np.ndarray,
    yhat: np.ndarray,
    bounds: dict[tuple[str, float], np.ndarray],
    levels: tuple[float, ...],
    scale: np.ndarray,
) -> dict[str, np.ndarray]:
    """Score each row of (series, horizon) arrays by the interval metrics."""

    def pinball_rows(q: np.ndarray, tau: float) -> np.ndarray:
        return np.mean(_pinball_terms(y, q, tau), axis=1)

    scores: dict[str, np.ndarray] = {}
    losses = [pinball_rows(yhat, 0.5)]
    lower_q, upper_q = level_quantiles(levels)
    for lv, q_lo, q_hi in zip(levels, lower_q, upper_q, strict=True):
        lo, hi = bounds["lo", lv], bounds["hi", lv]
        interval = np.mean(_interval_scores(y, lo, hi, lv), axis=1)
        scores[f"coverage_{lv}"] = np.mean((lo <= y) & (y <= hi), axis=1)
        scores[f"width_{lv}"] = np.mean(hi - lo, axis=1)
        scores[f"msis_{lv}"] = _scaled_rows(interval, scale)
        losses += [pinball_rows(lo, q_lo), pinball_rows(hi, q_hi)]
    scores["pinball"] = _scaled_rows(np.mean(np.column_stack(losses), axis=1), scale)
    return scores


def _scaled_rows(error: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """:func:`_scaled` element by element."""
    zero = scale == 0
    out = np.divide(error, scale, out=np.zeros_like(error), where=~zero)
    out[zero & (error != 0)] = np.inf
    return out
