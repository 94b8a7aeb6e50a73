"""The ``rnncast`` command line: ``forecast`` and ``demo``.

Each command parses its arguments, calls the Python API and prints. Expected failures
(bad data, bad options, unreadable files) print one line on stderr and exit with 1;
usage errors exit with 2, as argparse does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from rnncast._cli_common import (
    DATA_HELP,
    FORECASTER_DEFAULTS,
    check_output_folders,
    data_options,
    interval_options,
    layer_widths,
    network_options,
    positive_int,
    print_table,
    quality_options,
    read_data,
    write_outputs,
)
from rnncast._version import __version__
from rnncast.classical import best_weight
from rnncast.data.frame import format_time
from rnncast.exceptions import RnncastError
from rnncast.io import write_frame
from rnncast.models.networks import CELLS, OUTPUTS

__all__ = ["main"]


EXIT_ERROR = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
Forecast time series with recurrent neural networks (RNN, LSTM, GRU).

Start with `rnncast demo`, which trains all three networks on a real series and
compares them with a seasonal-naive forecast. Then forecast your own data:

  rnncast forecast sales.csv --horizon 12 -o forecast.csv --plot forecast.png

Input is a CSV or Parquet file in long format: one row per observation with the
series id (unique_id), the time (ds) and the value (y). A file without an id
column is read as a single series.
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line plus a pointer to --help."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _build_parser().parse_args(argv)
    console = Console(stderr=True, quiet=getattr(args, "quiet", False))
    try:
        return int(args.run(args, console))
    except RnncastError as e:
        sys.stderr.write(f"rnncast: error: {e}\n")
    except OSError as e:
        sys.stderr.write(f"rnncast: error: {e.strerror or e}: {e.filename or ''}\n")
    except KeyboardInterrupt:
        sys.stderr.write("rnncast: interrupted; no output was written.\n")
        return 130
    return EXIT_ERROR


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rnncast",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rnncast {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="train LSTM, GRU and RNN on a real series and compare them",
        description="Train LSTM, GRU and vanilla-RNN forecasters on the monthly "
        "airline passengers series (1949-1959), forecast 1960, print MSE, MAE, "
        "RMSE, MAPE, sMAPE and MASE for each and for seasonal naive, and write a plot.",
    )
    demo.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("rnncast-demo"),
        help="folder for forecast.png, forecasts.csv, metrics.csv "
        "(default: %(default)s)",
    )
    demo.add_argument(
        "--epochs",
        type=positive_int,
        default=200,
        help="max epochs (default: %(default)s)",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="random seed (default: %(default)s)"
    )
    demo.add_argument(
        "-q", "--quiet", action="store_true", help="print only the results"
    )
    demo.set_defaults(run=_run_demo)

    forecast = commands.add_parser(
        "forecast",
        help="fit a network on a CSV/Parquet file and write its forecasts",
        description="Fit one recurrent network on every series of DATA and write "
        "`horizon` forecasts per series (columns: id, time, yhat).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    forecast.add_argument("data", type=Path, help=DATA_HELP)
    forecast.add_argument(
        "--horizon", type=positive_int, required=True, help="steps to forecast"
    )
    forecast.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="forecast file (.csv or .parquet)",
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
    model = forecast.add_argument_group("model")
    model.add_argument(
        "--cell",
        choices=(*CELLS, "auto"),
        default="lstm",
        help="recurrent cell; auto: fit RNN, LSTM and GRU on all but the last "
        "horizon of each series, keep the one with the lowest MASE",
    )
    model.add_argument(
        "--lookback",
        type=positive_int,
        help="past values read per forecast (default: max(2*horizon, 2*season))",
    )
    model.add_argument(
        "--hidden",
        type=layer_widths,
        default=(64,),
        help="comma-separated layer widths, e.g. 128,64",
    )
    model.add_argument(
        "--dropout", type=float, default=0.0, help="dropout between layers"
    )
    model.add_argument(
        "--output-mode",
        dest="output_mode",
        choices=OUTPUTS,
        default="direct",
        help="all steps at once, or one step fed back",
    )
    network_options(model, with_defaults=True)
    training = forecast.add_argument_group("training")
    training.add_argument(
        "--epochs", type=positive_int, default=FORECASTER_DEFAULTS["epochs"]
    )
    training.add_argument(
        "--batch-size", type=positive_int, default=FORECASTER_DEFAULTS["batch_size"]
    )
    training.add_argument(
        "--learning-rate", type=float, default=FORECASTER_DEFAULTS["learning_rate"]
    )
    training.add_argument(
        "--clip-norm",
        type=float,
        default=1.0,
        help="max gradient norm; 0 turns clipping off",
    )
    training.add_argument(
        "--patience",
        type=positive_int,
        default=20,
        help="early-stopping patience in epochs",
    )
    training.add_argument(
        "--no-validation",
        action="store_true",
        help="train on all values (no early stopping)",
    )
    training.add_argument(
        "--no-refit-full",
        action="store_true",
        help="keep the validated network instead of training it again on whole "
        "series for its best number of epochs",
    )
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--device", default="auto", help="auto, cpu or cuda")
    data_options(forecast)
    quality_options(forecast)
    interval_options(forecast)
    forecast.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    forecast.set_defaults(run=_run_forecast)

    explain = commands.add_parser(
        "explain",
        help="show the gate activations of a saved model over one window",
        description="Recompute, with rnncast's plain NumPy reference of the "
        "LSTM/GRU/RNN equations, the gates of every layer of a saved model (LSTM "
        "forget f, input i, output o and cell state C; GRU reset r and update z; the "
        "hidden state h) over one input window of one series, and draw them under "
        "the series.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    explain.add_argument(
        "model", type=Path, help="model folder written by --save-model"
    )
    explain.add_argument(
        "data",
        type=Path,
        nargs="?",
        help="history (CSV/Parquet, the model's columns); default: the series the "
        "model was fitted on, last window",
    )
    explain.add_argument("--series", help="series id (default: the first series)")
    explain.add_argument("--end", help="time of the window's last input (needs DATA)")
    explain.add_argument("--plot", type=Path, help="write a PNG of the gates")
    explain.add_argument("-o", "--output", type=Path, help="write the gates as CSV")
    explain.set_defaults(run=_run_explain)

    gradients = commands.add_parser(
        "gradients",
        help="measure how fast gradients vanish in RNN, LSTM and GRU",
        description="The vanishing-gradient experiment: fit a one-layer RNN, LSTM and "
        "GRU on a real series and measure the norm of dh_T/dh_t (and dh_T/dx_t) "
        "against the lag T - t, with the initial and with the trained weights. "
        "Prints the lag at which each falls below 1e-3 of its value at lag 1.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    gradients.add_argument(
        "data",
        type=Path,
        nargs="?",
        help="CSV/Parquet series (default: the airline passengers series)",
    )
    gradients.add_argument("--lookback", type=positive_int, default=96)
    gradients.add_argument("--hidden", type=positive_int, default=32, help="units")
    gradients.add_argument("--horizon", type=positive_int, default=12)
    gradients.add_argument("--epochs", type=positive_int, default=100)
    gradients.add_argument("--seed", type=int, default=0)
    gradients.add_argument("--plot", type=Path, help="write a PNG of the decay")
    gradients.add_argument("-o", "--output", type=Path, help="write the norms as CSV")
    gradients.set_defaults(run=_run_gradients)
    datasets = commands.add_parser(
        "datasets",
        help="list the real datasets shipped with rnncast",
        description="List the datasets that ship inside rnncast and load offline; "
        "their names work wherever a command takes a data file.",
    )
    datasets.set_defaults(run=_run_datasets)

    from rnncast.cli_backtest import add_backtest_commands

    add_backtest_commands(commands)
    return parser


def _run_forecast(args: argparse.Namespace, console: Console) -> int:
    from rnncast.forecaster import Forecaster

    check_output_folders(args.output, args.plot, args.save_model, args.outliers)
    frame = read_data(args.data)
    model = Forecaster(
        horizon=args.horizon,
        cell=args.cell,
        lookback=args.lookback,
        hidden=args.hidden,
        dropout=args.dropout,
        output=args.output_mode,
        level=args.window_level,
        seasonal_pattern=args.seasonal_pattern,
        transform=args.transform,
        ensemble=args.ensemble,
        combine=args.combine,
        season_inputs=bool(args.season_inputs),
        scaler=args.scaler,
        loss=args.loss,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        clip_norm=args.clip_norm or None,
        patience=args.patience,
        validation=not args.no_validation,
        refit_full=not args.no_refit_full,
        fill=args.fill,
        missing=args.missing,
        intervals=args.intervals if args.level else None,
        levels=tuple(args.level or (80, 95)),
        conformal_errors=args.conformal_errors,
        conformal_unit=args.conformal_unit,
        conformal_per_series=bool(args.conformal_per_series),
        resample=args.resample,
        aggregation=args.aggregation,
        max_gap=args.max_gap,
        freq=args.freq,
        id_col=args.id_col,
        time_col=args.time_col,
        target_col=args.target_col,
        seed=args.seed,
        device=args.device,
        progress=not args.quiet,
    )
    if args.cell == "auto":
        model = _tuned(model, frame, console)
    else:
        model.fit(frame)
    forecast = model.predict(level=args.level)
    write_frame(forecast, args.output)
    written = [args.output]
    if args.plot is not None:
        from rnncast.plotting import plot_forecasts

        history = model.history_frame(frame)
        shown = forecast.rename(columns={args.id_col: "unique_id", args.time_col: "ds"})
        plot_forecasts(
            args.plot, history, shown, models=["yhat"], history_points=5 * args.horizon
        )  # with --level, the interval columns are drawn as bands
        written.append(args.plot)
    if args.save_model is not None:
        model.save(args.save_model)
        written.append(args.save_model)
    if args.outliers is not None:
        write_frame(model.data_report_.outliers, args.outliers)
        written.append(args.outliers)
    for line in model.data_report_.lines():
        console.print(f"data: {line}", highlight=False)
    if model.level_scores_ is not None and "last" in model.level_scores_:
        line = _naive_check_line(model.level_scores_, model.level_)
        console.print(f"level: {line}", highlight=False, soft_wrap=True)
    if model.combine_weight_ is not None:
        console.print(
            f"combine: {_combine_line(model)}", highlight=False, soft_wrap=True
        )
    n_series = len(model.ids_)
    console.print(
        f"{model.cell.upper()} {tuple(model.network_.config.hidden)}, lookback "
        f"{model.lookback_}: {n_series} series x {args.horizon} steps; "
        f"{len(model.history_)} epochs on {model.n_train_windows_} windows."
    )
    for path in written:
        print(f"wrote {path}")
    return 0


def _naive_check_line(scores: dict[str, float], kept: str) -> str:
    """Say in one line what the naive check of level="auto" compared and chose."""
    first = next(k for k in scores if k not in ("naive", "last"))
    return (
        f"the {first!r} network did not beat the last value on validation "
        f"(loss {scores[first]:.3f} against {scores['naive']:.3f}); with "
        f"level='last' {scores['last']:.3f}: kept {kept!r}."
    )


def _combine_line(model: Any) -> str:
    """Say in one line how much of the forecast is the network's, and why."""
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
    from rnncast.tune import candidate_grid, tune

    params = {k: v for k, v in model.get_params().items() if k != "horizon"}
    params.pop("cell")
    result = tune(frame, horizon=model.horizon, candidates=candidate_grid(), **params)
    for line in result.summary().splitlines():
        console.print(f"tune: {line}", highlight=False)
    assert result.forecaster is not None
    return result.forecaster


def _run_datasets(args: argparse.Namespace, console: Console) -> int:
    from rnncast.datasets import describe_datasets

    table = Table(title="Datasets shipped with rnncast (use the name as DATA)")
    frame = describe_datasets()
    for column in frame.columns:
        table.add_column(
            column, justify="right" if column in {"series", "length"} else "left"
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    print_table(table)
    return 0


def _run_demo(args: argparse.Namespace, console: Console) -> int:
    from rnncast.demo import run_demo

    console.print(
        "[bold]rnncast demo[/]: monthly airline passengers 1949-1960 "
        "(Box & Jenkins series G); train on 1949-1959, forecast 1960."
    )
    result = run_demo(
        args.output_dir,
        epochs=args.epochs,
        seed=args.seed,
        progress=not args.quiet,
    )
    table = Table(title="Forecast accuracy on 1960 (12 months), best MASE first")
    table.add_column("model")
    columns = ("MSE", "MAE", "RMSE", "MAPE %", "sMAPE %", "MASE", "seconds", "network")
    for metric in columns:
        table.add_column(metric, justify="right")
    for row in result.metrics.itertuples():
        seconds = result.seconds.get(row.model)
        weight = result.weights.get(row.model)
        table.add_row(
            row.model,
            f"{row.mse:.1f}",
            f"{row.mae:.2f}",
            f"{row.rmse:.2f}",
            f"{row.mape:.2f}",
            f"{row.smape:.2f}",
            f"{row.mase:.3f}",
            "-" if seconds is None else f"{seconds:.1f}",
            "-" if weight is None else f"{weight:.3f}",
        )
    print_table(table)
    print(
        "network: the network's weight in its forecast, mixed with theta's "
        "(combine='theta'; chosen on validation, pulled towards 0.5 when, as "
        "here, one series gives few validation windows)."
    )
    for path in result.files:
        print(f"wrote {path}")
    return 0


def _run_explain(args: argparse.Namespace, console: Console) -> int:
    from rnncast.explain import gate_activations
    from rnncast.forecaster import Forecaster

    check_output_folders(args.plot, args.output)
    model = Forecaster.load(args.model)
    data = None if args.data is None else read_data(args.data)
    trace = gate_activations(model, data, series=args.series, end=args.end)
    table = Table(
        title=f"{model.cell.upper()} gates for {trace.series!r}, inputs "
        f"{format_time(trace.ds[0])} to {format_time(trace.ds[-1])} "
        f"({len(trace.ds)} steps)"
    )
    for column in ("layer", "gate", "units", "mean", "min", "max", "last step mean"):
        table.add_column(column, justify="left" if column == "gate" else "right")
    for (layer, gate), values in trace.gates.items():
        table.add_row(
            str(layer),
            gate,
            str(values.shape[1]),
            f"{values.mean():.3f}",
            f"{values.min():.3f}",
            f"{values.max():.3f}",
            f"{values[-1].mean():.3f}",
        )
    print_table(table)
    from rnncast.plotting import plot_gates

    write_outputs(
        args.output, trace.to_frame(), args.plot, lambda p: plot_gates(p, trace)
    )
    return 0


def _run_gradients(args: argparse.Namespace, console: Console) -> int:
    from rnncast.datasets import load_air_passengers
    from rnncast.explain import vanishing_gradients, vanishing_lag

    check_output_folders(args.plot, args.output)
    data = load_air_passengers() if args.data is None else read_data(args.data)
    console.print(
        f"fitting one-layer RNN, LSTM and GRU ({args.hidden} units, lookback "
        f"{args.lookback}) and measuring dh_T/dh_t ..."
    )
    decay = vanishing_gradients(
        data,
        hidden=args.hidden,
        lookback=args.lookback,
        horizon=args.horizon,
        epochs=args.epochs,
        seed=args.seed,
    )
    table = Table(title="Lag at which the gradient norm falls below 1e-3 of lag 1")
    for column in ("cell", "weights", "dh_T/dh_t", "dh_T/dx_t", "dh_T/dh_t at lag 10"):
        table.add_column(
            column, justify="left" if column in {"cell", "weights"} else "right"
        )
    for (cell, weights), part in decay.groupby(["cell", "weights"], sort=False):
        lags = [vanishing_lag(part, c) for c in ("hidden_relative", "input_relative")]
        shown = [f"> {len(part) - 1}" if lag is None else str(lag) for lag in lags]
        at_10 = part.loc[part["lag"] == 10, "hidden_relative"]
        table.add_row(
            str(cell),
            str(weights),
            *shown,
            f"{at_10.iloc[0]:.2e}" if len(at_10) else "-",
        )
    print_table(table)
    from rnncast.plotting import plot_gradient_decay

    write_outputs(
        args.output, decay, args.plot, lambda p: plot_gradient_decay(p, decay)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
