"""The ``rnncast`` command line, one module per command.

``forecast``, ``predict``, ``export``, ``backtest`` and ``report``, ``demo``,
``explain`` and ``gradients``, ``datasets``. Each command parses its arguments,
calls the Python API and prints.
Expected failures (bad data, bad options, unreadable files) print one line on
stderr and exit with 1; usage errors exit with 2, as argparse does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from rnncast.cli import backtest, demo, explain, export, forecast, predict
from rnncast.exceptions import RnncastError
from rnncast.version import __version__

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
Forecast time series with recurrent neural networks (RNN, LSTM, GRU, xLSTM).

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
    args = build_parser().parse_args(argv)
    from rich.console import Console

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


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every command."""
    parser = _Parser(
        prog="rnncast",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rnncast {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    demo.add_commands(commands)
    forecast.add_command(commands)
    predict.add_command(commands)
    export.add_command(commands)
    explain.add_commands(commands)
    backtest.add_commands(commands)
    return parser
