"""The command line's shared pieces: flags built from the options, and back.

:func:`add_forecaster_flags` gives a command one flag per
:class:`~rnncast.Forecaster` parameter, built from :mod:`rnncast.options`; and
:func:`forecaster_params` is the one place that turns the parsed arguments back
into parameters. Also here: argument types, reading data files, and writing
outputs. Nothing here imports torch or pandas at import time, so ``--help`` is
quick.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rnncast.datasets import DATASET_INFO
from rnncast.exceptions import RnncastError
from rnncast.options import CELLS, Option, options

__all__ = [
    "DATA_HELP",
    "QUIET_HELP",
    "STDOUT_HELP",
    "TABLE_HELP",
    "add_forecaster_flags",
    "add_table_output",
    "check_output_folders",
    "check_table_formats",
    "forecaster_params",
    "frequency",
    "layer_widths",
    "model_names",
    "non_negative_int",
    "positive_int",
    "print_table",
    "read_data",
    "warn",
    "write_outputs",
    "wrote",
]

DATA_HELP = (
    "CSV or Parquet file in long format, or the name of a shipped dataset "
    f"({', '.join(DATASET_INFO)}; see 'rnncast datasets')"
)

# --help groups of the parameters, by Option.group
_GROUPS = {
    "model": "model",
    "training": "training",
    "intervals": "prediction intervals",
    "data": "data",
    "covariates": "covariates",
    "run": "device",
}
_DEFAULT_LEVELS = next(o.default for o in options() if o.name == "levels")
_CLI_HELP = {
    "cell": "; auto: fit RNN, LSTM and GRU on all but the last horizon of each "
    "series, keep the one with the lowest MASE",
    "intervals": "; --level asks for the levels",
}
TABLE_HELP = "to FILE: .csv, .parquet or .json (records), by its suffix"
STDOUT_HELP = "; - writes CSV to stdout (and nothing else)"
QUIET_HELP = (
    "no progress bar and no information lines; warnings (the data: lines, "
    "fallbacks) and errors still go to stderr"
)


# ------------------------------------------------------------ argument types
def positive_int(text: str) -> int:
    """Parse an integer >= 1 for argparse."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """Parse an integer >= 0 for argparse."""
    return _int_at_least(text, 0, "an integer >= 0")


def _int_at_least(text: str, minimum: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def layer_widths(text: str) -> tuple[int, ...]:
    """Parse comma-separated positive integers such as ``128,64``."""
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 128,64, got {text!r}"
        ) from None
    if not widths or any(w <= 0 for w in widths):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return widths


def lookbacks(text: str) -> int | tuple[int, ...]:
    """Parse one lookback (``36``) or one per ensemble member (``24,36``)."""
    values = tuple(positive_int(part) for part in text.split(","))
    return values[0] if len(values) == 1 else values


def dilations(text: str) -> int | tuple[int, ...] | tuple[tuple[int, ...], ...]:
    """Parse one dilation per layer (``1,24``) or residual groups of them.

    Groups are parenthesised (``"(1,4),(24,168)"``) or separated by slashes
    (``1,4/24,168``).
    """
    if "(" not in text and "/" not in text:
        return lookbacks(text)
    parts = re.findall(r"\(([^()]*)\)", text) if "(" in text else text.split("/")
    groups = tuple(tuple(positive_int(v) for v in p.split(",")) for p in parts)
    if not groups or any(not g for g in groups):
        raise argparse.ArgumentTypeError(
            f"expected dilation groups such as 1,4/24,168, got {text!r}"
        )
    return groups


def seasons(text: str) -> int | tuple[float, ...]:
    """Parse one season (``24``) or several periods (``24,168``, ``7,365.25``)."""
    if "," not in text:
        return positive_int(text)
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected periods such as 24,168, got {text!r}"
        ) from None
    return tuple(int(v) if v.is_integer() else v for v in values)


def frequency(text: str) -> str | int:
    """Parse a frequency: an integer step or a pandas alias."""
    return int(text) if text.strip().isdigit() else text


def _clip_norm(text: str) -> float | None:
    """Parse a gradient-norm limit; 0 turns clipping off (None)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value or None


def _limit(text: str) -> int | None:
    """Parse a positive integer limit; ``none`` lifts it (None)."""
    return None if text.strip().lower() == "none" else positive_int(text)


def model_names(text: str) -> tuple[str, ...]:
    """Parse comma-separated model names."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated model names, got {text!r}"
        )
    return names


def column_list(text: str) -> tuple[str, ...]:
    """Parse comma-separated column names (an empty text: none)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


_PARSERS: dict[str | None, Callable[[str], Any]] = {
    "names": column_list,
    None: str,
    "int": int,
    "positive_int": positive_int,
    "non_negative_int": non_negative_int,
    "float": float,
    "widths": layer_widths,
    "lookbacks": lookbacks,
    "dilations": dilations,
    "seasons": seasons,
    "frequency": frequency,
    "clip_norm": _clip_norm,
    "limit": _limit,
}


# ----------------------------------------------------- options <-> arguments
def add_forecaster_flags(
    parser: argparse.ArgumentParser,
    *,
    given_only: bool = False,
    skip: Iterable[str] = (),
    required: Iterable[str] = (),
) -> None:
    """Add a flag for every Forecaster parameter with one (see ``Option.flag``).

    ``given_only``: the flags default to None, so that only the ones given reach
    the models (``backtest``, ``report``), and their help says the default.
    ``skip``: parameters the command sets another way; ``required``: flags the
    command cannot run without.
    """
    groups: dict[str, Any] = {}
    skipped = set(skip)
    added = []
    for option in options():
        if option.flag is None or option.name in skipped:
            continue
        added.append(option.name)
        if option.group not in groups:
            groups[option.group] = parser.add_argument_group(_GROUPS[option.group])
        group = groups[option.group]
        flag, settings = _flag(option, given_only)
        if option.name in required:
            settings = {
                **settings,
                "required": True,
                "help": option.help + " (required)",
            }
        group.add_argument(flag, dest=option.name, **settings)
    parser.set_defaults(forecaster_flags=tuple(added))


def _flag(option: Option, given_only: bool) -> tuple[str, dict[str, Any]]:
    """Return the flag of ``option`` and its argparse settings."""
    default = option.default
    shown = option.default_text or _shown(default)
    if isinstance(default, bool):
        shown = "on" if default else "off"
    help_text = option.help + _CLI_HELP.get(option.name, "")
    if given_only:
        help_text += f"; when absent: {shown}"
    else:
        help_text += f" (default: {shown})"
    if isinstance(option.default, bool):  # a switch: --x, or --no-x for True
        name = option.flag if not option.default else "--no-" + option.flag[2:]
        settings = {
            "action": "store_const",
            "const": not option.default,
            "default": None if given_only else option.default,
            "help": help_text,
        }
        return name, settings  # type: ignore[return-value]
    settings = {
        "type": _PARSERS[option.parse],
        "default": None if given_only else default,
        "help": help_text,
    }
    if option.choices is not None:
        choices = [c for c in option.choices if c is not None]
        settings["choices"] = [*choices, "auto"] if option.choices == CELLS else choices
    return option.flag, settings  # type: ignore[return-value]


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def forecaster_params(
    args: argparse.Namespace, *, given_only: bool = False
) -> dict[str, Any]:
    """Return the Forecaster parameters that ``args`` give (the one such mapping).

    Every flag of :func:`add_forecaster_flags` by its parameter's name;
    ``--level``'s levels become ``levels``; ``--quiet`` turns the progress bar
    off. ``given_only``: only the flags given.
    """
    params: dict[str, Any] = {}
    for name in args.forecaster_flags:
        value = getattr(args, name)
        if given_only and value is None:
            continue
        params[name] = value
    level = getattr(args, "level", None)
    if level:
        params["levels"] = tuple(level)
    elif not given_only:
        params["levels"] = _DEFAULT_LEVELS
    if hasattr(args, "quiet") and not given_only:
        params["progress"] = not args.quiet
    return params


# --------------------------------------------------------- data and outputs
def read_data(path: Path) -> Any:
    """Read a data file, or load a shipped dataset when ``path`` names one."""
    from rnncast.data.inputs import read_table
    from rnncast.datasets import load_dataset

    if not path.is_file() and str(path) in DATASET_INFO:
        return load_dataset(str(path))
    return read_table(path)


def write_outputs(
    table_path: Path | None,
    frame: Any,
    plot_path: Path | None,
    draw: Callable[[Path], None],
) -> None:
    """Write the results table and the plot where the user asked for them."""
    from rnncast.io import write_frame

    if table_path is not None:
        write_frame(frame, table_path)
        wrote(table_path, table_path)
    if plot_path is not None:
        draw(plot_path)
        wrote(plot_path, table_path)


def wrote(path: Path, table_path: Path | None = None) -> None:
    """Say that ``path`` was written: on stdout, or stderr when the table went there."""
    if str(path) == "-":
        return
    stream = sys.stderr if str(table_path) == "-" else sys.stdout
    print(f"wrote {path}", file=stream)


def warn(line: str) -> None:
    """Print a warning on stderr, with --quiet too."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(line, markup=False)


def add_table_output(
    parser: argparse.ArgumentParser, what: str, *, required: bool = False
) -> None:
    """Add ``-o/--output FILE`` (dest ``output``): a table, or CSV on stdout."""
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        required=required,
        help=f"{what} {TABLE_HELP}{STDOUT_HELP}" + (" (required)" if required else ""),
    )


def check_table_formats(*paths: Path | None) -> None:
    """Fail before training when a table's file name names no known format.

    Only one table can go to standard output (``-``).
    """
    from rnncast.io import table_format

    given = [path for path in paths if path is not None]
    if sum(str(path) == "-" for path in given) > 1:
        raise RnncastError("only one output can be - (standard output).")
    for path in given:
        table_format(path)


def print_table(table: Table, *, stdout_taken: bool = False) -> None:
    """Print a results table to stdout, wide enough for every column in a pipe too.

    ``stdout_taken``: a table file goes to stdout, so this goes to stderr.
    """
    console = Console(stderr=stdout_taken)
    if not console.is_terminal:
        console = Console(width=160, stderr=stdout_taken)
    console.print(table)


def check_output_folders(*paths: Path | None) -> None:
    """Fail before training, not after, when an output folder does not exist."""
    for path in paths:
        if path is None or str(path) == "-":
            continue
        if not path.resolve().parent.is_dir():
            raise RnncastError(
                f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not "
                "exist."
            )
