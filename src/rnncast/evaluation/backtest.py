"""Rolling-origin backtests of recurrent and baseline models, with a leaderboard.

For ``n_windows`` forecast origins (cutoffs) spaced ``step`` values apart and ending
``horizon`` values before the end of each series, every model is trained on each
series up to the cutoff only, forecasts the next ``horizon`` values, and is scored
against them. Nothing after a cutoff reaches a model or its scalers: the training data
of a window is cut before it is handed over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rnncast.baselines.base import Baseline
from rnncast.checks import require_positive_int
from rnncast.checks import seasons as seasons_check
from rnncast.data.covariates import attach
from rnncast.data.frame import validate_frame
from rnncast.data.inputs import to_long_frame
from rnncast.data.seasonality import first_season
from rnncast.data.series import (
    Freq,
    season_length_from_freq,
)
from rnncast.distributed.engines import Engine, LocalEngine, resolve_engine
from rnncast.evaluation.cutoffs import (
    covariate_names,
    covariates_seen,
    cutoff_lengths,
    future_covariates,
    future_values,
)
from rnncast.evaluation.entries import NEURAL_MODELS, BacktestSettings, model_entries
from rnncast.evaluation.metrics import (
    METRICS,
    constant_histories,
    evaluate,
    interval_metric_names,
    is_scaled_metric,
    step_scores,
)
from rnncast.evaluation.runs import (
    ModelRun,
    WindowCut,
    WindowOutput,
    merged,
    run_model,
    sharded,
)
from rnncast.exceptions import ConfigError
from rnncast.intervals import Levels, bound_column, check_levels
from rnncast.protocol import ForecastingModel
from rnncast.training import EpochRecord

__all__ = [
    "NEURAL_MODELS",
    "BacktestResult",
    "backtest",
    "mean_scores",
    "metric_totals",
]


@dataclass(frozen=True)
class BacktestResult:
    """Tidy frames of a backtest.

    Attributes
    ----------
    forecasts : DataFrame
        ``unique_id, ds, cutoff, y`` and one column per model.
    metrics : DataFrame
        ``unique_id, cutoff, model``, one column per metric in ``METRICS``, and
        ``constant_history``: the series' history up to the cutoff is constant
        (MASE scale 0), so its scaled metrics are ``inf`` (0 for an exact
        forecast) and the leaderboard's means leave them out.
    leaderboard : DataFrame
        One row per model: each metric's mean over series and windows, ``owa``
        relative to the reference model, ``fit_seconds``, ``predict_seconds`` and
        ``fallbacks`` (series-windows that fell back to seasonal naive); best first.
    fallbacks : DataFrame
        ``model, cutoff, unique_id, reason`` for every fallback.
    history : DataFrame
        The validated input data, ``unique_id, ds, y``.
    season_length : int
        The seasonal period used (MASE, seasonal naive, statistical models).
    summary : dict
        The data: ``series``, ``values``, ``min_length``, ``median_length``,
        ``max_length``, ``freq``, ``season_length``, ``filled`` (values filled by
        the ``fill`` policy), ``windows``, ``horizon``, ``levels`` and
        ``constant_histories`` (series-windows whose history is constant: MASE
        scale 0, left out of the leaderboard's MASE, MSIS and pinball means).
    training : dict
        Per network: one list of :class:`~rnncast.training.EpochRecord` per fit.
    steps : DataFrame
        Accuracy by horizon step, ``model, step, mae, smape, mase`` (and
        ``coverage_{level}``): :func:`~rnncast.evaluation.metrics.step_scores` of each
        window, averaged over windows. The mean over steps of a model's ``mase``
        is its leaderboard MASE.
    """

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    leaderboard: pd.DataFrame
    fallbacks: pd.DataFrame
    history: pd.DataFrame = field(repr=False)
    season_length: int = 1
    summary: dict[str, Any] = field(default_factory=dict)
    training: dict[str, list[list[EpochRecord]]] = field(
        default_factory=dict, repr=False
    )
    steps: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def backtest(
    data: Any,
    models: Sequence[str | ForecastingModel],
    *,
    horizon: int,
    n_windows: int = 3,
    step: int | None = None,
    refit: bool = True,
    season_length: int | Sequence[float] | None = None,
    freq: Freq | None = None,
    fill: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    reference: str = "snaive",
    sort_by: str = "mase",
    seed: int = 0,
    neural_params: dict[str, Any] | None = None,
    time_limit: float | None = 60.0,
    n_jobs: int | None = None,
    level: float | Sequence[float] | None = None,
    baseline_intervals: str = "model",
    conformal_errors: str = "signed",
    conformal_unit: str = "recent",
    on_step: Callable[[str, int], None] | None = None,
    static_df: Any = None,
    engine: str | Engine | None = None,
) -> BacktestResult:
    """Backtest ``models`` on ``data`` over rolling forecast origins.

    Parameters
    ----------
    data : DataFrame, Series, ndarray or path
        Long frame ``unique_id, ds, y`` or one series.
    models : sequence of str or model objects
        Names: ``"lstm"``, ``"gru"``, ``"rnn"`` (the defaults: the network mixed
        with the Theta method), the same with another ``combine``
        (``"lstm+theta+damped"``..., and ``"lstm+none"``, the network alone, to
        see side by side what the mix changes) and the baselines ``"naive"``,
        ``"snaive"``, ``"drift"``, ``"arima"``, ``"ets"``, ``"theta"``,
        ``"prophet"``; or models (:class:`~rnncast.Forecaster`, a baseline, any
        :class:`~rnncast.protocol.ForecastingModel`), each with its own
        parameters: a copy is fitted at every cutoff, its unset ``horizon``,
        ``season_length`` and ``freq`` set to the backtest's, and, with ``level``,
        a Forecaster without ``intervals`` gets conformal ones. Each goes by its
        ``name`` (a Forecaster's ``alias``, else its cell and mix), extended with
        its parameters where two would share one. The ``reference`` model is
        added (by name) if missing.
    horizon : int
        Steps forecast from each cutoff.
    n_windows : int, default 3
        Number of cutoffs; the last one is ``horizon`` values before each series'
        end.
    step : int, optional
        Values between consecutive cutoffs; default ``horizon``.
    refit : bool, default True
        Refit the models at every cutoff. With False each is fitted once on the
        first window's training data and then forecasts later windows from the
        longer history (``predict`` with data; a local baseline re-estimates
        itself on it there, so its time counts as predict time).
    season_length : int or sequence of float, optional
        Seasonal period for MASE, seasonal naive and the statistical models
        (several, such as ``(24, 168)``: the first, rounded, for those, and all
        of them for rnncast's networks); inferred from the frequency if
        omitted, where rnncast's networks keep the frequency's periods that
        each training part shows.
    fill : {"interpolate", "ffill", "drop-leading"}, optional
        Policy for missing values, applied once to the whole input.
    id_col, time_col, target_col : str
        Column names of ``data``.
    reference : str, default "snaive"
        Model that OWA is relative to.
    sort_by : str, default "mase"
        Leaderboard order (ascending): a metric name or ``"owa"``.
    seed : int
        Seed of the networks.
    neural_params : dict, optional
        Extra :class:`~rnncast.Forecaster` parameters for the networks given by
        name (e.g. ``{"hidden": (64,), "epochs": 50}``).
    time_limit, n_jobs
        Per-series time limit and worker processes of the local baselines.
    level : float or sequence of float, optional
        Prediction interval levels in percent, e.g. ``[80, 95]``. Networks use
        conformal intervals unless ``neural_params`` sets ``intervals=``; the
        baselines their own model-based intervals. Adds the bounds to
        ``forecasts`` and coverage, width, MSIS and pinball loss to ``metrics``
        and the leaderboard.
    baseline_intervals : {"model", "conformal"}, default "model"
        The baselines' own intervals, or split-conformal ones built like the
        networks' (see :class:`~rnncast.baselines.Baseline`), to compare all
        models on equal terms.
    conformal_errors : {"signed", "absolute"}, default "signed"
        The conformal intervals' errors, for the networks (unless
        ``neural_params`` sets it) and the conformal baselines: each tail from the
        signed errors, or symmetric from the absolute ones (see
        :class:`~rnncast.Forecaster`).
    conformal_unit : {"recent", "seasonal"}, default "recent"
        The conformal intervals' per-series unit, for the networks (unless
        ``neural_params`` sets it) and the conformal baselines (see
        :class:`~rnncast.Forecaster`).
    on_step : callable, optional
        Called as ``on_step(model, window)`` before each fit, for progress.
    static_df : DataFrame, optional
        Static covariates, one row per series, for models with ``stat_exog``
        (else read from ``data``).
    engine : "local", "ray" or an Engine, optional
        Where the fits run (:mod:`rnncast.distributed`): in this process (the
        default), or each model at each cutoff as a task on a Ray cluster, a
        baseline's split further into shards of whole series. The results are
        those of one process; the leaderboard is computed at the end.

    Covariates: the columns the models read (``futr_exog``, ``hist_exog``,
    ``stat_exog``) are taken from ``data``. At each cutoff a model is fitted on
    the values up to it, covariates included, and forecasts with the
    future-known covariates of the horizon from ``data`` (``futr_df``); past
    covariates after the cutoff never reach it.
    """
    n_windows = require_positive_int("n_windows", n_windows)
    horizon = require_positive_int("horizon", horizon)
    step = horizon if step is None else require_positive_int("step", step)
    if sort_by not in (*METRICS, "owa"):
        raise ConfigError(
            f"unknown metric {sort_by!r}; choose one of {(*METRICS, 'owa')}."
        )
    levels = check_levels(level)
    frame = to_long_frame(data, id_col=id_col, time_col=time_col, target_col=target_col)
    series = validate_frame(frame, freq=freq, fill=fill)  # type: ignore[arg-type]
    seasons_check("season_length", season_length)
    if season_length is None:
        m = season_length_from_freq(series.freq)
    else:
        m = first_season(season_length)
    cut = cutoff_lengths(series, horizon, n_windows, step)
    settings = BacktestSettings(
        horizon,
        m,
        season_length,
        series.freq,
        seed,
        neural_params or {},
        time_limit,
        n_jobs,
        levels,
        baseline_intervals,
        {"conformal_errors": conformal_errors, "conformal_unit": conformal_unit},
    )
    entries = model_entries(models, reference, settings)
    names = list(entries)
    futr, hist, stat = covariate_names(entries.values())
    if futr or hist or stat:
        frame = to_long_frame(
            data,
            id_col=id_col,
            time_col=time_col,
            target_col=target_col,
            keep=[*futr, *hist, *stat],
        )
        series = attach(series, frame, [*futr, *hist], stat, static_df)

    forecasts, metric_parts, fallback_rows = [], [], []
    step_parts: list[pd.DataFrame] = []
    seconds = {name: [0.0, 0.0] for name in names}
    training: dict[str, list[list[EpochRecord]]] = {}
    befores = [series.head(cut[:, w]) for w in range(n_windows)]
    cuts = [
        WindowCut(
            w,
            before.to_frame(),
            future_covariates(series, before, horizon, futr),
            cut[:, w],
        )
        for w, before in enumerate(befores)
    ]
    outputs = _run_all(entries, cuts, refit, levels, resolve_engine(engine), on_step)
    for w, before in enumerate(befores):
        train = cuts[w].train
        actual = future_values(series, before, horizon)
        window = actual[["unique_id", "ds"]].copy()
        cutoffs = dict(zip(before.ids, before.last_ds, strict=True))
        for name in names:
            out = outputs[name, w]
            for column in out.forecasts.columns[2:]:
                window[column] = out.forecasts[column].to_numpy()
            seconds[name][0] += out.fit_seconds
            seconds[name][1] += out.predict_seconds
            if out.history is not None:
                training.setdefault(name, []).append(out.history)
            fallback_rows += [
                {
                    "model": name,
                    "cutoff": cutoffs[uid],
                    "unique_id": uid,
                    "reason": reason,
                }
                for uid, reason in out.fallbacks.items()
            ]
        scores = evaluate(
            window, actual, train, models=names, season_length=m, levels=levels
        )
        step_parts.append(
            step_scores(
                window, actual, train, models=names, season_length=m, levels=levels
            )
        )
        window = window.assign(
            cutoff=window["unique_id"].map(cutoffs), y=actual["y"].to_numpy()
        )
        forecasts.append(window)
        flat = constant_histories(train, m)
        scores = scores.assign(
            cutoff=scores["unique_id"].map(cutoffs),
            constant=scores["unique_id"].isin(flat),
        )
        metric_parts.append(scores)

    all_forecasts = pd.concat(forecasts, ignore_index=True)
    bounds = [b for name in names for b in _bound_columns(name, levels)]
    all_forecasts = all_forecasts[["unique_id", "ds", "cutoff", "y", *names, *bounds]]
    metrics = pd.concat(metric_parts, ignore_index=True)
    scored = [*METRICS, *interval_metric_names(levels)]
    constant = metrics["constant"].to_numpy(dtype=bool)
    metrics = metrics.rename(columns={"constant": "constant_history"})
    metrics = metrics[["unique_id", "cutoff", "model", *scored, "constant_history"]]
    fallbacks = pd.DataFrame(
        fallback_rows, columns=["model", "cutoff", "unique_id", "reason"]
    )
    board = _leaderboard(metrics, seconds, fallbacks, reference, sort_by)
    board["covariates"] = board["model"].map(
        {name: covariates_seen(model) for name, model in entries.items()}
    )
    # every window scores every series: the mean of the windows' means is the mean
    steps = (
        pd.concat(step_parts, ignore_index=True)
        .groupby(["model", "step"], sort=False)
        .mean()
        .reset_index()
    )
    lengths = series.lengths
    summary = {
        "series": series.n_series,
        "values": int(lengths.sum()),
        "min_length": int(lengths.min()),
        "median_length": float(np.median(lengths)),
        "max_length": int(lengths.max()),
        "freq": series.freq,
        "season_length": m,
        "filled": int(sum(series.filled.values())),
        "windows": n_windows,
        "horizon": horizon,
        "levels": list(levels),
        "constant_histories": int(constant.sum()) // len(names),
    }
    return BacktestResult(
        all_forecasts,
        metrics,
        board,
        fallbacks,
        series.to_frame(),
        season_length=m,
        summary=summary,
        training=training,
        steps=steps,
    )


def _run_all(
    entries: dict[str, ForecastingModel],
    cuts: list[WindowCut],
    refit: bool,
    levels: Levels,
    runner: Engine,
    on_step: Callable[[str, int], None] | None,
) -> dict[tuple[str, int], WindowOutput]:
    """Every model's forecasts at every cutoff, by (model name, window).

    One run per model and cutoff (per model without ``refit``); on a cluster a
    baseline's runs are split into shards of whole series, one task each.
    """
    runs = [
        ModelRun(name, model, [cut] if refit else cuts, refit, levels)
        for cut in (cuts if refit else cuts[:1])
        for name, model in entries.items()
    ]
    if isinstance(runner, LocalEngine):
        outputs = []
        for run in runs:
            for cut in run.cuts:
                if on_step is not None:
                    on_step(run.name, cut.window)
            outputs += run_model(run)
    else:
        shards = runner.workers()
        tasks = [
            piece
            for run in runs
            for piece in (
                sharded(run, shards) if isinstance(run.model, Baseline) else [run]
            )
        ]
        outputs = [o for done in runner.map(run_model, tasks) for o in done]
    grouped: dict[tuple[str, int], list[WindowOutput]] = {}
    for output in outputs:
        grouped.setdefault((output.name, output.window), []).append(output)
    return {key: merged(parts) for key, parts in grouped.items()}


def _bound_columns(column: str, levels: Levels) -> list[str]:
    """``{column}-lo-{level}`` and ``{column}-hi-{level}`` of every level."""
    return [bound_column(column, side, lv) for lv in levels for side in ("lo", "hi")]


def metric_totals(metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each model's sum and count of every metric, the terms of the leaderboard's means.

    ``metrics`` is a backtest's per-series table (``unique_id, cutoff, model``,
    the metrics, ``constant_history``). NaN values are left out, and so are the
    scaled metrics of series-windows whose history is constant (MASE scale 0),
    for every model alike. The totals of disjoint sets of series add up to the
    totals of their union, so shards of a panel can be scored apart.
    """
    keys = ("unique_id", "cutoff", "model", "constant_history")
    scored = [c for c in metrics.columns if c not in keys]
    values = metrics[scored].astype(np.float64)
    constant = metrics["constant_history"].to_numpy(dtype=bool)
    values.loc[constant, [c for c in scored if is_scaled_metric(c)]] = np.nan
    grouped = values.groupby(metrics["model"], sort=False)
    return grouped.sum(), grouped.count()


def mean_scores(
    sums: pd.DataFrame, counts: pd.DataFrame, reference: str
) -> pd.DataFrame:
    r"""Mean metrics per model (:func:`metric_totals`' sums over counts) and OWA.

    OWA (M4 competition): :math:`\frac12(\frac{\mathrm{sMAPE}}{\mathrm{sMAPE_{ref}}}
    + \frac{\mathrm{MASE}}{\mathrm{MASE_{ref}}})` with the means over all series and
    windows; below 1 the model beats the reference on average. A metric without
    a value for a model is NaN.
    """
    board = sums / counts.where(counts > 0)
    ref = board.loc[reference]
    board["owa"] = 0.5 * (board["smape"] / ref["smape"] + board["mase"] / ref["mase"])
    return board


def _leaderboard(
    metrics: pd.DataFrame,
    seconds: dict[str, list[float]],
    fallbacks: pd.DataFrame,
    reference: str,
    sort_by: str,
) -> pd.DataFrame:
    """Mean metrics per model (:func:`mean_scores`), timings and fallbacks, sorted."""
    board = mean_scores(*metric_totals(metrics), reference)
    board["fit_seconds"] = [seconds[m][0] for m in board.index]
    board["predict_seconds"] = [seconds[m][1] for m in board.index]
    counts = (
        fallbacks.groupby("model").size() if len(fallbacks) else pd.Series(dtype=int)
    )
    board["fallbacks"] = [int(counts.get(m, 0)) for m in board.index]
    board = board.sort_values(sort_by, kind="stable").reset_index()
    return board
