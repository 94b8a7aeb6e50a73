"""A plain PyTorch training loop: Adam, gradient clipping, early stopping, LR schedule.

One step is: draw a batch of window starts, gather the windows, forward, loss,
backward, clip the global gradient norm, optimiser step, zero the gradients. An
epoch is every training window in a random order, or a random draw of
``windows_per_epoch`` of them, so that its cost does not grow with the history.
After each epoch the validation windows are scored under ``no_grad``; the weights
of the best epoch are restored at the end. ``max_steps`` and ``time_limit`` stop
the training within an epoch too.

On a CUDA device each step is replayed from a captured CUDA graph
(:mod:`rnncast.optimiser`). With a :class:`~rnncast.collective.ProcessGroup`
the training is data-parallel: see :func:`train`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rnncast.checks import require_positive_int
from rnncast.collective import SINGLE_PROCESS, Collective
from rnncast.data.windows import gather
from rnncast.exceptions import ConfigError, DataError
from rnncast.optimiser import adam, captured_step, copied_state, keep_tensor_lr
from rnncast.options import LOSSES as POINT_LOSSES

__all__ = [
    "LOSSES",
    "EpochRecord",
    "TrainConfig",
    "captured_step",
    "keep_tensor_lr",
    "naive_loss",
    "observed_loss",
    "seed_everything",
    "smape_loss",
    "train",
]

LOSSES = (*POINT_LOSSES, "pinball")  # pinball: the loss of quantile heads
LossName = Literal["mse", "mae", "huber", "smape", "pinball"]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train`."""

    epochs: int = 100  # maximum passes over all training windows
    batch_size: int = 256  # windows per optimiser step
    learning_rate: float = 1e-3  # Adam's initial step size
    loss: LossName = "mse"  # "mse", "mae", "huber" (delta 1), "smape" or "pinball"
    clip_norm: float | None = (
        1.0  # max global L2 norm of the gradient; None: no clipping
    )
    patience: int = 20  # epochs without improvement before stopping early
    lr_factor: float = 0.5  # learning rate multiplier when the monitored loss stalls
    quantiles: tuple[float, ...] = ()  # the network's quantiles, for "pinball"
    cuda_graphs: bool = True  # on CUDA, replay each step from a captured CUDA graph
    max_steps: int | None = None  # stop after this many optimiser steps, mid-epoch too
    # windows drawn (without replacement) per epoch; None or more than there are: all
    windows_per_epoch: int | None = None
    time_limit: float | None = None  # stop after this many seconds, mid-epoch too

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"unknown loss {self.loss!r}; choose one of {LOSSES}.")
        if (self.loss == "pinball") != bool(self.quantiles):
            raise ConfigError(
                "the pinball loss trains quantile heads: it needs quantiles, and "
                "quantile heads need it."
            )
        for name in ("epochs", "batch_size", "patience"):
            require_positive_int(name, getattr(self, name))
        for name in ("max_steps", "windows_per_epoch"):
            if getattr(self, name) is not None:
                require_positive_int(name, getattr(self, name))
        if self.time_limit is not None and not self.time_limit >= 0:
            raise ConfigError(f"time_limit must be >= 0, got {self.time_limit!r}.")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate!r}.")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ConfigError(
                f"clip_norm must be > 0 or None (no clipping), got {self.clip_norm!r}."
            )


@dataclass(frozen=True)
class EpochRecord:
    """Losses after one epoch in scaled units; ``val_loss`` None without validation."""

    epoch: int
    train_loss: float
    val_loss: float | None
    learning_rate: float
    member: int = 0  # which network of an ensemble
    refit: bool = False  # an epoch of the refit on all windows (Forecaster refit_full)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, and return a torch generator for shuffling."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - user code may draw from the global generator
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def loss_function(
    name: LossName,
    quantiles: tuple[float, ...] = (),
    device: torch.device | str | None = None,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Mean loss over all elements.

    Notes
    -----
    * ``"mse"``: ``mean((yhat - y)^2)``
    * ``"mae"``: ``mean(|yhat - y|)``
    * ``"huber"``: ``mean(0.5 e^2 if |e| <= 1 else |e| - 0.5)``, ``e = yhat - y``
    * ``"smape"``: see :func:`smape_loss`; :func:`train` applies it to the values
      before scaling.
    * ``"pinball"``: see :func:`pinball_loss`; forecasts carry a last axis of
      ``len(quantiles)``.
    """
    if name == "pinball":
        levels = torch.tensor(quantiles, device=device)  # no copy inside a step
        return lambda forecasts, targets: pinball_loss(forecasts, targets, levels)
    losses = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}
    return smape_loss if name == "smape" else losses[name]


def smape_loss(forecasts: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""Mean sMAPE-like loss, :math:`\frac1n \sum 2|y - \hat y| / (|y| + |\hat y|)`.

    The competitions' sMAPE without its factor 100 (so 0 to 2); a term with
    :math:`y = \hat y = 0` counts 0. Meant for values in their own units: scaled
    values near 0 would make it explode.
    """
    denominator = (targets.abs() + forecasts.abs()).clamp_min(1e-12)
    return (2 * (targets - forecasts).abs() / denominator).mean()


def pinball_loss(
    forecasts: torch.Tensor, targets: torch.Tensor, quantiles: torch.Tensor
) -> torch.Tensor:
    r"""Mean pinball (quantile) loss over all elements and quantiles.

    For quantile :math:`\tau` and error :math:`e = y - \hat y_\tau`:
    :math:`L_\tau = \max(\tau e, (\tau - 1) e)`; minimising its mean makes
    :math:`\hat y_\tau` the :math:`\tau`-quantile of :math:`y`.

    Shapes: ``forecasts`` (..., n_quantiles), ``targets`` (...).
    """
    errors = targets[..., None] - forecasts  # (..., n_quantiles)
    q = quantiles.to(forecasts.device, forecasts.dtype)
    return torch.maximum(q * errors, (q - 1) * errors).mean()


def train(
    network: nn.Module,
    values: torch.Tensor,
    train_starts: torch.Tensor,
    val_starts: torch.Tensor,
    *,
    lookback: int,
    horizon: int,
    config: TrainConfig,
    generator: torch.Generator,
    masked: bool = False,
    channels: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
    units: tuple[torch.Tensor, torch.Tensor] | None = None,
    member: int = 0,
    refit: bool = False,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    collective: Collective = SINGLE_PROCESS,
) -> list[EpochRecord]:
    r"""Train ``network`` in place on windows of the flat scaled series ``values``.

    Data-parallel with a :class:`~rnncast.collective.ProcessGroup`: each process
    holds the windows of its own series, and the processes' windows, numbered
    in rank order, are the global windows one process would have. Every process
    draws the same permutation of the global numbers; each global batch is
    forwarded by the processes owning its windows, and process :math:`r`'s
    loss, the mean over its :math:`n_r` targets, is weighted by
    :math:`W n_r / \sum_q n_q` before DistributedDataParallel averages the
    gradients over the :math:`W` processes, so every process steps with the
    gradient of the global batch's mean loss (a process without a window in
    the batch adds a zero gradient). Epoch and validation losses are summed
    over processes, so early stopping and the learning-rate schedule decide
    alike everywhere. Each step equals one process's to floating-point
    rounding (the sums run in another order); in float32 those differences
    grow over many steps, as between two machines (docs/scale.md measures it).

    Parameters
    ----------
    network : nn.Module
        Maps inputs (batch, lookback, 1) to forecasts (batch, horizon).
    values : Tensor of shape (n_points,)
        All scaled series, on the network's device.
    train_starts, val_starts : Tensor of shape (n_windows,), int32 or int64
        Window starts (see :mod:`rnncast.data.windows`); ``val_starts`` may be empty,
        then the training loss is monitored instead.
    generator : torch.Generator
        Source of the shuffling order (CPU), for reproducibility.
    masked : bool, default False
        ``values`` holds NaN gaps: inputs get the channels of
        :func:`~rnncast.data.windows.masked_inputs` and the loss is the mean over
        observed targets only, so no filled-in value is ever a target.
    channels : Tensor of shape (n_points, k), optional
        Extra input channels of every value (season phases, covariates,
        seasonal flags), added to the inputs by
        :func:`~rnncast.data.windows.gather`.
    known : Tensor of shape (n_points, f), optional
        Future-known inputs of every value, given to the network for each
        window's target steps (``network(inputs, future)``).
    units : (loc, scale) Tensors of shape (n_points,), optional
        The scaling of every value, ``y = z * scale + loc``: forecasts and targets
        are put back in those units before the loss (for ``loss="smape"``).
    member : int, default 0
        Number of the network in its ensemble, stamped on every record.
    refit : bool, default False
        Stamped on every record: this training is the refit on all windows.
    on_epoch : callable, optional
        Called with each :class:`EpochRecord`, e.g. to draw a progress bar.
    collective : Collective, default one process
        The processes of a data-parallel training (:mod:`rnncast.collective`).

    Returns
    -------
    list of EpochRecord
        One record per epoch run; the network ends with the best epoch's weights.
    """
    loss_fn = loss_function(config.loss, config.quantiles, values.device)
    optimiser = adam(network, config.learning_rate, values.device)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimiser, factor=config.lr_factor, patience=max(1, config.patience // 4)
    )

    shared = collective.distributed
    model = collective.synchronised(network)  # forwards that backpropagate
    windows = collective.counts(len(train_starts))
    first, n_windows = sum(windows[: collective.rank]), sum(windows)
    if shared and len(train_starts) == 0:
        raise DataError(
            f"process {collective.rank} of a data-parallel fit holds no training "
            "window (its series are all too short); give each process series long "
            "enough, or use fewer processes."
        )

    def step(starts: torch.Tensor, own: bool = True) -> tuple[torch.Tensor, int]:
        """One optimiser step on the windows at ``starts``; its loss and targets.

        ``own``: False when this process has no window in a data-parallel batch
        (``starts`` is then a stand-in whose loss counts zero).
        """
        inputs, targets, future = gather(
            values,
            starts,
            lookback,
            horizon,
            masked=masked,
            channels=channels,
            known=known,
        )
        forecasts = model(inputs) if future is None else model(inputs, future)
        forecasts, targets = _in_units(forecasts, targets, starts, units)
        loss, n = observed_loss(loss_fn, forecasts, targets, masked)
        n = n if own else 0
        n_all = int(collective.sum([n])[0]) if shared else n
        if n_all == 0:
            return loss, 0  # every target of this batch is a gap
        if shared:
            weight = n * collective.world_size / n_all
            (loss * weight if n else forecasts.sum() * 0.0).backward()
        else:
            loss.backward()
        if config.clip_norm is not None:
            nn.utils.clip_grad_norm_(network.parameters(), config.clip_norm)
        optimiser.step()
        return loss.detach(), n

    def batches() -> list[tuple[torch.Tensor, bool]]:
        """Return an epoch's batches of window starts, each with whether it is ours."""
        drawn = torch.randperm(n_windows, generator=generator)
        drawn = drawn[: config.windows_per_epoch]
        if not shared:
            return [(b, True) for b in train_starts[drawn].split(config.batch_size)]
        local = []
        for numbers in drawn.split(config.batch_size):
            mine = numbers[(numbers >= first) & (numbers < first + len(train_starts))]
            own = len(mine) > 0
            local.append((train_starts[mine - first] if own else train_starts[:1], own))
        return local

    graphed = config.cuda_graphs and values.is_cuda and not masked and not shared
    if graphed:  # (masked batches count their observed targets on the host)
        drawn = train_starts[: config.windows_per_epoch]  # an epoch's batch sizes
        step, graphed = captured_step(
            step, network, optimiser, drawn, config.batch_size
        )
    lr = optimiser.param_groups[0]["lr"]
    best_loss, best_state, stale = float("inf"), copied_state(network), 0
    history: list[EpochRecord] = []
    budget = _Budget(config, collective)
    for epoch in range(1, config.epochs + 1):
        if budget.spent():
            break
        model.train()
        # Summed on the device: a .item() per step would wait for the GPU each step.
        total = torch.zeros((), dtype=torch.float64, device=values.device)
        count = 0
        for batch, own in batches():  # a random draw of windows_per_epoch
            if budget.spent():  # the epoch so far is scored as a whole one
                break
            budget.steps += 1
            if not graphed:
                optimiser.zero_grad(set_to_none=True)
            loss, n = step(batch, own)
            if n:
                total += loss.double() * n
                count += n
        summed, count = collective.sum([total.item(), count])
        train_loss = summed / count if count else float("nan")
        if not math.isfinite(train_loss):
            raise DataError(
                f"training diverged: the loss became {train_loss} in epoch {epoch}. "
                "Check the data for extreme values (try scaler='robust') or lower "
                "learning_rate."
            )
        val_loss = _evaluate(
            network,
            values,
            val_starts,
            (lookback, horizon),
            loss_fn,
            masked,
            (channels, units, known),
            collective,
        )
        monitored = train_loss if val_loss is None else val_loss
        schedule.step(monitored)
        keep_tensor_lr(optimiser, lr)
        record = EpochRecord(
            epoch,
            train_loss,
            val_loss,
            float(optimiser.param_groups[0]["lr"]),
            member,
            refit,
        )
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if monitored < best_loss:
            best_loss, best_state, stale = monitored, copied_state(network), 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    network.load_state_dict(best_state)
    network.eval()
    return history


class _Budget:
    """Optimiser steps taken, against ``max_steps`` and ``time_limit``."""

    def __init__(self, config: TrainConfig, collective: Collective) -> None:
        self.steps = 0
        self.max_steps = math.inf if config.max_steps is None else config.max_steps
        limit = math.inf if config.time_limit is None else config.time_limit
        self.end = time.perf_counter() + limit
        # clocks differ between processes: one whose time is up stops them all
        self.collective = collective if config.time_limit is not None else None

    def spent(self) -> bool:
        """Whether the step budget or the time is used up (never before one step)."""
        if self.steps == 0:
            return False
        if self.steps >= self.max_steps:
            return True
        late = time.perf_counter() >= self.end
        return late if self.collective is None else self.collective.any(late)


class LastValue(nn.Module):
    r"""The naive forecast as a network: :math:`\hat y_{T+k} = x_T` for every step.

    Reads the target channel of inputs (batch, lookback, channels); with masked
    inputs that channel carries the last observation forward, so :math:`x_T` is
    the last observed value.
    """

    def __init__(self, horizon: int) -> None:
        super().__init__()
        self.horizon = horizon

    def forward(
        self, x: torch.Tensor, future: torch.Tensor | None = None
    ) -> torch.Tensor:
        return x[:, -1:, 0].expand(-1, self.horizon)  # (batch, horizon)


def naive_loss(
    values: torch.Tensor,
    starts: torch.Tensor,
    *,
    lookback: int,
    horizon: int,
    config: TrainConfig,
    masked: bool = False,
    channels: torch.Tensor | None = None,
    units: tuple[torch.Tensor, torch.Tensor] | None = None,
    collective: Collective = SINGLE_PROCESS,
) -> float | None:
    """Loss of the naive (last-value) forecast on the windows at ``starts``.

    The same loss, units and observed targets as :func:`train` monitors on its
    validation windows, so the two are directly comparable: a network whose best
    validation loss is not below this one has learned nothing the last value
    does not already say. None without windows or observed targets.
    """
    loss_fn = loss_function(config.loss, config.quantiles, values.device)
    return _evaluate(
        LastValue(horizon),
        values,
        starts,
        (lookback, horizon),
        loss_fn,
        masked,
        (channels, units, None),
        collective,
    )


@torch.no_grad()
def _evaluate(
    network: nn.Module,
    values: torch.Tensor,
    starts: torch.Tensor,
    sizes: tuple[int, int],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    masked: bool,
    extras: tuple[
        torch.Tensor | None,
        tuple[torch.Tensor, torch.Tensor] | None,
        torch.Tensor | None,
    ],
    collective: Collective,
) -> float | None:
    """Mean loss over the windows at ``starts``; ``sizes``: (lookback, horizon).

    ``extras``: the ``channels``, ``units`` and ``known`` of :func:`train`; the
    loss sums and target counts are summed over ``collective``'s processes.
    """
    channels, units, known = extras
    network.eval()
    total, count = 0.0, 0
    for batch in starts.split(4096) if len(starts) else ():
        inputs, targets, future = gather(
            values, batch, *sizes, masked=masked, channels=channels, known=known
        )
        forecasts = network(inputs) if future is None else network(inputs, future)
        forecasts, targets = _in_units(forecasts, targets, batch, units)
        loss, n = observed_loss(loss_fn, forecasts, targets, masked)
        if n:
            total += loss.item() * n
            count += n
    total, count = collective.sum([total, count])
    return total / count if count else None


def _in_units(
    forecasts: torch.Tensor,
    targets: torch.Tensor,
    starts: torch.Tensor,
    units: tuple[torch.Tensor, torch.Tensor] | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forecasts and targets as ``z * scale + loc`` of each window's series."""
    if units is None:
        return forecasts, targets
    loc, scale = units[0][starts, None], units[1][starts, None]  # (batch, 1)
    return forecasts * scale + loc, targets * scale + loc


def observed_loss(
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    forecasts: torch.Tensor,
    targets: torch.Tensor,
    masked: bool,
) -> tuple[torch.Tensor, int]:
    """Mean loss over the observed targets, and how many there were."""
    if not masked:
        return loss_fn(forecasts, targets), targets.numel()
    observed = ~torch.isnan(targets)
    n = int(observed.sum())
    return loss_fn(forecasts[observed], targets[observed]), n
