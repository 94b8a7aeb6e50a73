"""Every parameter of :class:`~rnncast.Forecaster`, declared once.

:class:`ForecasterParams` lists each parameter with its default, its allowed values,
a one-line help text and how the command line spells it. Everything else derives
from it: the Forecaster's signature and the Parameters section of its docstring,
the ``rnncast forecast`` / ``backtest`` / ``report`` flags and the mapping of
their arguments back to parameters, and the parameters saved in a model folder.
docs/parameters.md explains each one at length (a test keeps it complete).

This module imports nothing heavy (no NumPy, pandas or torch), so the command line
can build its help from it in a blink.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rnncast.checks import (
    check_combinations,
    check_horizon,
    check_levels,
    column_names,
    dilation_groups,
    fraction,
    layer_widths,
    lookbacks,
    non_negative_int,
    optional_text,
    positive_int,
    positive_number,
    seasons,
    text,
)
from rnncast.option import Option, option_field

__all__ = [
    "AGGREGATIONS",
    "CELLS",
    "COMBINATIONS",
    "COMBINE_CHOICES",
    "CONFORMAL_ERRORS",
    "CONFORMAL_UNITS",
    "FILL_POLICIES",
    "INTERVALS",
    "LOSSES",
    "MIN_VALUES",
    "MISSING_MODES",
    "OUTPUTS",
    "SCALERS",
    "SEASONAL_PATTERNS",
    "TRANSFORMS",
    "WINDOW_LEVELS",
    "ForecasterParams",
    "ModelParams",
    "Option",
    "options",
]

# ------------------------------------------------------------ allowed values
CELLS = ("lstm", "gru", "rnn", "slstm", "mlstm")
OUTPUTS = ("direct", "recursive")
# What each window's forecast starts from (models.window_levels); "auto" chooses.
WINDOW_LEVELS = ("last", "season", "snaive", "adaptive", "detect", "none")
SEASONAL_PATTERNS = ("auto", "additive")
TRANSFORMS = ("auto", "log", "log1p", "boxcox", "none")
SCALERS = ("standard", "robust", "mase", "none")
LOSSES = ("mse", "mae", "huber", "smape")  # training also knows "pinball" (heads)
COMBINATIONS = ("theta", "theta+damped")  # classical forecasts to mix in
COMBINE_CHOICES = (*COMBINATIONS, "none")  # "none" (or None): the network alone
INTERVALS = ("auto", "conformal", "quantile", "cqr")
CONFORMAL_ERRORS = ("signed", "absolute")
CONFORMAL_UNITS = ("recent", "seasonal")
FILL_POLICIES = ("interpolate", "ffill", "drop-leading")
MISSING_MODES = ("auto", "mask", "error")
AGGREGATIONS = ("mean", "median", "sum", "last", "first", "min", "max")
# Series with fewer observed values give no training window (an input and a target)
# and get their last value instead of the network's forecast (missing="auto" or
# "mask"); docs/robustness.md measures the network against Theta and naive on short
# series.
MIN_VALUES = 2


def _levels(name: str, value: Any) -> None:
    check_levels(value)


_OUTPUT = dict(group="model")
_TRAIN = dict(group="training")
_DATA = dict(group="data")
_BANDS = dict(group="intervals")
_RUN = dict(group="run")
_COVARIATES = dict(group="covariates")


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """The model, training and interval parameters of a :class:`ForecasterParams`.

    Declared apart from the data, covariate and run parameters only to keep each
    class short; their order here is the signature's.
    """

    # ------------------------------------------------------------- model
    horizon: int | None = option_field(
        None,
        "number of future steps to forecast",
        "int",
        check=positive_int,
        parse="positive_int",
        default_text="None (fit needs it; a backtest sets its own)",
        **_OUTPUT,
    )
    cell: str = option_field(
        "lstm",
        "recurrent cell of every layer (rnn: tanh; slstm, mlstm: the xLSTM's)",
        "{'lstm', 'gru', 'rnn', 'slstm', 'mlstm'}",
        choices=CELLS,
        **_OUTPUT,
    )
    lookback: int | Sequence[int] | None = option_field(
        None,
        "past values read per forecast; with an ensemble, one per member in turn "
        "(comma-separated on the command line)",
        "int or sequence of int",
        check=lookbacks,
        parse="lookbacks",
        default_text="max(2*horizon, 2*season_length)",
        **_OUTPUT,
    )
    hidden: int | Sequence[int] = option_field(
        (64,),
        "width of each stacked layer: (128, 64) is LSTM 128 -> LSTM 64 -> linear",
        "int or sequence of int",
        check=layer_widths,
        parse="widths",
        **_OUTPUT,
    )
    dilations: int | Sequence[int] | Sequence[Sequence[int]] | None = option_field(
        None,
        "layer k reads step t - dilations[k] (1,24); (1,4),(24,168): residual groups",
        "int, one per layer, or groups of them ((1, 4), (24, 168)); None (all 1)",
        check=dilation_groups,
        parse="dilations",
        default_text="every layer 1",
        **_OUTPUT,
    )
    dropout: float = option_field(
        0.0,
        "dropout between stacked layers",
        "float in [0, 1)",
        check=fraction,
        parse="float",
        **_OUTPUT,
    )
    output: str = option_field(
        "direct",
        "forecast all steps at once, or one step at a time fed back",
        "{'direct', 'recursive'}",
        choices=OUTPUTS,
        flag="--output-mode",
        **_OUTPUT,
    )
    window_level: str = option_field(
        "auto",
        "what each window's forecast starts from: detect tests each series for "
        "seasonality and starts seasonal ones from the window's mean seasonal "
        "pattern, the others from its last season's mean; snaive, adaptive, "
        "season, last, none; auto is detect (season for the recursive head), "
        "checked against the last value on validation",
        "{'auto', 'detect', 'snaive', 'adaptive', 'season', 'last', 'none'}",
        choices=("auto", *WINDOW_LEVELS),
        label="window_level",
        **_OUTPUT,
    )
    seasonal_pattern: str = option_field(
        "auto",
        "the pattern detect starts seasonal series from: auto is multiplicative "
        "in windows of positive values (without a transform), additive always "
        "additive, for data with an arbitrary zero such as temperatures",
        "{'auto', 'additive'}",
        choices=SEASONAL_PATTERNS,
        **_OUTPUT,
    )
    transform: str = option_field(
        "none",
        "per-series power transform before scaling: log, log1p, boxcox "
        "(Guerrero's power), auto (log for positive data, log1p for counts)",
        "{'none', 'auto', 'log', 'log1p', 'boxcox'}",
        choices=TRANSFORMS,
        **_OUTPUT,
    )
    scaler: str = option_field(
        "mase",
        "per-series scaling fitted on the training part; mase divides by the "
        "in-sample seasonal-naive MAE, so the MAE loss is each window's MASE",
        "{'mase', 'standard', 'robust', 'none'}",
        choices=SCALERS,
        **_OUTPUT,
    )
    season_inputs: bool = option_field(
        False,
        "give the network each input's phase in every kept season (month of the "
        "year; hour of the day and of the week...) as sine and cosine channels",
        "bool",
        **_OUTPUT,
    )
    ensemble: int = option_field(
        1,
        "networks trained with seeds seed, seed+1, ... and lookbacks 1x, 1.5x, 2x "
        "the base; the forecast is their median",
        "int",
        check=positive_int,
        parse="positive_int",
        **_OUTPUT,
    )
    combine: str | None = option_field(
        "theta",
        "mix the network's forecast with a classical one on each series' whole "
        "history, the network's weight chosen on validation: theta (the Theta "
        "method), theta+damped (its mean with damped-trend smoothing), none (the "
        "network alone)",
        "{'theta', 'theta+damped', 'none'} or None",
        choices=(*COMBINE_CHOICES, None),
        **_OUTPUT,
    )
    alias: str | None = option_field(
        None,
        "name of the forecast column and of the model in backtests",
        "str",
        check=optional_text,
        default_text="yhat",
        **_OUTPUT,
    )
    # ---------------------------------------------------------- training
    loss: str = option_field(
        "mae",
        "training loss in scaled units; smape is computed in the data's units",
        "{'mae', 'mse', 'huber', 'smape'}",
        choices=LOSSES,
        **_TRAIN,
    )
    epochs: int = option_field(
        100,
        "maximum epochs (each windows_per_epoch windows)",
        "int",
        check=positive_int,
        parse="positive_int",
        **_TRAIN,
    )
    batch_size: int = option_field(
        256,
        "windows per optimiser step",
        "int",
        check=positive_int,
        parse="positive_int",
        **_TRAIN,
    )
    learning_rate: float = option_field(
        1e-3,
        "Adam's initial step size",
        "float",
        check=positive_number,
        parse="float",
        **_TRAIN,
    )
    clip_norm: float | None = option_field(
        1.0,
        "largest global gradient norm; None (0 on the command line) turns clipping off",
        "float or None",
        check=positive_number,
        parse="clip_norm",
        **_TRAIN,
    )
    patience: int = option_field(
        20,
        "epochs without a better validation loss before stopping early",
        "int",
        check=positive_int,
        parse="positive_int",
        **_TRAIN,
    )
    max_steps: int | None = option_field(
        2000,
        "stop each training after this many optimiser steps, mid-epoch too",
        "int or None",
        check=positive_int,
        parse="limit",
        **_TRAIN,
    )
    windows_per_epoch: int | None = option_field(
        16384,
        "training windows an epoch draws at random (without replacement) from all "
        "of them, so that an epoch's cost does not grow with the history; None "
        "(none on the command line): all",
        "int or None",
        check=positive_int,
        parse="limit",
        **_TRAIN,
    )
    time_limit: float | None = option_field(
        None,
        "seconds the fit may spend training, shared among its trainings (members, "
        "refits): each stops, mid-epoch too, when its share is spent",
        "float or None",
        check=positive_number,
        parse="float",
        flag="--fit-time-limit",
        default_text="no limit",
        **_TRAIN,
    )
    validation: bool = option_field(
        True,
        "hold out the last horizon + validation_windows - 1 values of each series "
        "for early stopping, the mix's weight and conformal intervals",
        "bool",
        **_TRAIN,
    )
    validation_windows: int | None = option_field(
        None,
        "validation windows per series, one step apart",
        "int or None",
        check=positive_int,
        parse="positive_int",
        default_text="1, or as many as give 40 calibration errors in all (intervals "
        "auto) or per horizon step (conformal, cqr), at most horizon",
        **_TRAIN,
    )
    refit_full: bool = option_field(
        True,
        "after validation, continue each network on whole series (the newest "
        "windows) for a quarter of its best number of epochs",
        "bool",
        **_TRAIN,
    )
    seed: int = option_field(
        0,
        "seeds Python, NumPy and torch: the same seed, the same forecast",
        "int",
        parse="int",
        **_TRAIN,
    )
    init_weights: str | None = option_field(
        None,
        "start each network from these weights and fine-tune it: a .keras file of "
        "the same recurrent layers (Forecaster.from_keras) or a saved model folder",
        "str (a path) or None",
        check=optional_text,
        default_text="a random draw from the seed",
        **_TRAIN,
    )
    # --------------------------------------------------------- intervals
    intervals: str | None = option_field(
        "auto",
        "how predict(level=) makes prediction intervals: conformal (from the "
        "validation errors, any level), quantile (heads trained with the pinball "
        "loss), cqr (quantile heads conformalized on the validation windows), auto "
        "(conformal from the validation windows, none without validation) or "
        "none (no intervals)",
        "{'auto', 'conformal', 'quantile', 'cqr', 'none'} or None",
        choices=(*INTERVALS, "none", None),
        **_BANDS,
    )
    levels: Sequence[float] = option_field(
        (80, 95),
        "interval levels in percent that quantile heads are trained for",
        "sequence of float",
        check=_levels,
        flag=None,
        **_BANDS,
    )
    conformal_errors: str = option_field(
        "signed",
        "signed: each tail from its own quantile of the errors, following their "
        "bias and skew (symmetric where too few); absolute: symmetric widths",
        "{'signed', 'absolute'}",
        choices=CONFORMAL_ERRORS,
        **_BANDS,
    )
    conformal_unit: str = option_field(
        "recent",
        "each series' unit of the conformal errors: recent is the seasonal-naive "
        "MAE's geometric mean with the spread of the last three seasons' changes; "
        "seasonal is that MAE",
        "{'recent', 'seasonal'}",
        choices=CONFORMAL_UNITS,
        **_BANDS,
    )
    conformal_per_series: bool = option_field(
        False,
        "calibrate each series on its own validation errors where it has enough "
        "for the level, the others on all series' errors",
        "bool",
        **_BANDS,
    )


@dataclass(frozen=True, kw_only=True)
class ForecasterParams(ModelParams):
    """The parameters of a :class:`~rnncast.Forecaster`, checked as a whole.

    ``ForecasterParams(**forecaster.get_params()).validate()`` raises
    :class:`~rnncast.ConfigError` naming the first bad value, before any data is
    read.
    """

    # -------------------------------------------------------------- data
    fill: str | None = option_field(
        None,
        "policy for missing or infinite values; without one they are kept as "
        "masked gaps (missing='auto' or 'mask') or an error (missing='error')",
        "{'interpolate', 'ffill', 'drop-leading'} or None",
        choices=(*FILL_POLICIES, None),
        default_text="none",
        **_DATA,
    )
    missing: str = option_field(
        "auto",
        "gaps and short series: mask keeps gaps as gaps (an observed/missing input "
        "channel, the loss on observed targets only) and pads series shorter than "
        "a window the same way (a series of one value gets that value); auto masks "
        "only when the data has gaps (without fill) or short series; error refuses "
        "both",
        "{'auto', 'mask', 'error'}",
        choices=MISSING_MODES,
        label="missing mode",
        **_DATA,
    )
    resample: str | int | None = option_field(
        None,
        "put irregular timestamps on a regular grid of this step first, e.g. "
        "5min, h, MS or an integer step",
        "str, int or None",
        parse="frequency",
        default_text="none",
        **_DATA,
    )
    aggregation: str = option_field(
        "mean",
        "how rows that fall into one grid step are combined when resampling",
        "{'mean', 'median', 'sum', 'last', 'first', 'min', 'max'}",
        choices=AGGREGATIONS,
        **_DATA,
    )
    max_gap: int = option_field(
        0,
        "when resampling, interpolate runs of at most this many empty steps",
        "int",
        check=non_negative_int,
        parse="non_negative_int",
        **_DATA,
    )
    freq: str | int | None = option_field(
        None,
        "frequency alias such as D, MS, h, or the integer step of integer time",
        "str, int or None",
        default_text="inferred",
        parse="frequency",
        **_DATA,
    )
    season_length: int | Sequence[float] | None = option_field(
        None,
        "seasonal period, or several shortest first (24,168: a day and a week "
        "of hours); the lookback covers them up to 336 steps",
        "int, sequence of numbers or None",
        check=seasons,
        parse="seasons",
        default_text="the frequency's usual periods that the data shows",
        **_DATA,
    )
    id_col: str = option_field(
        "unique_id", "series id column", "str", check=text, **_DATA
    )
    time_col: str = option_field("ds", "time column", "str", check=text, **_DATA)
    target_col: str = option_field("y", "value column", "str", check=text, **_DATA)
    # -------------------------------------------------------- covariates
    futr_exog: Sequence[str] = option_field(
        (),
        "columns known for the forecast horizon too (prices, planned promotions, "
        "weather forecasts): in the data and, for the horizon, in futr_df",
        "sequence of str",
        check=column_names,
        parse="names",
        default_text="none",
        **_COVARIATES,
    )
    hist_exog: Sequence[str] = option_field(
        (),
        "columns observed up to the forecast origin only (other sensors, other vitals)",
        "sequence of str",
        check=column_names,
        parse="names",
        default_text="none",
        **_COVARIATES,
    )
    stat_exog: Sequence[str] = option_field(
        (),
        "columns with one value per series (region, category: text is one-hot "
        "encoded), in the data or in fit's static_df",
        "sequence of str",
        check=column_names,
        parse="names",
        default_text="none",
        **_COVARIATES,
    )
    calendar: bool = option_field(
        False,
        "add future-known calendar inputs chosen from the frequency (hour of "
        "day, day of week, day of year...)",
        "bool",
        **_COVARIATES,
    )
    holidays: str | None = option_field(
        None,
        "country code (US, GB, DE...) of a public-holiday flag among the "
        "calendar inputs; needs the holidays package",
        "str or None",
        check=optional_text,
        default_text="none",
        **_COVARIATES,
    )
    # --------------------------------------------------------------- run
    device: str = option_field(
        "auto",
        "auto (CUDA when present, else the CPU), cpu or cuda",
        "str",
        check=text,
        **_RUN,
    )
    cuda_graphs: bool = option_field(
        True,
        "on a CUDA device, capture each training step as a CUDA graph and replay "
        "it (the same numbers, faster)",
        "bool",
        **_RUN,
    )
    progress: bool = option_field(
        False,
        "show a progress bar of epochs and losses on stderr",
        "bool",
        flag=None,
        **_RUN,
    )

    def validate(self) -> ForecasterParams:
        """Check every value and their combinations; return ``self``.

        Raises ConfigError naming the parameter, the value and what to choose.
        """
        check_horizon(self.horizon)
        for option in options():
            option.validate(getattr(self, option.name))
        check_combinations(self)
        return self

    @property
    def combination(self) -> str | None:
        """``combine`` with "none" as None: the classical method mixed in, if any."""
        return None if self.combine in (None, "none") else self.combine


def options() -> Iterator[Option]:
    """Every parameter's :class:`Option`, in signature order."""
    for item in dataclasses.fields(ForecasterParams):
        settings = dict(item.metadata["option"])
        settings.setdefault("flag", "--" + item.name.replace("_", "-"))
        yield Option(name=item.name, default=item.default, **settings)
