"""Pieces shared by the command-line commands: data input, outputs, argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rnncast.classical import COMBINE_CHOICES
from rnncast.data.frame import FILL_POLICIES, MISSING_MODES, read_table
from rnncast.data.quality import AGGREGATIONS
from rnncast.data.scaling import SCALERS, TRANSFORMS
from rnncast.exceptions import RnncastError
from rnncast.intervals import CONFORMAL_ERRORS, CONFORMAL_UNITS, NETWORK_INTERVALS
from rnncast.io import write_frame
from rnncast.models.networks import LEVELS, SEASONAL_PATTERNS
from rnncast.training import LOSSES

DATA_HELP = (
    "CSV or Parquet file in long format, or the name of a shipped dataset "
    "(air_passengers, ili, exchange_rate)"
)


def data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--id-col", default="unique_id", help="series id column")
    group.add_argument("--time-col", default="ds", help="time column")
    group.add_argument("--target-col", default="y", help="value column")
    group.add_argument(
        "--freq", help="frequency alias such as D, MS, h (inferred if omitted)"
    )
    group.add_argument(
        "--fill",
        choices=FILL_POLICIES,
        help="policy for missing values (default: error)",
    )


# Forecaster's defaults, here so that `rnncast --help` does not import the
# forecaster; a test checks them against Forecaster's signature.
FORECASTER_DEFAULTS: dict[str, Any] = {
    "scaler": "mase",
    "transform": "none",
    "level": "auto",
    "seasonal_pattern": "auto",
    "ensemble": 1,
    "combine": "theta",
    "loss": "mae",
    "epochs": 100,
    "batch_size": 256,
    "learning_rate": 1e-3,
}


def network_options(group: Any, *, with_defaults: bool) -> None:
    """Add the networks' scaling, transform, level, ensemble and loss options.

    ``with_defaults``: the options carry the Forecaster's defaults (``forecast``);
    otherwise they default to None, so only the ones given reach the networks
    (``backtest``, ``report``).
    """

    def default(name: str) -> Any:
        return FORECASTER_DEFAULTS[name] if with_defaults else None

    def shown(name: str) -> str:  # the help formatter shows given defaults itself
        return "" if with_defaults else f"; when absent: {FORECASTER_DEFAULTS[name]}"

    group.add_argument(
        "--scaler",
        choices=SCALERS,
        default=default("scaler"),
        help="networks: per-series scaling; mase divides by the in-sample "
        "seasonal-naive MAE" + shown("scaler"),
    )
    group.add_argument(
        "--transform",
        choices=TRANSFORMS,
        default=default("transform"),
        help="networks: per-series power transform before scaling" + shown("transform"),
    )
    group.add_argument(
        "--window-level",
        choices=("auto", *LEVELS),
        default=default("level"),
        help="networks: per-window normalisation; detect (what auto means for the "
        "direct head): series that pass a seasonality test start from the "
        "window's mean seasonal pattern, the others from its last season's mean; "
        "snaive: every window from its seasonal-naive forecast" + shown("level"),
    )
    group.add_argument(
        "--seasonal-pattern",
        choices=SEASONAL_PATTERNS,
        default=default("seasonal_pattern"),
        help="networks: the pattern detect starts seasonal series from; auto: "
        "multiplicative in windows of positive values (without --transform), "
        "additive: always additive, for data with an arbitrary zero such as "
        "temperatures" + shown("seasonal_pattern"),
    )
    group.add_argument(
        "--season-inputs",
        action="store_true",
        default=None,
        help="networks: give the network the season phase of every input (month "
        "of the year, hour of the day...) as two extra input channels",
    )
    group.add_argument(
        "--ensemble",
        type=positive_int,
        default=default("ensemble"),
        help="networks: networks per model (seeds, lookbacks) whose median is the "
        "forecast" + shown("ensemble"),
    )
    group.add_argument(
        "--combine",
        choices=COMBINE_CHOICES,
        default=default("combine"),
        help="networks: mix each forecast with the Theta method's (or the mean of "
        "it and damped-trend smoothing's), the network's weight (0 to 1) chosen on "
        "the validation windows; none: the network alone" + shown("combine"),
    )
    group.add_argument(
        "--loss",
        choices=[name for name in LOSSES if name != "pinball"],
        default=default("loss"),
        help="networks: training loss" + shown("loss"),
    )


def interval_options(parser: argparse.ArgumentParser) -> None:
    """Options for prediction intervals."""
    group = parser.add_argument_group("prediction intervals")
    group.add_argument(
        "--level",
        type=float,
        nargs="+",
        metavar="PERCENT",
        help="add prediction intervals at these levels, e.g. --level 80 95",
    )
    group.add_argument(
        "--intervals",
        choices=NETWORK_INTERVALS,
        default="conformal",
        help="networks: conformal intervals from validation errors, quantile "
        "heads trained with the pinball loss, or cqr: quantile heads whose "
        "intervals are conformalized on the validation windows",
    )
    group.add_argument(
        "--conformal-errors",
        choices=CONFORMAL_ERRORS,
        default="signed",
        help="conformal intervals (networks, and --baseline-intervals conformal): "
        "signed: each tail from its own quantile of the errors, following their "
        "bias and skew (symmetric where too few); absolute: symmetric widths",
    )
    group.add_argument(
        "--conformal-unit",
        choices=CONFORMAL_UNITS,
        default="recent",
        help="conformal intervals: each series' unit of the errors; recent: the "
        "seasonal-naive MAE's geometric mean with the spread of the last three "
        "seasons' changes (calm series get narrower bands); seasonal: that MAE",
    )
    group.add_argument(
        "--conformal-per-series",
        action="store_true",
        default=None,
        help="networks' conformal intervals: each series from its own validation "
        "errors where it has enough for the level, the others from all series'",
    )


def baseline_interval_option(parser: argparse.ArgumentParser) -> None:
    """Add the option that picks the baselines' intervals in a backtest."""
    parser.add_argument(
        "--baseline-intervals",
        choices=("model", "conformal"),
        default="model",
        help="baselines: their own model-based intervals, or conformal ones built "
        "like the networks'",
    )


def quality_options(parser: argparse.ArgumentParser) -> None:
    """Options for messy data: masking gaps, resampling, the outlier report."""
    group = parser.add_argument_group("data quality")
    group.add_argument(
        "--missing",
        choices=MISSING_MODES,
        default="error",
        help="'mask' keeps gaps as gaps: the network sees an observed/missing "
        "indicator and the loss skips unobserved targets",
    )
    group.add_argument(
        "--resample",
        type=frequency,
        metavar="FREQ",
        help="put irregular timestamps on a regular grid first, e.g. 5min, h, MS "
        "or an integer step",
    )
    group.add_argument(
        "--aggregation",
        choices=AGGREGATIONS,
        default="mean",
        help="how rows in one grid step are combined when resampling",
    )
    group.add_argument(
        "--max-gap",
        type=non_negative_int,
        default=0,
        help="when resampling, interpolate runs of at most this many empty steps",
    )
    group.add_argument(
        "--outliers",
        type=Path,
        metavar="FILE",
        help="write the outlier report (points beyond 5 robust deviations of "
        "their neighbours) to this CSV/Parquet file",
    )


def frequency(text: str) -> str | int:
    """Parse a frequency: an integer step or a pandas alias."""
    return int(text) if text.strip().isdigit() else text


def write_outputs(
    table_path: Path | None,
    frame: Any,
    plot_path: Path | None,
    draw: Callable[[Path], None],
) -> None:
    """Write the results table and the plot where the user asked for them."""
    if table_path is not None:
        write_frame(frame, table_path)
        print(f"wrote {table_path}")
    if plot_path is not None:
        draw(plot_path)
        print(f"wrote {plot_path}")


def print_table(table: Table) -> None:
    """Print a results table to stdout, wide enough for every column in a pipe too."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(table)


def read_data(path: Path) -> Any:
    """Read a data file, or load a shipped dataset when ``path`` names one."""
    from rnncast.datasets import DATASETS, load_dataset

    if not path.is_file() and str(path) in DATASETS:
        return load_dataset(str(path))
    return read_table(path)


def model_names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated model names, got {text!r}"
        )
    return names


def check_output_folders(*paths: Path | None) -> None:
    """Fail before training, not after, when an output folder does not exist."""
    for path in paths:
        if path is not None and not path.resolve().parent.is_dir():
            raise RnncastError(
                f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not "
                "exist."
            )


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
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 128,64, got {text!r}"
        ) from None
    if not widths or any(w <= 0 for w in widths):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return widths
