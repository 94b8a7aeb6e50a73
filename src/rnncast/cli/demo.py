"""``rnncast demo`` and ``rnncast datasets``: first contact."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rnncast.cli.arguments import positive_int, print_table

__all__ = ["add_commands"]


def add_commands(commands: Any) -> None:
    """Add ``demo`` and ``datasets`` to the sub-command parsers."""
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
    demo.set_defaults(run=run_demo)
    datasets = commands.add_parser(
        "datasets",
        help="list the real datasets shipped with rnncast",
        description="List the datasets that ship inside rnncast and load offline; "
        "their names work wherever a command takes a data file.",
    )
    datasets.set_defaults(run=run_datasets)


def run_demo(args: argparse.Namespace, console: Console) -> int:
    """Run the demo and print its table."""
    from rnncast.demo import run_demo as demo

    console.print(
        "[bold]rnncast demo[/]: monthly airline passengers 1949-1960 "
        "(Box & Jenkins series G); train on 1949-1959, forecast 1960."
    )
    result = demo(
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


def run_datasets(args: argparse.Namespace, console: Console) -> int:
    """Print the shipped datasets (from the catalogue: no data is loaded)."""
    from rnncast.datasets import DATASET_INFO

    table = Table(title="Datasets shipped with rnncast (use the name as DATA)")
    columns = ("name", "series", "length", "frequency", "domain", "licence", "source")
    for column in columns:
        table.add_column(
            column, justify="right" if column in {"series", "length"} else "left"
        )
    for info in DATASET_INFO.values():
        table.add_row(*(str(getattr(info, column)) for column in columns))
    print_table(table)
    return 0
