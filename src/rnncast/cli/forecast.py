"""``rnncast forecast``: fit one network on a file and write its forecasts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from rnncast.cli.arguments import (
    DATA_HELP,
    QUIET_HELP,
    STDOUT_HELP,
    TABLE_HELP,
    add_forecaster_flags,
    check_output_folders,
    check_table_formats,
    forecaster_params,
    read_data,
    warn,
    wrote,
)
from rnncast.cli.predict import add_engine_flags, engine_of
from rnncast.exceptions import ConfigError

__all__ = [
    "add_command",
    "combine_line",
    "fallback_frame",
    "naive_check_line",
]


def add_command(commands: Any) -> None:
    """Add ``forecast`` to the sub-command parsers."""
    forecast = commands.add_parser(
        "forecast",
        help="fit a network on a CSV/Parquet file and write its forecasts",
        description="Fit one recurrent network on every series of DATA and write "
        "`horizon` forecasts per series (columns: id, time, yhat, and with --level "
        "the interval bounds). Series too short for a training window (one value) get "
        "their last value and are reported (--fallbacks).",
    )
    forecast.add_argument("data", type=Path, help=DATA_HELP)
    forecast.add_argument(
        "-o",
        "--output",
        dest="output_path",
        type=Path,
        metavar="FILE",
        required=True,
        help="write the forecasts " + TABLE_HELP + STDOUT_HELP + " (required)",
    )
    forecast.add_argument(
        "--plot", type=Path, help="also write a PNG of history and forecasts"
    )
    forecast.add_argument(
        "--save-model",
        type=Path,
        metavar="DIR",
        help="also save the fitted model to DIR",
    )
    forecast.add_argument(
        "--outliers",
        type=Path,
        metavar="FILE",
        help="write the outlier report (points beyond 5 robust deviations of "
        "their neighbours) " + TABLE_HELP,
    )
    forecast.add_argument(
        "--fallbacks",
        type=Path,
        metavar="FILE",
        help="write which series got a naive forecast instead of the "
        "network, and why (unique_id, reason) " + TABLE_HELP,
    )
    forecast.add_argument(
        "--futr",
        type=Path,
        metavar="FILE",
        help="the future-known covariates (--futr-exog) for the horizon after "
        "every series: a CSV/Parquet file with the id, time and those columns",
    )
    forecast.add_argument(
        "--static",
        type=Path,
        metavar="FILE",
        help="the static covariates (--stat-exog), one row per series: a "
        "CSV/Parquet file with the id and those columns (default: read from DATA)",
    )
    add_forecaster_flags(forecast, required=("horizon",))
    forecast.add_argument(
        "--level",
        type=float,
        nargs="+",
        metavar="PERCENT",
        help="add prediction intervals at these levels, e.g. --level 80 95",
    )
    add_engine_flags(forecast)
    forecast.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --engine ray: train data-parallel on N workers (default: one per "
        "CPU of the cluster); DATA may then be a folder of Parquet files, each "
        "worker reading its own",
    )
    forecast.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    forecast.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Fit, forecast, write the outputs, and say what happened."""
    from rnncast.forecaster import Forecaster
    from rnncast.io import write_frame

    tables = (args.output_path, args.outliers, args.fallbacks)
    check_table_formats(*tables)
    check_output_folders(*tables, args.plot, args.save_model)
    model = Forecaster(**forecaster_params(args))
    static = _covariate_table(args.static)
    if args.engine == "ray":
        _check_cluster_fit(args)
        frame = args.data if args.data.is_dir() else read_data(args.data)
        model.fit(frame, static_df=static, engine=engine_of(args), workers=args.workers)
    else:
        frame = read_data(args.data)
        if args.cell == "auto":
            model = _tuned(model, frame, console)
        else:
            model.fit(frame, static_df=static)
    futr = _covariate_table(args.futr)
    forecast = model.predict(level=args.level, futr_df=futr)
    for line in model.data_report_.lines():
        warn(f"data: {line}")
    write_frame(forecast, args.output_path)
    written = [args.output_path]
    if args.plot is not None:
        from rnncast.evaluation.plotting import plot_forecasts

        history = model.history_frame(frame)
        shown = forecast.rename(columns={args.id_col: "unique_id", args.time_col: "ds"})
        plot_forecasts(
            args.plot,
            history,
            shown,
            models=[model.forecast_column],
            history_points=5 * args.horizon,
        )  # with --level, the interval columns are drawn as bands
        written.append(args.plot)
    if args.save_model is not None:
        model.save(args.save_model)
        written.append(args.save_model)
    if args.outliers is not None:
        write_frame(model.data_report_.outliers, args.outliers)
        written.append(args.outliers)
    if args.fallbacks is not None:
        write_frame(fallback_frame(model.fallbacks_, args.id_col), args.fallbacks)
        written.append(args.fallbacks)
    _say_what_was_fitted(model, args, console)
    for path in written:
        wrote(path, args.output_path)
    return 0


def _check_cluster_fit(args: argparse.Namespace) -> None:
    """ConfigError for the options a cluster fit does not serve here."""
    refused = {"--plot": args.plot, "--cell auto": args.cell == "auto" or None}
    named = [flag for flag, value in refused.items() if value is not None]
    if named:
        raise ConfigError(
            f"{', '.join(named)} read the whole panel in this process; with "
            "--engine ray leave them out (plot or report from the saved model and "
            "the data afterwards)."
        )


def _covariate_table(path: Path | None) -> Any:
    """Return the covariate file at ``path`` (None without one)."""
    if path is None:
        return None
    from rnncast.data.inputs import read_table

    return read_table(path)


def _say_what_was_fitted(
    model: Any, args: argparse.Namespace, console: Console
) -> None:
    scores = model.window_level_scores_
    if scores is not None and "last" in scores:
        line = naive_check_line(scores, model.window_level_)
        console.print(f"level: {line}", highlight=False, soft_wrap=True)
    if model.combine_weight_ is not None:
        console.print(
            f"combine: {combine_line(model)}", highlight=False, soft_wrap=True
        )
    seasons = " and ".join(f"{p:g}" for p in model.seasons_)
    console.print(
        f"{model.cell.upper()} {tuple(model.network_.config.hidden)}, lookback "
        f"{model.lookback_}, seasons {seasons}: {len(model.ids_)} series x "
        f"{args.horizon} steps; "
        f"{len(model.history_)} epochs on {model.n_train_windows_} windows.",
        highlight=False,
    )


def fallback_frame(fallbacks: dict[Any, str], id_col: str) -> Any:
    """Return the fallback report as a table: one row per series, with its reason."""
    import pandas as pd

    return pd.DataFrame(
        {id_col: list(fallbacks), "reason": list(fallbacks.values())},
        columns=[id_col, "reason"],
    )


def naive_check_line(scores: dict[str, float], kept: str) -> str:
    """Say in one line what the naive check of window_level="auto" compared, chose."""
    first = next(k for k in scores if k not in ("naive", "last"))
    return (
        f"the {first!r} network did not beat the last value on validation "
        f"(loss {scores[first]:.3f} against {scores['naive']:.3f}); with "
        f"window_level='last' {scores['last']:.3f}: kept {kept!r}."
    )


def combine_line(model: Any) -> str:
    """Say in one line how much of the forecast is the network's, and why."""
    from rnncast.combine import best_weight

    weight, scores = model.combine_weight_, model.combine_scores_
    share = f"{weight:.1%} network, {1 - weight:.1%} {model.combine}"
    if scores is None:
        return f"{share} (no validation to choose from: equal weights)."
    best = best_weight(scores)
    pulled = (
        ""
        if weight == best
        else " (pulled towards equal weights: few validation windows)"
    )
    return (
        f"{share}{pulled}: validation MAE {scores[best]:.3f} with {best:.0%} "
        f"network, {scores[1.0]:.3f} for the network alone and {scores[0.0]:.3f} "
        f"for {model.combine} alone."
    )


def _tuned(model: Any, frame: Any, console: Console) -> Any:
    """Fit RNN, LSTM and GRU with ``model``'s settings; print and keep the best."""
    from rnncast.evaluation.tune import candidate_grid, tune

    params = {
        k: v for k, v in model.get_params().items() if k not in ("horizon", "cell")
    }
    result = tune(frame, horizon=model.horizon, candidates=candidate_grid(), **params)
    for line in result.summary().splitlines():
        console.print(f"tune: {line}", highlight=False)
    if result.forecaster is None:  # tune refits by default
        raise RuntimeError("tune returned no refitted forecaster")
    return result.forecaster
