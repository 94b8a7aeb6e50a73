"""Fitting, as stages that return values: data -> trained networks -> FittedState.

:func:`fit_state` runs, for a :class:`~rnncast.forecaster.plan.FitPlan` (masking
resolved on the data, :mod:`rnncast.forecaster.fallbacks`), on the series long
enough for the network:

1. :func:`training_data`: the series padded or checked, the training windows, the
   transform and scaler fitted without the validation holdout, the scaled values
   and extra input channels on the device;
2. :func:`train_members`: every ensemble member trained from its own seed;
3. with validation, :func:`validated_fit`: the validation windows scored, the
   naive check (a second network forecasting changes from the last value, kept if
   it validates better), the classical mix's weight and the calibration scores;
4. with ``refit_full``, the validated plan trained again on whole series for
   each member's best number of epochs;
5. the series too short for a training window added, with naive forecasts.

Each stage returns what it made; nothing is stored on the estimator until
:class:`~rnncast.forecaster.state.FittedState` is complete.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from rnncast.combine import FittedMix
from rnncast.data.quality import DataReport
from rnncast.data.scaling import (
    ScalerStats,
    fit_scaler,
    per_value,
    transform,
    transform_rows,
)
from rnncast.data.seasonality import seasonal_series
from rnncast.data.series import SeriesData
from rnncast.data.windows import (
    gather,
    last_inputs,
    training_starts,
    validation_starts,
)
from rnncast.exceptions import DataError
from rnncast.forecaster.fallbacks import planned, with_fallbacks
from rnncast.forecaster.features import InputSpec, value_channels
from rnncast.forecaster.plan import FitPlan, make_plan
from rnncast.forecaster.reading import check_lengths, fitted_transform, padded
from rnncast.forecaster.state import FittedSeries, FittedState, Network
from rnncast.intervals.conformal import independent_windows
from rnncast.intervals.methods import Calibration
from rnncast.models.networks import EnsembleNetwork, RecurrentNetwork
from rnncast.options import MIN_VALUES, ForecasterParams
from rnncast.training import (
    EpochRecord,
    TrainConfig,
    naive_loss,
    seed_everything,
    train,
)

__all__ = [
    "PREDICT_BATCH",
    "Trained",
    "TrainingData",
    "Validated",
    "best_epoch",
    "fit_state",
    "train_members",
    "training_data",
    "validated_fit",
]

PREDICT_BATCH = 1024  # windows per forward pass; smaller stayed in cache, faster
OnEpoch = Callable[[EpochRecord], None] | None


@dataclass(frozen=True)
class TrainingData:
    """The data of one training, scaled and on the device.

    ``series`` is padded with unobserved values where ``missing="mask"``; the
    last ``holdout`` values of each series are left out of training windows and
    of the scaler.
    """

    series: SeriesData
    holdout: int
    transform: str
    stats: ScalerStats
    scaled: NDArray[np.float64]  # (n_points,) every value, scaled
    values: torch.Tensor  # the same, float32 on the device
    channels: torch.Tensor | None  # (n_points, k) extra input channels
    units: tuple[torch.Tensor, torch.Tensor] | None  # (loc, scale) for smape
    train_starts: NDArray[np.int64]


@dataclass(frozen=True)
class Trained:
    """The network of one training (the members' median ensemble) and its epochs."""

    network: Network
    history: list[EpochRecord]


@dataclass(frozen=True)
class Validated:
    """A training scored on its validation windows.

    ``plan`` is the one trained (the naive check's, with ``level_choice``, when
    that network won); ``unit`` each series' unit of the calibration scores.
    """

    plan: FitPlan
    data: TrainingData
    trained: Trained
    level_scores: dict[str, float] | None
    mix: FittedMix
    calibration: Calibration | None


def fit_state(
    params: ForecasterParams,
    series: SeriesData,
    report: DataReport | None = None,
    on_epoch: OnEpoch = None,
) -> FittedState:
    """Fit as :meth:`~rnncast.Forecaster.fit` describes; return the fitted state.

    The network trains on the series with at least ``plan.min_length`` observed
    values; the others get their last value (:func:`with_fallbacks`).
    """
    plan = planned(params, series)
    short = series.lengths < plan.min_length
    if short.all():
        raise DataError(
            f"every series has fewer than {MIN_VALUES} observed values, too few for "
            "a single training window; give more history."
        )
    trained = series
    if short.any():
        trained = series.select(np.flatnonzero(~short))
        plan = make_plan(
            params, series.freq, trained.n_series, masked=True, seasons=plan.seasons
        )
    state = _network_state(plan.started(), trained, report, on_epoch)
    if not short.any():
        return state
    state = with_fallbacks(plan, state, series)
    if report is not None:
        report = dataclasses.replace(report, fallbacks=dict(state.fallbacks))
    return dataclasses.replace(state, data_report=report)


def _network_state(
    plan: FitPlan,
    series: SeriesData,
    report: DataReport | None,
    on_epoch: OnEpoch,
) -> FittedState:
    """Train, validate and refit the network of ``plan`` on ``series``."""
    params = plan.params
    if not params.validation:
        data = training_data(plan, series, holdout=0)
        trained = train_members(plan, data, validated=False, on_epoch=on_epoch)
        return _fitted(plan, series, data, trained, None, report)
    chosen = validated_fit(plan, series, on_epoch)
    if not params.refit_full:
        return _fitted(chosen.plan, series, chosen.data, chosen.trained, chosen, report)
    data = training_data(chosen.plan, series, holdout=0)
    epochs = [
        best_epoch(chosen.trained.history, k) for k in range(len(chosen.plan.lookbacks))
    ]
    refit = train_members(
        chosen.plan, data, validated=False, epochs=epochs, on_epoch=on_epoch
    )
    return _fitted(chosen.plan, series, data, refit, chosen, report)


def training_data(plan: FitPlan, series: SeriesData, holdout: int) -> TrainingData:
    """Prepare ``series`` for a training that holds out its last ``holdout`` values."""
    horizon = int(plan.params.horizon)  # type: ignore[arg-type]
    if plan.masked:  # short series: padded with unobserved values
        series = padded(series, plan.lookback + horizon + holdout)
    else:
        check_lengths(series, plan.lookback, horizon)
    starts = training_starts(series.offsets, plan.lookback, horizon, holdout)
    if len(starts) == 0:
        longest = int(series.lengths.max())
        raise DataError(
            f"no training windows: with validation=True and "
            f"{plan.validation_windows} validation window(s) a series needs "
            f"lookback + horizon + {holdout} = {plan.lookback + horizon + holdout} "
            f"values, the longest has {longest}. Use a shorter lookback, fewer "
            "validation_windows or validation=False."
        )
    kind = fitted_transform(plan.params, series)
    stats = _fitted_scaler(plan, series, holdout, kind)
    scaled = _scaled_values(series, stats)
    spec = InputSpec.of(
        plan.params, plan.network, plan.seasons, series.freq, plan.masked
    )
    channels = value_channels(spec, series, stats)
    units = None
    if plan.training.loss == "smape":  # scored in the data's own units
        each = per_value(stats, series.offsets)
        units = (
            torch.as_tensor(each.loc, dtype=torch.float32).to(plan.device),
            torch.as_tensor(each.scale, dtype=torch.float32).to(plan.device),
        )
    return TrainingData(
        series=series,
        holdout=holdout,
        transform=kind,
        stats=stats,
        scaled=scaled,
        values=torch.as_tensor(scaled, dtype=torch.float32).to(plan.device),
        channels=None if channels is None else channels.to(plan.device),
        units=units,
        train_starts=starts,
    )


def _fitted_scaler(
    plan: FitPlan, series: SeriesData, holdout: int, kind: str
) -> ScalerStats:
    """Fit the scaler of every series without its last ``holdout`` values.

    With ``level="detect"`` the stats also carry each series' seasonality flag,
    tested on the same values.
    """
    fitted = series.lengths - holdout
    stats = fit_scaler(
        series.values,
        series.offsets,
        fitted,
        plan.params.scaler,  # type: ignore[arg-type]
        power=kind,  # type: ignore[arg-type]
        season_length=plan.season_length,
    )
    if plan.network.level != "detect":
        return stats
    flags = seasonal_series(
        series.values, series.offsets, fitted, plan.network.season_length
    )
    return dataclasses.replace(stats, seasonal=flags.astype(np.float64))


def _scaled_values(series: SeriesData, stats: ScalerStats) -> NDArray[np.float64]:
    """Scaled values for training; DataError if a series overflows float32."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = transform(series.values, series.offsets, stats)
        overflow = np.abs(scaled) > np.finfo(np.float32).max
    if overflow.any():
        i = int(series.owners(np.argmax(overflow)))
        raise DataError(
            f"series {series.ids[i]!r} spans too many orders of magnitude: scaled by "
            "its training part, some values exceed float32 (about 3.4e38). Check the "
            "series for corrupt values, or use scaler='robust' or a log transform."
        )
    return scaled


def train_members(
    plan: FitPlan,
    data: TrainingData,
    *,
    validated: bool,
    epochs: list[int] | None = None,
    on_epoch: OnEpoch = None,
) -> Trained:
    """Train every ensemble member on ``data``; their median is the network.

    Member ``k`` starts from the seed ``seed + k`` and reads its own lookback;
    ``validated``: monitored on the validation windows; ``epochs``: the refit,
    member ``k`` trained for ``epochs[k]`` epochs on every window. Under a
    ``time_limit``, each training gets an equal share of the time left for it
    and those still to come (the refit's included).
    """
    members, history = [], []
    n = len(plan.lookbacks)
    refit_next = validated and plan.params.refit_full
    for k, lookback in enumerate(plan.lookbacks):
        config = plan.training_config(n - k + (n if refit_next else 0))
        if epochs is not None:
            config = dataclasses.replace(config, epochs=epochs[k], patience=epochs[k])
        windows = plan.validation_windows if validated else 0
        network, records = _train_member(
            plan, data, k, lookback, windows, config, epochs is not None, on_epoch
        )
        members.append(network)
        history += records
    if len(members) == 1:
        return Trained(members[0], history)
    return Trained(EnsembleNetwork(members, list(plan.lookbacks)), history)


def _train_member(
    plan: FitPlan,
    data: TrainingData,
    k: int,
    lookback: int,
    n_val: int,
    config: TrainConfig,
    refit: bool,
    on_epoch: OnEpoch,
) -> tuple[RecurrentNetwork, list[EpochRecord]]:
    """Train member ``k`` (a refit's records are stamped so)."""
    horizon = int(plan.params.horizon)  # type: ignore[arg-type]
    generator = seed_everything(plan.params.seed + k)
    network = RecurrentNetwork(plan.network).to(plan.device)
    offsets = data.series.offsets
    starts = training_starts(offsets, lookback, horizon, data.holdout)
    ends = (
        validation_starts(offsets, lookback, horizon, n_val)
        if n_val
        else np.empty(0, dtype=np.int64)
    )
    fit_args = {
        "lookback": lookback,
        "horizon": horizon,
        "config": config,
        "generator": generator,
        "masked": plan.masked,
        "channels": data.channels,
        "units": data.units,
        "member": k,
        "refit": refit,
    }
    train_starts = torch.as_tensor(starts).to(plan.device)
    val_starts = torch.as_tensor(ends).to(plan.device)
    if not plan.params.progress:
        records = train(
            network,
            data.values,
            train_starts,
            val_starts,
            **fit_args,
            on_epoch=on_epoch,
        )
        return network, records
    from rnncast.progress import training_bar

    label = plan.params.cell.upper() + (f" {k + 1}" if len(plan.lookbacks) > 1 else "")
    label += " last-value start" if plan.level_choice == "last" else ""
    label += " refit" if refit else ""
    with training_bar(label, config.epochs) as bar:
        records = train(
            network,
            data.values,
            train_starts,
            val_starts,
            **fit_args,
            on_epoch=bar if on_epoch is None else _both(bar, on_epoch),
        )
    return network, records


def _both(
    first: Callable[[EpochRecord], None], second: Callable[[EpochRecord], None]
) -> Callable[[EpochRecord], None]:
    def call(record: EpochRecord) -> None:
        first(record)
        second(record)

    return call


def validated_fit(plan: FitPlan, series: SeriesData, on_epoch: OnEpoch) -> Validated:
    """Train and validate; with ``window_level="auto"``, the naive check.

    When the network's best validation loss is not below the naive (last-value)
    forecast's on the same windows, a network forecasting changes from the last
    value is trained too (:meth:`FitPlan.choosing_last`) and the one with the
    lower validation loss is kept; ``level_scores`` holds the losses compared.
    """
    first = _validated_once(plan, series, on_epoch)
    scores, level = first.level_scores, plan.network.level
    if (
        plan.params.window_level != "auto"
        or scores is None
        or level == "last"
        or scores[level] < scores["naive"]
    ):
        return first
    second = _validated_once(plan.choosing_last(), series, on_epoch)
    scores = {**scores, **(second.level_scores or {})}
    kept = second if scores["last"] < scores[level] else first
    return dataclasses.replace(kept, level_scores=scores)


def _validated_once(plan: FitPlan, series: SeriesData, on_epoch: OnEpoch) -> Validated:
    """Train on ``series`` without its holdout, then score the validation windows."""
    horizon = int(plan.params.horizon)  # type: ignore[arg-type]
    data = training_data(plan, series, plan.holdout)
    trained = train_members(plan, data, validated=True, on_epoch=on_epoch)
    # every member's validation windows end at the same targets: one set serves
    starts = validation_starts(
        data.series.offsets, plan.lookback, horizon, plan.validation_windows
    )
    on_device = torch.as_tensor(starts).to(plan.device)
    level_scores = None
    if not plan.network.quantiles:
        naive = naive_loss(
            data.values,
            on_device,
            lookback=plan.lookback,
            horizon=horizon,
            config=plan.training,
            masked=plan.masked,
            channels=data.channels,
            units=data.units,
        )
        level_scores = _level_scores(naive, plan.network.level, trained.history, plan)
    owners = data.series.owners(starts)
    mix, calibration = FittedMix(), None
    if plan.mix.method is not None or plan.intervals.calibrated:
        outputs, targets = _validation_outputs(plan, data, trained.network, on_device)
        median = _median_index(plan)
        point = outputs if median is None else outputs[:, :, median]
        classical = _validation_classical(plan, data, starts, owners)
        independent = independent_windows(owners, horizon)
        mix = plan.mix.fit(point, classical, targets, independent)
        if plan.intervals.calibrated:
            mixed = mix.apply(outputs, classical, median)
            scores = plan.intervals.scores(mixed, targets, plan.network.quantiles)
            unit = _unit(plan, data)[owners]  # type: ignore[index]
            shape = (-1,) + (1,) * (scores.ndim - 1)  # one unit per window
            calibration = Calibration(scores / unit.reshape(shape), owners)
    return Validated(plan, data, trained, level_scores, mix, calibration)


def _median_index(plan: FitPlan) -> int | None:
    """Index of the median among the heads' quantiles; None for a point head."""
    quantiles = plan.network.quantiles
    return quantiles.index(0.5) if quantiles else None


def _unit(plan: FitPlan, data: TrainingData) -> NDArray[np.float64] | None:
    """Each series' unit of the calibration scores, on the values it trained on."""
    lengths = data.series.lengths - data.holdout
    return plan.intervals.unit(
        data.scaled, data.series.offsets, lengths, plan.season_length
    )


def _validation_classical(
    plan: FitPlan,
    data: TrainingData,
    starts: NDArray[np.int64],
    owners: NDArray[np.int64],
) -> NDArray[np.float64] | None:
    """Return the validation windows' classical forecasts, (n_windows, horizon), scaled.

    Each from the values before its window's targets; None for the network alone.
    """
    firsts = data.series.offsets[owners]
    classical = plan.mix.forecasts(
        data.series.values,
        firsts,
        starts + plan.lookback - firsts,
        int(plan.params.horizon),  # type: ignore[arg-type]
        plan.seasons,
    )
    if classical is None:
        return None
    return transform_rows(classical, data.stats.take(owners))


def _validation_outputs(
    plan: FitPlan, data: TrainingData, network: Network, starts: torch.Tensor
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the network's outputs and the targets on the validation windows."""
    outputs, observed = [], []
    network.eval()
    with torch.no_grad():
        for batch in starts.split(PREDICT_BATCH):
            inputs, targets = gather(
                data.values,
                batch,
                plan.lookback,
                int(plan.params.horizon),  # type: ignore[arg-type]
                masked=plan.masked,
                channels=data.channels,
            )
            outputs.append(network(inputs).cpu())
            observed.append(targets.cpu())
    z = torch.cat(outputs).double().numpy()
    y = torch.cat(observed).double().numpy()
    return z, y


def _fitted(
    plan: FitPlan,
    series: SeriesData,
    data: TrainingData,
    trained: Trained,
    validated: Validated | None,
    report: DataReport | None,
) -> FittedState:
    """Assemble the state from the last training and, if any, the validated one."""
    horizon = int(plan.params.horizon)  # type: ignore[arg-type]
    history = trained.history
    mix = plan.mix.fit(None, None, None)
    if validated is not None:
        mix = validated.mix
        if validated.trained is not trained:  # the refit
            history = validated.trained.history + trained.history
    # once, from whole series: the validation windows need only their own
    classical = plan.mix.forecasts(
        series.values, series.offsets[:-1], series.lengths, horizon, plan.seasons
    )
    fitted_series = FittedSeries(
        ids=list(data.series.ids),
        freq=data.series.freq,
        last_ds=list(data.series.last_ds),
        context=last_inputs(data.series.values, data.series.offsets, plan.lookback),
        scaler=data.stats,
        classical=classical,
        unit=_unit(plan, data),
        filled=dict(data.series.filled),
    )
    return FittedState(
        network=trained.network,
        series=fitted_series,
        season_length=plan.season_length,
        seasons=plan.seasons,
        lookback=plan.lookback,
        lookbacks=plan.lookbacks,
        transform=data.transform,
        level_choice=plan.level_choice,
        level_scores=None if validated is None else validated.level_scores,
        mix=mix,
        calibration=None if validated is None else validated.calibration,
        history=history,
        n_train_windows=len(data.train_starts),
        validation_windows=plan.validation_windows,
        masked=plan.masked,
        min_length=plan.min_length,
        data_report=report,
    )


def best_epoch(history: list[EpochRecord], member: int) -> int:
    """Return the epoch of ``member``'s lowest validation loss (no refit epochs).

    The epoch whose weights :func:`~rnncast.training.train` restored; a refit
    trains that many epochs. Ties go to the earliest, as in ``train``.
    """
    best = _best_record(history, member)
    return 1 if best is None else best.epoch


def _best_record(history: list[EpochRecord], member: int) -> EpochRecord | None:
    """Return ``member``'s epoch of lowest monitored loss (no refit epochs).

    The monitored loss is the validation loss, or the training loss of epochs
    without one. Ties go to the earliest; None without any epoch.
    """
    best_loss, best = math.inf, None
    for record in history:
        if record.member != member or record.refit:
            continue
        loss = record.train_loss if record.val_loss is None else record.val_loss
        if loss < best_loss:
            best_loss, best = loss, record
    return best


def _level_scores(
    naive: float | None, level: str, history: list[EpochRecord], plan: FitPlan
) -> dict[str, float] | None:
    """Return the naive forecast's validation loss and the network's best, by name.

    The network's: the mean over the ensemble's members of each one's lowest
    validation loss. None when either is missing (no observed validation target).
    """
    best = [_best_record(history, k) for k in range(len(plan.lookbacks))]
    losses = [None if b is None else b.val_loss for b in best]
    if naive is None or any(loss is None for loss in losses):
        return None
    return {"naive": naive, level: float(np.mean(losses))}
