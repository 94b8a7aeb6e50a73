"""The ``rnncast backtest`` and ``rnncast report`` commands."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from rnncast.cli.arguments import (
    DATA_HELP,
    QUIET_HELP,
    add_forecaster_flags,
    check_output_folders,
    forecaster_params,
    frequency,
    model_names,
    positive_int,
    print_table,
    read_data,
    seasons,
    warn,
)
from rnncast.cli.predict import add_engine_flags, engine_of
from rnncast.exceptions import RnncastError
from rnncast.options import CONFORMAL_ERRORS, CONFORMAL_UNITS, FILL_POLICIES

__all__ = ["add_commands"]

# parameters the backtest itself takes (for every model, networks included), not
# one network's; --cell and --alias name models, which --models does here
_BACKTEST_SETS = (
    "horizon",
    "season_length",
    "freq",
    "fill",
    "id_col",
    "time_col",
    "target_col",
    "seed",
    "conformal_errors",
    "conformal_unit",
    "cell",
    "alias",
)

_BACKTEST_DESCRIPTION = """\
Rolling-origin backtest: for each of --windows cutoffs, every model is trained on the
data up to the cutoff only and forecasts the next --horizon values. Prints a
leaderboard (mean over series and windows, best first) with MSE, MAE, RMSE, MAPE,
sMAPE, MASE, OWA relative to --reference, and fit and predict seconds;
--by-step adds each model's MASE at every step of the horizon.
Models: lstm, gru, rnn, slstm, mlstm; naive, snaive, drift; arima, ets, theta,
mstl (pip install 'rnncast[baselines]'); prophet (pip install 'rnncast[prophet]').
"""


def add_commands(commands: Any) -> None:
    """Add ``backtest`` and ``report`` to the sub-command parsers."""
    backtest = commands.add_parser(
        "backtest",
        help="compare networks and baselines over rolling forecast origins",
        description=_BACKTEST_DESCRIPTION,
    )
    _backtest_arguments(backtest)
    backtest.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        help="write forecasts.csv, metrics.csv, leaderboard.csv, steps.csv here",
    )
    backtest.add_argument(
        "--plot", type=Path, help="write a PNG of the forecasts over the actuals"
    )
    backtest.add_argument("--report", type=Path, help="also write an HTML report")
    backtest.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    backtest.set_defaults(run=_run_backtest)

    report = commands.add_parser(
        "report",
        help="backtest, then write one self-contained HTML report",
        description="Run the same backtest as `rnncast backtest` and write one HTML "
        "file that needs no network to view: data summary, leaderboard, each "
        "series' forecasts, the networks' loss curves and timings.",
    )
    _backtest_arguments(report)
    report.add_argument(
        "-o",
        "--output",
        dest="output_path",
        type=Path,
        required=True,
        help="the HTML file to write",
    )
    report.add_argument("--title", help="report title (default: from the data)")
    report.add_argument(
        "--max-series",
        type=positive_int,
        default=12,
        help="series shown with plots (default: 12)",
    )
    report.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    report.set_defaults(run=_run_report)


def _backtest_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the data, model and backtest options of ``backtest`` and ``report``."""
    parser.add_argument("data", type=Path, help=DATA_HELP)
    parser.add_argument(
        "--models",
        type=model_names,
        default="lstm,gru,rnn,snaive",
        help="comma-separated model names (default: %(default)s)",
    )
    parser.add_argument(
        "--horizon", type=positive_int, required=True, help="steps forecast"
    )
    parser.add_argument(
        "--windows", type=positive_int, default=3, help="cutoffs (default: 3)"
    )
    parser.add_argument(
        "--step",
        type=positive_int,
        help="values between cutoffs (default: the horizon)",
    )
    parser.add_argument(
        "--no-refit",
        action="store_true",
        help="fit every model once, at the first cutoff",
    )
    parser.add_argument(
        "--metric",
        default="mase",
        help="leaderboard order: mse, mae, rmse, mape, smape, mase or owa "
        "(default: mase)",
    )
    parser.add_argument(
        "--reference",
        default="snaive",
        help="model that OWA is relative to (default: snaive)",
    )
    parser.add_argument(
        "--by-step",
        action="store_true",
        help="also print each model's MASE at every horizon step",
    )
    parser.add_argument(
        "--season-length",
        type=seasons,
        help="seasonal period, or several (24,168): the first for MASE and the "
        "baselines, all for the networks (default: from the frequency)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the networks (default: 0)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="seconds per series for a baseline before it falls back to seasonal "
        "naive (default: 60)",
    )
    add_engine_flags(parser)
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with a folder of Parquet files as DATA and --engine ray: fit each "
        "network data-parallel on N workers at each cutoff (default: one per CPU)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        help="worker processes for the baselines (default: all cores)",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--id-col", default="unique_id", help="series id column (default: unique_id)"
    )
    data.add_argument("--time-col", default="ds", help="time column (default: ds)")
    data.add_argument("--target-col", default="y", help="value column (default: y)")
    data.add_argument(
        "--freq",
        type=frequency,
        help="frequency alias such as D, MS, h, or an integer step (default: inferred)",
    )
    data.add_argument(
        "--fill",
        choices=FILL_POLICIES,
        help="policy for missing values (default: None, an error)",
    )
    add_forecaster_flags(parser, given_only=True, skip=_BACKTEST_SETS)
    intervals = parser.add_argument_group("prediction intervals of every model")
    intervals.add_argument(
        "--level",
        type=float,
        nargs="+",
        metavar="PERCENT",
        help="add prediction intervals at these levels, e.g. --level 80 95",
    )
    intervals.add_argument(
        "--conformal-errors",
        choices=CONFORMAL_ERRORS,
        default="signed",
        help="conformal intervals (networks, and --baseline-intervals conformal): "
        "signed: each tail from its own quantile of the errors, following their "
        "bias and skew (symmetric where too few); absolute: symmetric widths "
        "(default: signed)",
    )
    intervals.add_argument(
        "--conformal-unit",
        choices=CONFORMAL_UNITS,
        default="recent",
        help="conformal intervals: each series' unit of the errors; recent: the "
        "seasonal-naive MAE's geometric mean with the spread of the last three "
        "seasons' changes (calm series get narrower bands); seasonal: that MAE "
        "(default: recent)",
    )
    intervals.add_argument(
        "--baseline-intervals",
        choices=("model", "conformal"),
        default="model",
        help="baselines: their own model-based intervals, or conformal ones built "
        "like the networks' (default: model)",
    )


def _run_backtest(args: argparse.Namespace, console: Console) -> int:
    if args.data.is_dir():
        return _backtest_folder(args)
    check_output_folders(args.plot, args.report)
    if args.output_dir is not None and not args.output_dir.is_dir():
        raise RnncastError(f"output folder {str(args.output_dir)!r} does not exist.")
    result, seconds = _backtest(args, console)
    _print_results(result, args, seconds)
    board = result.leaderboard
    if args.output_dir is not None:
        from rnncast.io import write_frame

        for name, frame in (
            ("forecasts", result.forecasts),
            ("metrics", result.metrics),
            ("leaderboard", board),
            ("steps", result.steps),
        ):
            write_frame(frame, args.output_dir / f"{name}.csv")
            print(f"wrote {args.output_dir / f'{name}.csv'}")
    if args.plot is not None:
        from rnncast.evaluation.plotting import plot_backtest

        plot_backtest(
            args.plot,
            result.history,
            result.forecasts,
            models=list(board["model"]),
            season_length=result.season_length,
        )
        print(f"wrote {args.plot}")
    if args.report is not None:
        _write_report(args.report, result, title=None, data=args.data, max_series=12)
    return 0


def _backtest_folder(args: argparse.Namespace) -> int:
    """Backtest a folder of Parquet shards into the -o folder (rnncast.distributed)."""
    from rnncast.distributed.backtests import backtest_files

    if args.output_dir is None:
        raise RnncastError(
            "a folder of Parquet files is backtested into a folder: give -o OUT (new, "
            "empty, or the output of an earlier backtest)."
        )
    given = [flag for flag in ("plot", "report", "by_step") if getattr(args, flag)]
    if given:
        flags = ", ".join("--" + flag.replace("_", "-") for flag in given)
        raise RnncastError(
            f"{flags} read(s) the whole panel; leave it out with a folder of Parquet "
            "files (the forecasts and metrics are written to OUT)."
        )
    start = time.perf_counter()
    done = backtest_files(
        args.data,
        list(args.models),
        args.output_dir,
        engine=engine_of(args),
        workers=args.workers,
        **_backtest_options(args),
    )
    _print_leaderboard(
        done.leaderboard, done.summary, args, time.perf_counter() - start
    )
    print(f"wrote {args.output_dir} ({len(done.manifest['parts'])} part(s))")
    return 0


def _run_report(args: argparse.Namespace, console: Console) -> int:
    if args.data.is_dir():
        raise RnncastError(
            "a report reads the whole panel; backtest a folder of Parquet files with "
            "rnncast backtest DATA -o OUT, or give one file."
        )
    check_output_folders(args.output_path)
    result, seconds = _backtest(args, console)
    _print_results(result, args, seconds)
    _write_report(
        args.output_path,
        result,
        title=args.title,
        data=args.data,
        max_series=args.max_series,
    )
    return 0


def _write_report(
    path: Path, result: Any, *, title: str | None, data: Path, max_series: int
) -> None:
    from rnncast.evaluation.report import render_report, write_report

    title = title or f"rnncast backtest: {data.name}"
    write_report(path, render_report(result, title=title, max_series=max_series))
    print(f"wrote {path}")


def _backtest(args: argparse.Namespace, console: Console) -> tuple[Any, float]:
    """Run the backtest the arguments describe, with a progress bar."""
    from rnncast.evaluation.backtest import backtest

    data = read_data(args.data)
    models = list(args.models)
    total = (len(models) + (args.reference not in models)) * args.windows
    progress = Progress(
        TextColumn("[bold]backtest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[step]}"),
        console=console,
        transient=True,
    )
    task = progress.add_task("backtest", total=total, step="")

    calls = [0]

    def on_step(model: str, window: int) -> None:
        progress.update(task, completed=calls[0], step=f"{model}, window {window + 1}")
        calls[0] += 1

    start = time.perf_counter()
    with progress:
        result = backtest(
            data,
            models,
            **_backtest_options(args),
            on_step=on_step,
            engine=engine_of(args),
        )
    return result, time.perf_counter() - start


def _backtest_options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the keyword options of :func:`rnncast.backtest` the arguments give."""
    return {
        "horizon": args.horizon,
        "n_windows": args.windows,
        "step": args.step,
        "refit": not args.no_refit,
        "season_length": args.season_length,
        "freq": args.freq,
        "fill": args.fill,
        "id_col": args.id_col,
        "time_col": args.time_col,
        "target_col": args.target_col,
        "reference": args.reference,
        "sort_by": args.metric,
        "seed": args.seed,
        "neural_params": forecaster_params(args, given_only=True),
        "time_limit": args.time_limit,
        "n_jobs": args.jobs,
        "level": args.level,
        "baseline_intervals": args.baseline_intervals,
        "conformal_errors": args.conformal_errors,
        "conformal_unit": args.conformal_unit,
    }


def _interval_table(board: Any, levels: list[float]) -> Table:
    table = Table(title="Prediction intervals (coverage should match the level)")
    table.add_column("model")
    for lv in levels:
        for name in (f"cover {lv}%", f"width {lv}%", f"MSIS {lv}%"):
            table.add_column(name, justify="right")
    table.add_column("pinball", justify="right")
    for row in board.to_dict("records"):
        cells = [row["model"]]
        for lv in levels:
            cells += [
                f"{100 * row[f'coverage_{lv}']:.1f}",
                f"{row[f'width_{lv}']:.4g}",
                f"{row[f'msis_{lv}']:.3f}",
            ]
        table.add_row(*cells, f"{row['pinball']:.3f}")
    return table


def _step_table(steps: Any, models: list[str]) -> Table:
    """MASE of each model (columns, leaderboard order) at each step (rows)."""
    table = Table(
        title="MASE by horizon step",
        caption="their mean over the steps is the leaderboard's MASE",
    )
    table.add_column("step", justify="right")
    for model in models:
        table.add_column(model, justify="right")
    mase = steps.pivot(index="step", columns="model", values="mase")
    for step, row in mase.iterrows():
        table.add_row(str(step), *(f"{row[m]:.3f}" for m in models))
    return table


def _print_leaderboard(
    board: Any, summary: dict[str, Any], args: argparse.Namespace, seconds: float
) -> None:
    n_series = summary["series"]
    table = Table(
        title=f"Leaderboard: {n_series} series x {args.windows} windows x horizon "
        f"{args.horizon}, sorted by {args.metric} ({seconds:.0f} s)"
    )
    columns = (
        "model",
        "MSE",
        "MAE",
        "RMSE",
        "MAPE %",
        "sMAPE %",
        "MASE",
        "OWA",
        "fit s",
        "predict s",
        "fallbacks",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in board.itertuples():
        table.add_row(
            row.model,
            f"{row.mse:.4g}",
            f"{row.mae:.4g}",
            f"{row.rmse:.4g}",
            f"{row.mape:.2f}",
            f"{row.smape:.2f}",
            f"{row.mase:.3f}",
            f"{row.owa:.3f}",
            f"{row.fit_seconds:.1f}",
            f"{row.predict_seconds:.2f}",
            str(row.fallbacks),
        )
    print_table(table)
    if summary.get("levels"):
        print_table(_interval_table(board, summary["levels"]))
    constant = summary["constant_histories"]
    if constant:
        warn(
            f"scores: {constant} series-window(s) with a constant history have no "
            "MASE scale; the MASE, MSIS and pinball means leave them out."
        )


def _print_results(result: Any, args: argparse.Namespace, seconds: float) -> None:
    """Print a BacktestResult: the leaderboard, by step, and every fallback."""
    _print_leaderboard(result.leaderboard, result.summary, args, seconds)
    if args.by_step:
        print_table(_step_table(result.steps, list(result.leaderboard["model"])))
    _print_fallbacks(result.fallbacks)


def _print_fallbacks(fallbacks: Any) -> None:
    from rnncast.data.series import format_time

    for fallback in fallbacks.itertuples():
        warn(
            f"fallback: {fallback.model} on {fallback.unique_id!r} at cutoff "
            f"{format_time(fallback.cutoff)}: {fallback.reason}"
        )
