"""``rnncast predict``: forecast with a saved model, in this process or on a cluster."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from rnncast.cli.arguments import QUIET_HELP, wrote

__all__ = ["add_command", "add_engine_flags", "engine_of"]


def add_command(commands: Any) -> None:
    """Add ``predict`` to the sub-command parsers."""
    predict = commands.add_parser(
        "predict",
        help="forecast a folder of Parquet shards with a saved model",
        description="Forecast every series in SOURCE (a folder of .parquet files, "
        "each holding whole series) with the model saved in MODEL_DIR (--save-model "
        "of rnncast forecast), one task per file, and write one part per file to "
        "OUTPUT, then OUTPUT/_manifest.json once every part is complete. With "
        "--engine ray the files are forecast on a Ray cluster (pip install "
        "'rnncast[ray]'); the forecasts are those of one process.",
    )
    predict.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    predict.add_argument("source", type=Path, metavar="SOURCE")
    predict.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUTPUT",
        help="the output folder (new, empty, or an earlier output) (required)",
    )
    predict.add_argument(
        "--futr",
        type=Path,
        metavar="FOLDER",
        help="future-known covariates of the horizon: files named as in SOURCE",
    )
    predict.add_argument(
        "--level",
        type=float,
        nargs="+",
        metavar="PERCENT",
        help="add prediction intervals at these levels, e.g. --level 80 95",
    )
    add_engine_flags(predict, default="local")
    predict.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    predict.set_defaults(run=run)


def add_engine_flags(parser: argparse.ArgumentParser, default: str = "local") -> None:
    """Add ``--engine`` and ``--address``."""
    parser.add_argument(
        "--engine",
        choices=("local", "ray"),
        default=default,
        help="where the work runs: this process, or a Ray cluster "
        f"(default: {default})",
    )
    parser.add_argument(
        "--address",
        help="the Ray cluster to join (e.g. auto or ray://head:10001); default: "
        "start a local one",
    )


def engine_of(args: argparse.Namespace) -> Any:
    """Return the engine the arguments name."""
    from rnncast.distributed import LocalEngine, RayEngine

    if args.engine == "ray":
        return RayEngine(address=args.address)
    return LocalEngine()


def run(args: argparse.Namespace, console: Console) -> int:
    """Forecast the shards and say what was written."""
    from rnncast.distributed import forecast_files

    done = forecast_files(
        args.model_dir,
        args.source,
        args.output,
        engine=engine_of(args),
        level=args.level or (),
        futr=args.futr,
    )
    if not args.quiet:
        console.print(
            f"forecast {done['series']} series in {len(done['parts'])} part(s)"
        )
    wrote(args.output)
    return 0
