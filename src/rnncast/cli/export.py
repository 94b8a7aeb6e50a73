"""``rnncast export``: a saved model's network as an ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from rnncast.cli.arguments import QUIET_HELP, wrote

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    """Add ``export`` to the sub-command parsers."""
    export = commands.add_parser(
        "export",
        help="write a saved model's network as an ONNX file",
        description="Write the network of the model saved in MODEL_DIR (--save-model "
        "of rnncast forecast) as an ONNX graph that onnxruntime runs alone: inputs "
        "as Forecaster.forecast_inputs returns them, forecasts in each series' "
        "scaled units (docs/serving.md). Needs pip install 'rnncast[onnx]'.",
    )
    export.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    export.add_argument(
        "--onnx", type=Path, required=True, metavar="FILE", help="the .onnx file"
    )
    export.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    export.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Load the model, export its network, say what was written."""
    from rnncast.forecaster import Forecaster
    from rnncast.interop import export_onnx

    export_onnx(Forecaster.load(args.model_dir), args.onnx)
    wrote(args.onnx)
    return 0
