"""Fitting, as stages that return values: data -> trained networks -> FittedState.

:func:`fit_state` runs, for a :class:`~rnncast.forecaster.plan.FitPlan` (masking
resolved on the data, :mod:`rnncast.forecaster.fallbacks`), on the series long
enough for the network:

1. :func:`~rnncast.forecaster.members.training_data`: the series padded or
   checked, the training windows, the transform and scaler fitted without the
   validation holdout, the scaled values and extra input channels on the device;
2. :func:`~rnncast.forecaster.members.train_members`: every ensemble member
   trained from its own seed;
3. with validation, :func:`validated_fit`: the validation windows scored, the
   naive check (a second network forecasting changes from the last value, kept if
   it validates better), the classical mix's weight and the calibration scores;
4. with ``refit_full``, each validated member continued on whole series (the
   newest windows included) for a share of its best number of epochs
   (:func:`~rnncast.forecaster.members.refit_epochs`);
5. the series too short for a training window added, with naive forecasts.

Each stage returns what it made; nothing is stored on the estimator until
:class:`~rnncast.forecaster.state.FittedState` is complete.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from rnncast.collective import SINGLE_PROCESS, Collective
from rnncast.combine import FittedMix
from rnncast.data.quality import DataReport
from rnncast.data.scaling import (
    transform_rows,
)
from rnncast.data.series import SeriesData
from rnncast.data.windows import (
    gather,
    last_inputs,
    validation_starts,
)
from rnncast.exceptions import DataError
from rnncast.forecaster.fallbacks import planned, with_fallbacks
from rnncast.forecaster.members import (
    OnEpoch,
    Trained,
    TrainingData,
    best_record,
    train_members,
    training_data,
)
from rnncast.forecaster.plan import FitPlan, make_plan
from rnncast.forecaster.state import FittedSeries, FittedState, Network
from rnncast.intervals.conformal import independent_windows
from rnncast.intervals.methods import Calibration
from rnncast.options import MIN_VALUES, ForecasterParams
from rnncast.training import (
    EpochRecord,
    naive_loss,
)

__all__ = [
    "PREDICT_BATCH",
    "Validated",
    "fit_state",
    "validated_fit",
]

PREDICT_BATCH = 1024  # windows per forward pass; smaller stayed in cache, faster


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
    collective: Collective = SINGLE_PROCESS,
) -> FittedState:
    """Fit as :meth:`~rnncast.Forecaster.fit` describes; return the fitted state.

    The network trains on the series with at least ``plan.min_length`` observed
    values; the others get their last value (:func:`with_fallbacks`). With a
    ``collective`` of several processes, ``series`` are this process's share of a
    data-parallel fit, and the state returned holds them alone (with the network
    every process shares): :func:`~rnncast.forecaster.parts.merged_state` puts
    the processes' states together.
    """
    plan = planned(params, series, collective)
    short = series.lengths < plan.min_length
    if collective.all(short.all()):
        raise DataError(
            f"every series has fewer than {MIN_VALUES} observed values, too few for "
            "a single training window; give more history."
        )
    trained = series
    if collective.any(short.any()):
        trained = series.select(np.flatnonzero(~short))
        plan = make_plan(
            params,
            series.freq,
            collective.total(trained.n_series),
            masked=True,
            seasons=plan.seasons,
            covariates=plan.covariates,
            collective=collective,
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
    refit = train_members(
        chosen.plan, data, validated=False, start=chosen.trained, on_epoch=on_epoch
    )
    return _fitted(chosen.plan, series, data, refit, chosen, report)


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
            collective=plan.collective,
        )
        level_scores = _level_scores(naive, plan.network.level, trained.history, plan)
    owners = data.series.owners(starts)
    mix, calibration = FittedMix(), None
    if plan.mix.method is not None or plan.intervals.calibrated:
        outputs, targets = _validation_outputs(plan, data, trained.network, on_device)
        median = _median_index(plan)
        point = outputs if median is None else outputs[:, :, median]
        classical = _validation_classical(plan, data, starts, owners)
        independent = plan.collective.total(independent_windows(owners, horizon))
        mix = plan.mix.fit(point, classical, targets, independent, plan.collective)
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
            inputs, targets, future = gather(
                data.values,
                batch,
                plan.lookback,
                int(plan.params.horizon),  # type: ignore[arg-type]
                masked=plan.masked,
                channels=data.channels,
                known=data.known,
            )
            outputs.append(network(inputs, future).cpu())
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
        context_exog=None
        if data.series.exog is None
        else last_inputs(data.series.exog, data.series.offsets, plan.lookback),
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
        covariates=plan.covariates,
    )


def _level_scores(
    naive: float | None, level: str, history: list[EpochRecord], plan: FitPlan
) -> dict[str, float] | None:
    """Return the naive forecast's validation loss and the network's best, by name.

    The network's: the mean over the ensemble's members of each one's lowest
    validation loss. None when either is missing (no observed validation target).
    """
    best = [best_record(history, k) for k in range(len(plan.lookbacks))]
    losses = [None if b is None else b.val_loss for b in best]
    if naive is None or any(loss is None for loss in losses):
        return None
    return {"naive": naive, level: float(np.mean(losses))}
