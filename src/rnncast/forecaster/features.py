r"""The network's inputs: scaled values plus the optional channels, built one way.

Every window the network reads, in training, on the validation windows, at
predict time and in :mod:`rnncast.explain`, has the channels

1. the scaled value ``(g(y) - loc) / scale`` (carried over gaps, with an
   observed indicator, for ``missing="mask"``:
   :func:`~rnncast.data.windows.masked_inputs`);
2. with ``season_inputs``, :math:`\sin` and :math:`\cos` of each value's
   phase angle in every kept seasonal period
   (:func:`~rnncast.data.windows.phase_channels`);
3. with ``level="detect"``, each series' constant columns
   (:func:`series_columns`): its scaled zero for multiplicative patterns, then
   its seasonal flag, last, where the network reads it.

Training gathers windows of the flat scaled series with the extra channels of
every value (:func:`value_channels`); forecasts build them for raw windows
(:func:`network_inputs`). Both take the channels from :func:`extra_channels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from rnncast.data.scaling import ScalerStats, transform_rows
from rnncast.data.series import Freq, SeriesData
from rnncast.data.timeline import step_ordinals
from rnncast.data.windows import phase_angles, phase_channels, window_inputs
from rnncast.exceptions import DataError
from rnncast.models.networks import NetworkConfig

__all__ = [
    "InputSpec",
    "extra_channels",
    "network_inputs",
    "series_columns",
    "value_channels",
]


@dataclass(frozen=True)
class InputSpec:
    """What a network's inputs hold besides the scaled value.

    ``masked``: gaps and padding are masked (``missing`` resolved);
    ``periods``: the seasonal periods whose phase channels the inputs hold (the
    kept seasons with ``season_inputs``, else none) at frequency ``freq``;
    ``multiplicative``: the series' scaled zero comes before the seasonal flag.
    """

    masked: bool
    periods: tuple[float, ...]
    freq: Freq
    multiplicative: bool = False

    @classmethod
    def of(
        cls,
        params: Any,
        network: NetworkConfig,
        seasons: Sequence[float],
        freq: Freq,
        masked: bool,
    ) -> InputSpec:
        """Return the inputs a network of ``network`` reads under ``params``.

        ``seasons``: the fit's kept seasonal periods.
        """
        return cls(
            masked=masked,
            periods=tuple(seasons) if params.season_inputs else (),
            freq=freq,
            multiplicative=network.multiplicative,
        )

    def phases(self, last_ds: Sequence[Any]) -> NDArray[np.int64] | None:
        """Return the steps from the origin to each timestamp (None without phases).

        :func:`~rnncast.data.timeline.step_ordinals`: the phase in a period
        :math:`m` is this modulo :math:`m`.
        """
        if not self.periods:
            return None
        return step_ordinals(last_ds, self.freq)


def series_columns(
    stats: ScalerStats, multiplicative: bool
) -> NDArray[np.float64] | None:
    """Input channels that are constant per series, (n_series, k); None if none.

    With ``level="detect"`` (``stats.seasonal`` set): the series' scaled zero
    ``-loc / scale`` when the patterns are ``multiplicative`` (the network drops
    it before its layers), then the seasonal flag, last, where the network reads
    it.
    """
    if stats.seasonal is None:
        return None
    columns = [stats.seasonal]
    if multiplicative:
        columns.insert(0, -stats.loc / stats.scale)
    return np.stack(columns, axis=1)


def extra_channels(
    angles: NDArray[np.float64] | None,
    columns: NDArray[np.float64] | None,
    dtype: torch.dtype,
) -> torch.Tensor | None:
    """Return the channels after the value, (..., k): phase sin/cos, then the columns.

    ``angles`` (...,) season phase angles, ``columns`` (..., k) per-series
    columns already repeated to the same leading shape; None if neither.
    """
    parts = []
    if angles is not None:
        parts.append(phase_channels(torch.as_tensor(angles, dtype=dtype)))
    if columns is not None:
        parts.append(torch.as_tensor(columns, dtype=dtype))
    return torch.cat(parts, dim=-1) if parts else None


def value_channels(
    spec: InputSpec, series: SeriesData, stats: ScalerStats
) -> torch.Tensor | None:
    """Extra input channels of every value of ``series``, (n_points, k), float32.

    For training: :func:`~rnncast.data.windows.gather` picks each window's rows.
    """
    angles = None
    if spec.periods:
        steps = step_ordinals(series.last_ds, series.freq)
        angles = phase_angles(steps, series.lengths, spec.periods)
    columns = series_columns(stats, spec.multiplicative)
    if columns is not None:
        columns = np.repeat(columns, series.lengths, axis=0)
    return extra_channels(angles, columns, torch.float32)


def network_inputs(
    spec: InputSpec,
    windows: NDArray[np.float64],
    stats: ScalerStats,
    dtype: torch.dtype = torch.float32,
    *,
    phases: NDArray[np.int64] | None = None,
) -> torch.Tensor:
    """Scaled network inputs (n, lookback, channels) from raw windows (n, lookback).

    ``stats`` holds each window's scaling; ``phases`` the step ordinal of each
    window's last value (:meth:`InputSpec.phases`), needed with season inputs.
    ``dtype``: float32 for the network, float64 for the NumPy reference.
    """
    scaled = torch.as_tensor(transform_rows(windows, stats), dtype=dtype)
    if spec.masked:
        unseen = np.isnan(windows).all(axis=1)
        if unseen.any():
            raise DataError(
                f"{int(unseen.sum())} window(s) have no observed value in their "
                f"last lookback={windows.shape[1]} values, so there is nothing "
                "to forecast from; give more recent data for those series."
            )
    n, lookback = windows.shape
    angles = None
    if spec.periods:
        if phases is None:
            raise ValueError("a model with season_inputs needs the phases.")
        last = np.asarray(phases)
        angles = phase_angles(last, np.full(n, lookback), spec.periods)
        angles = angles.reshape(n, lookback, len(spec.periods))
    columns = series_columns(stats, spec.multiplicative)
    if columns is not None:
        columns = np.repeat(columns[:, None, :], lookback, axis=1)
    return window_inputs(
        scaled, masked=spec.masked, channels=extra_channels(angles, columns, dtype)
    )
