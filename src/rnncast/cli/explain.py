"""``rnncast explain`` and ``rnncast gradients``: look inside the networks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rnncast.cli.arguments import (
    add_table_output,
    check_output_folders,
    check_table_formats,
    positive_int,
    print_table,
    read_data,
    write_outputs,
)

__all__ = ["add_commands"]


def add_commands(commands: Any) -> None:
    """Add ``explain`` and ``gradients`` to the sub-command parsers."""
    explain = commands.add_parser(
        "explain",
        help="show the gate activations of a saved model over one window",
        description="Recompute, with rnncast's plain NumPy reference of the "
        "LSTM/GRU/RNN equations, the gates of every layer of a saved model (LSTM "
        "forget f, input i, output o and cell state C; GRU reset r and update z; "
        "sLSTM stabilised gates f', i', o, cell c and normaliser n; the hidden "
        "state h) over one input window of one series, and draw them under "
        "the series.",
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
    add_table_output(explain, "write the gates")
    explain.set_defaults(run=run_explain)

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
    gradients.add_argument(
        "--lookback", type=positive_int, default=96, help="past values read"
    )
    gradients.add_argument("--hidden", type=positive_int, default=32, help="units")
    gradients.add_argument(
        "--horizon", type=positive_int, default=12, help="steps forecast"
    )
    gradients.add_argument(
        "--epochs", type=positive_int, default=100, help="max epochs"
    )
    gradients.add_argument("--seed", type=int, default=0, help="random seed")
    gradients.add_argument("--plot", type=Path, help="write a PNG of the decay")
    add_table_output(gradients, "write the norms")
    gradients.set_defaults(run=run_gradients)


def run_explain(args: argparse.Namespace, console: Console) -> int:
    """Print and draw the gates of a saved model over one window."""
    from rnncast.data.series import format_time
    from rnncast.evaluation.plotting import plot_gates
    from rnncast.explain import gate_activations
    from rnncast.forecaster import Forecaster

    check_output_folders(args.plot, args.output)
    check_table_formats(args.output)
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
    print_table(table, stdout_taken=str(args.output) == "-")
    write_outputs(
        args.output, trace.to_frame(), args.plot, lambda p: plot_gates(p, trace)
    )
    return 0


def run_gradients(args: argparse.Namespace, console: Console) -> int:
    """Measure and print how fast gradients vanish in each cell."""
    from rnncast.datasets import load_air_passengers
    from rnncast.evaluation.plotting import plot_gradient_decay
    from rnncast.explain import vanishing_gradients, vanishing_lag

    check_output_folders(args.plot, args.output)
    check_table_formats(args.output)
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
    print_table(table, stdout_taken=str(args.output) == "-")
    write_outputs(
        args.output, decay, args.plot, lambda p: plot_gradient_decay(p, decay)
    )
    return 0
