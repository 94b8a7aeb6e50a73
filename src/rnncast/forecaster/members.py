"""The trainings of a fit: the data of one training, the members, the refit.

:func:`training_data` scales the series and builds their extra input channels
for a training that holds out the last values of each series (the validation
part); :func:`train_members` trains every ensemble member from its own seed and
lookback, and, for the refit, continues each validated member on whole series
(:func:`refit_epochs`). :mod:`rnncast.forecaster.fitting` puts the stages
together.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from rnncast.data.covariates import dynamic_statistics
from rnncast.data.scaling import ScalerStats, fit_scaler, per_value, transform
from rnncast.data.seasonality import seasonal_series
from rnncast.data.series import SeriesData
from rnncast.data.windows import training_starts, validation_starts
from rnncast.exceptions import DataError
from rnncast.forecaster.features import InputSpec, value_channels, value_known
from rnncast.forecaster.initial import initial_networks, start_member
from rnncast.forecaster.plan import FitPlan
from rnncast.forecaster.reading import check_lengths, fitted_transform, padded
from rnncast.forecaster.state import Network
from rnncast.models.networks import EnsembleNetwork, RecurrentNetwork
from rnncast.training import EpochRecord, TrainConfig, seed_everything, train

__all__ = [
    "REFIT_SHARE",
    "OnEpoch",
    "Trained",
    "TrainingData",
    "best_record",
    "refit_epochs",
    "train_members",
    "training_data",
]

# The refit continues each validated network on whole series for this share of
# the epochs it needed to validate best: the most recent windows, at a fraction
# of the cost of training again from scratch (docs/speed.md, "The refit").
REFIT_SHARE = 0.25
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
    known: torch.Tensor | None  # (n_points, f) future-known inputs
    units: tuple[torch.Tensor, torch.Tensor] | None  # (loc, scale) for smape
    train_starts: NDArray[np.int64]


@dataclass(frozen=True)
class Trained:
    """The network of one training (the members' median ensemble) and its epochs."""

    network: Network
    history: list[EpochRecord]


def refit_epochs(best: int) -> int:
    r"""Epochs of the refit that continues a network validated best after ``best``.

    :math:`\max(1, \lceil \text{best} \cdot s \rceil)` with :data:`REFIT_SHARE` ``s``.
    """
    return max(1, math.ceil(best * REFIT_SHARE))


def training_data(plan: FitPlan, series: SeriesData, holdout: int) -> TrainingData:
    """Prepare ``series`` for a training that holds out its last ``holdout`` values."""
    horizon = int(plan.params.horizon)  # type: ignore[arg-type]
    covariate_stats = _covariate_statistics(plan, series, holdout)
    if plan.masked:  # short series: padded with unobserved values
        series = padded(series, plan.lookback + horizon + holdout)
    else:
        check_lengths(series, plan.lookback, horizon)
    starts = training_starts(series.offsets, plan.lookback, horizon, holdout)
    if plan.collective.all(len(starts) == 0):
        longest = max(plan.collective.gather(int(series.lengths.max())))
        raise DataError(
            f"no training windows: with validation=True and "
            f"{plan.validation_windows} validation window(s) a series needs "
            f"lookback + horizon + {holdout} = {plan.lookback + horizon + holdout} "
            f"values, the longest has {longest}. Use a shorter lookback, fewer "
            "validation_windows or validation=False."
        )
    kind = fitted_transform(plan.params, series, plan.collective)
    stats = _fitted_scaler(plan, series, holdout, kind)
    stats = dataclasses.replace(stats, **covariate_stats)
    scaled = _scaled_values(series, stats)
    spec = InputSpec.of(
        plan.params,
        plan.network,
        plan.seasons,
        series.freq,
        plan.masked,
        plan.covariates,
    )
    channels = value_channels(spec, series, stats)
    known = value_known(spec, series, stats)
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
        known=None if known is None else known.to(plan.device),
        units=units,
        train_starts=starts,
    )


def _covariate_statistics(
    plan: FitPlan, series: SeriesData, holdout: int
) -> dict[str, NDArray[np.float64] | None]:
    """Return the covariates' scaling and static encoding (unpadded training part)."""
    layout = plan.covariates
    stats: dict[str, NDArray[np.float64] | None] = {}
    if layout.dynamic:
        loc, scale = dynamic_statistics(
            series.exog,  # type: ignore[arg-type]
            series.offsets,
            np.maximum(series.lengths - holdout, 1),
        )
        stats.update(exog_loc=loc, exog_scale=scale)
    if layout.static is not None:
        stats["static"] = layout.static.encode(series.static, series.ids)  # type: ignore[arg-type]
    return stats


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
    start: Trained | None = None,
    on_epoch: OnEpoch = None,
) -> Trained:
    """Train every ensemble member on ``data``; their median is the network.

    Member ``k`` starts from the seed ``seed + k`` and reads its own lookback;
    ``validated``: monitored on the validation windows; ``start``: the refit,
    member ``k`` continuing ``start``'s member from its best validated weights
    for :func:`refit_epochs` epochs on every window, at the learning rate it
    had reached. Under a ``time_limit``, each training gets an equal share of
    the time left for it and those still to come (the refit's included).
    With ``init_weights``, each member (not the refit) starts from its weights
    (:mod:`rnncast.forecaster.initial`).
    """
    members, history = [], []
    n = len(plan.lookbacks)
    refit_next = validated and plan.params.refit_full
    init = plan.params.init_weights
    sources = initial_networks(init) if init is not None and start is None else []
    for k, lookback in enumerate(plan.lookbacks):
        config = plan.training_config(n - k + (n if refit_next else 0))
        initial: RecurrentNetwork | list[RecurrentNetwork] = sources
        if start is not None:
            best = best_record(start.history, k)
            epochs = refit_epochs(1 if best is None else best.epoch)
            config = dataclasses.replace(
                config,
                epochs=epochs,
                patience=epochs,
                learning_rate=config.learning_rate
                if best is None
                else best.learning_rate,
            )
            initial = _member(start.network, k)
        windows = plan.validation_windows if validated else 0
        network, records = _train_member(
            plan, data, k, lookback, windows, config, initial, on_epoch
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
    initial: RecurrentNetwork | list[RecurrentNetwork],
    on_epoch: OnEpoch,
) -> tuple[RecurrentNetwork, list[EpochRecord]]:
    """Train member ``k``, from ``initial``'s weights for a refit (stamped so).

    ``initial`` is otherwise ``init_weights``' networks (a list, maybe empty).
    """
    horizon = int(plan.params.horizon)  # type: ignore[arg-type]
    generator = seed_everything(plan.params.seed + k)
    network = RecurrentNetwork(plan.network)
    refit = isinstance(initial, RecurrentNetwork)
    if isinstance(initial, RecurrentNetwork):
        network.load_state_dict(initial.state_dict())
    elif initial:
        start_member(network, initial, k)
    network = network.to(plan.device)
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
        "known": data.known,
        "units": data.units,
        "member": k,
        "refit": refit,
        "collective": plan.collective,
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


def _member(network: Network, k: int) -> RecurrentNetwork:
    """Member ``k`` of an ensemble, or the network itself."""
    if isinstance(network, EnsembleNetwork):
        return network.members[k]  # type: ignore[return-value]
    return network


def best_record(history: list[EpochRecord], member: int) -> EpochRecord | None:
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
