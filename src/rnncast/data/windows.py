"""Training windows over the flat series layout, built without a loop per window.

A window of series ``i`` is identified by the absolute index ``s`` of its first input
value: inputs are ``values[s : s + lookback]`` and targets
``values[s + lookback : s + lookback + horizon]``. Only the start indices are stored
(4 bytes a window below 2**31 values, else 8); the values of a batch are gathered
when the batch is drawn, so memory does not grow with the window length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray

__all__ = [
    "gather",
    "last_inputs",
    "masked_inputs",
    "pad_front",
    "phase_angles",
    "phase_channels",
    "series_positions",
    "training_starts",
    "validation_starts",
    "window_inputs",
]


def series_positions(offsets: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of every value of a flat layout within its series (0 at its start).

    Examples
    --------
    >>> series_positions(np.array([0, 3, 5]))
    array([0, 1, 2, 0, 1])
    """
    lengths = np.diff(offsets)
    return np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)


def training_starts(
    offsets: NDArray[np.int64], lookback: int, horizon: int, holdout: int = 0
) -> NDArray[np.int64]:
    """Start indices of every training window, series after series.

    Series ``i`` of length ``n`` gives the starts ``offsets[i] + k`` for
    ``k = 0 .. n - holdout - lookback - horizon``: windows whose targets end before
    the last ``holdout`` values, which are kept for validation.

    Returns
    -------
    ndarray of shape (n_windows,), int32 (int64 when the values number 2**31 or more)
    """
    lengths = np.diff(offsets)
    counts = np.maximum(lengths - holdout - lookback - horizon + 1, 0)
    dtype = np.int32 if offsets[-1] < np.iinfo(np.int32).max else np.int64
    first_of_series = np.repeat(offsets[:-1].astype(dtype), counts)
    rank_in_series = np.arange(counts.sum(), dtype=dtype) - np.repeat(
        (np.cumsum(counts) - counts).astype(dtype), counts
    )
    return first_of_series + rank_in_series


def validation_starts(
    offsets: NDArray[np.int64], lookback: int, horizon: int, windows: int = 1
) -> NDArray[np.int64]:
    """Return the starts of the last ``windows`` windows per series, a step apart.

    Window ``j = 0 .. windows - 1`` of series ``i`` has its targets end ``j`` values
    before the series' end, so all of them lie in the last ``horizon + windows - 1``
    values (the holdout of :func:`training_starts`). Windows that would start
    before the series are left out.

    Returns
    -------
    ndarray of shape (n_windows,), int64
        Series after series; within a series, the latest window first.
    """
    ends = offsets[1:, None] - np.arange(windows)[None, :]  # (n_series, windows)
    starts = ends - lookback - horizon
    keep = starts >= offsets[:-1, None]
    return starts[keep].astype(np.int64)


def pad_front(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    min_length: int,
    fill: float = np.nan,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Left-pad every series shorter than ``min_length`` with ``fill`` to that length.

    For models with masked gaps (``missing="mask"``): the padding is unobserved
    (NaN), so windows reaching into it see the indicator 0 there and no target in
    it is trained on. ``values`` may have columns, (n_points, k) (covariates,
    padded with 0). Returns the new flat values and offsets.
    """
    lengths = np.diff(offsets)
    pads = np.maximum(min_length - lengths, 0)
    if not pads.any():
        return values, offsets
    new_offsets = np.concatenate([[0], np.cumsum(lengths + pads)]).astype(np.int64)
    padded = np.full((new_offsets[-1], *values.shape[1:]), fill)
    shift = np.repeat(new_offsets[:-1] + pads - offsets[:-1], lengths)
    padded[np.arange(len(values)) + shift] = values
    return padded, new_offsets


def last_inputs(
    values: NDArray[np.float64], offsets: NDArray[np.int64], lookback: int
) -> NDArray[np.float64]:
    """Return the last ``lookback`` values of every series, (n_series, lookback)."""
    starts = offsets[1:] - lookback
    return values[starts[:, None] + np.arange(lookback)]


def gather(
    values: torch.Tensor,
    starts: torch.Tensor,
    lookback: int,
    horizon: int,
    *,
    masked: bool = False,
    channels: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Gather a batch of windows from the flat series tensor.

    Parameters
    ----------
    values : Tensor of shape (n_points,)
        May hold NaN gaps when ``masked``.
    starts : Tensor of shape (batch,), int32 or int64
    masked : bool, default False
        Build the two input channels of :func:`masked_inputs`.
    channels : Tensor of shape (n_points, k), optional
        Extra input channels of every value (e.g. :func:`phase_channels` of the
        season phases, covariates, a series' seasonal flag), added after the
        others.
    known : Tensor of shape (n_points, f), optional
        The future-known inputs of every value, read at the target steps.

    Returns
    -------
    inputs : Tensor of shape (batch, lookback, c): c is 1, or 2 if masked, plus k
        with ``channels``
    targets : Tensor of shape (batch, horizon), NaN where unobserved
    future : Tensor of shape (batch, horizon, f), or None without ``known``
    """
    index = starts[:, None] + torch.arange(lookback + horizon, device=starts.device)
    windows = values[index]  # (batch, lookback + horizon)
    extra = None if channels is None else channels[index[:, :lookback]]
    inputs = window_inputs(windows[:, :lookback], masked=masked, channels=extra)
    future = None if known is None else known[index[:, lookback:]]
    return inputs, windows[:, lookback:], future


def window_inputs(
    windows: torch.Tensor,
    *,
    masked: bool = False,
    channels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Network inputs (batch, lookback, c) of scaled windows (batch, lookback).

    The value channel (the two channels of :func:`masked_inputs` when
    ``masked``), then ``channels`` (batch, lookback, k) if given.
    """
    inputs = masked_inputs(windows) if masked else windows[:, :, None]
    if channels is None:
        return inputs
    return torch.cat([inputs, channels], dim=-1)


def phase_angles(
    last_steps: NDArray[np.int64],
    lengths: NDArray[np.int64],
    periods: Sequence[float],
) -> NDArray[np.float64]:
    r"""Phase angles :math:`2\pi (s_t \bmod m) / m` of every value, one per period.

    Series ``i`` has ``lengths[i]`` values whose last one is ``last_steps[i]``
    steps from the origin (:func:`~rnncast.data.timeline.step_ordinals`, or
    any number congruent to it modulo every integer period); the value ``k``
    steps before the last is at :math:`s_{last} - k`. Counted from the end, so
    values padded at the front still line up. Returns (n_values, n_periods);
    a non-integer period (365.25 days) turns by a fraction of a step each cycle.
    """
    ends = np.repeat(np.cumsum(lengths) - 1, lengths)
    before_last = ends - np.arange(int(lengths.sum()))
    steps = np.repeat(np.asarray(last_steps), lengths) - before_last
    m = np.asarray(periods, dtype=np.float64)
    return 2 * np.pi * np.mod(steps[:, None], m) / m


def phase_channels(angles: torch.Tensor) -> torch.Tensor:
    r"""Input channels :math:`\sin a_t, \cos a_t` of each period's angles (..., P).

    Sine and cosine place every phase on a circle, so December sits next to
    January; the network reads where in each season every input value lies.
    Returns (..., 2P): the sine and cosine of the first period, then the next.
    """
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(-2)


def masked_inputs(windows: torch.Tensor) -> torch.Tensor:
    r"""Input channels of a window with gaps: carried value and observed indicator.

    For a window :math:`y_1 \dots y_L` with NaN where unobserved:

    * channel 0: :math:`x_t = y_s`, with :math:`s` the last observed step
      :math:`\le t` (before the window's first observation, that observation);
      0 in a window with no observation;
    * channel 1: :math:`m_t = 1` if :math:`y_t` is observed, else 0.

    The carried values keep the level of the window (``level="last"`` reads the
    last observed value) while :math:`m_t` tells the network which values were
    never seen; the targets stay NaN and the loss skips them.

    Parameters
    ----------
    windows : Tensor of shape (batch, lookback)

    Returns
    -------
    Tensor of shape (batch, lookback, 2)
    """
    observed = ~torch.isnan(windows)
    steps = torch.arange(windows.shape[1], device=windows.device).expand_as(windows)
    last_seen = torch.where(observed, steps, -1).cummax(dim=1).values
    first_seen = observed.to(torch.int64).argmax(dim=1, keepdim=True)  # (batch, 1)
    source = torch.where(last_seen < 0, first_seen, last_seen)
    carried = windows.gather(1, source).nan_to_num(0.0)  # (batch, lookback)
    return torch.stack([carried, observed.to(windows.dtype)], dim=-1)
