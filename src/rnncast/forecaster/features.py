r"""The network's inputs: scaled values plus the optional channels, built one way.

Every window the network reads, in training, on the validation windows, at
predict time and in :mod:`rnncast.explain`, has the channels

1. the scaled value ``(g(y) - loc) / scale`` (carried over gaps, with an
   observed indicator, for ``missing="mask"``:
   :func:`~rnncast.data.windows.masked_inputs`);
2. with ``season_inputs``, :math:`\sin` and :math:`\cos` of each value's
   phase angle in every kept seasonal period
   (:func:`~rnncast.data.windows.phase_channels`);
3. with covariates (:class:`~rnncast.data.covariates.CovariateLayout`), the
   calendar inputs, the dynamic covariates scaled per series and the encoded
   static ones (:func:`covariate_columns`);
4. with ``level="detect"``, each series' constant columns
   (:func:`series_columns`): its scaled zero for multiplicative patterns, then
   its seasonal flag, last, where the network reads it.

The direct head also reads, at every forecast step, the future-known inputs:
the calendar inputs and the future-known covariates, scaled
(:func:`known_columns`).

Training gathers windows of the flat scaled series with the extra channels of
every value (:func:`value_channels`, :func:`value_known`); forecasts build them
for raw windows (:func:`network_inputs`, :func:`future_inputs`). Both take the
channels from :func:`extra_channels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from rnncast.data.calendar import calendar_values
from rnncast.data.covariates import NO_COVARIATES, CovariateLayout
from rnncast.data.scaling import ScalerStats, transform_rows
from rnncast.data.series import Freq, SeriesData
from rnncast.data.timeline import shift_timestamps, step_ordinals, timestamps_of_series
from rnncast.data.windows import phase_angles, phase_channels, window_inputs
from rnncast.exceptions import DataError
from rnncast.models.networks import NetworkConfig

__all__ = [
    "InputSpec",
    "WindowCovariates",
    "covariate_columns",
    "extra_channels",
    "future_inputs",
    "known_columns",
    "network_inputs",
    "series_columns",
    "value_channels",
    "value_known",
    "window_stamps",
]


@dataclass(frozen=True)
class InputSpec:
    """What a network's inputs hold besides the scaled value.

    ``masked``: gaps and padding are masked (``missing`` resolved);
    ``periods``: the seasonal periods whose phase channels the inputs hold (the
    kept seasons with ``season_inputs``, else none) at frequency ``freq``;
    ``multiplicative``: the series' scaled zero comes before the seasonal flag;
    ``covariates``: the covariates' layout; ``recursive``: the inputs of the
    forecast steps are fed back whole (the static encoding too).
    """

    masked: bool
    periods: tuple[float, ...]
    freq: Freq
    multiplicative: bool = False
    covariates: CovariateLayout = NO_COVARIATES
    recursive: bool = False

    @classmethod
    def of(
        cls,
        params: Any,
        network: NetworkConfig,
        seasons: Sequence[float],
        freq: Freq,
        masked: bool,
        covariates: CovariateLayout = NO_COVARIATES,
    ) -> InputSpec:
        """Return the inputs a network of ``network`` reads under ``params``.

        ``seasons``: the fit's kept seasonal periods.
        """
        return cls(
            masked=masked,
            periods=tuple(seasons) if params.season_inputs else (),
            freq=freq,
            multiplicative=network.multiplicative,
            covariates=covariates,
            recursive=network.output == "recursive",
        )

    @property
    def step_inputs(self) -> int:
        """Return the inputs the network is given for each forecast step."""
        return self.covariates.step_inputs("recursive" if self.recursive else "direct")

    def calendar(self, stamps: pd.Index) -> NDArray[np.float64] | None:
        """Return the calendar inputs at ``stamps``, (n, c); None without them."""
        layout = self.covariates
        if not layout.calendar:
            return None
        return calendar_values(stamps, self.freq, layout.holidays)

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


def covariate_columns(
    spec: InputSpec,
    stats: ScalerStats,
    owners: NDArray[np.int64],
    stamps: pd.Index | None,
    exog: NDArray[np.float64] | None,
) -> NDArray[np.float64] | None:
    """Return the covariates' input channels of values of series ``owners``, (m, k).

    ``stamps`` (m,) the values' timestamps (for the calendar), ``exog`` (m, d)
    their raw dynamic covariates; the static encoding of each owner last.
    None without covariates.
    """
    dynamic = len(spec.covariates.dynamic)
    return _columns(spec, stats, owners, stamps, exog, dynamic, static=True)


def known_columns(
    spec: InputSpec,
    stats: ScalerStats,
    owners: NDArray[np.int64],
    stamps: pd.Index | None,
    futr: NDArray[np.float64] | None,
) -> NDArray[np.float64] | None:
    """Return the future-known inputs of steps of series ``owners``, (m, f).

    The calendar inputs at ``stamps``, then the future-known covariates ``futr``
    (m, len(layout.futr)), raw, scaled as in training; for a recursive head the
    static encoding too (it feeds back whole inputs). None without them.
    """
    known = len(spec.covariates.futr)
    return _columns(spec, stats, owners, stamps, futr, known, static=spec.recursive)


def _columns(
    spec: InputSpec,
    stats: ScalerStats,
    owners: NDArray[np.int64],
    stamps: pd.Index | None,
    exog: NDArray[np.float64] | None,
    dynamic: int,
    *,
    static: bool,
) -> NDArray[np.float64] | None:
    r"""Return the calendar, the first ``dynamic`` covariates and the encoding.

    The calendar inputs at ``stamps``; the first ``dynamic`` columns of ``exog``
    scaled with their series' statistics, :math:`(x - \mu_i) / \sigma_i`; with
    ``static``, each owner's static encoding.
    """
    parts = []
    if spec.covariates.calendar:
        parts.append(spec.calendar(stamps))  # type: ignore[arg-type]
    if dynamic:
        loc = stats.exog_loc[owners, :dynamic]  # type: ignore[index]
        scale = stats.exog_scale[owners, :dynamic]  # type: ignore[index]
        parts.append((exog - loc) / scale)  # type: ignore[operator]
    if static and spec.covariates.static is not None:
        parts.append(stats.static[owners])  # type: ignore[index]
    return np.concatenate(parts, axis=-1) if parts else None


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
    owners = np.repeat(np.arange(series.n_series), series.lengths)
    stamps = series.timestamps() if spec.covariates.calendar else None
    columns = _joined(
        covariate_columns(spec, stats, owners, stamps, series.exog),
        _repeated(series_columns(stats, spec.multiplicative), series.lengths),
    )
    return extra_channels(angles, columns, torch.float32)


def value_known(
    spec: InputSpec, series: SeriesData, stats: ScalerStats
) -> torch.Tensor | None:
    """Future-known inputs of every value of ``series``, (n_points, f), float32.

    For training: :func:`~rnncast.data.windows.gather` reads each window's
    target steps. None for a network without them.
    """
    if not spec.step_inputs:
        return None
    owners = np.repeat(np.arange(series.n_series), series.lengths)
    stamps = series.timestamps() if spec.covariates.calendar else None
    futr = None
    if spec.covariates.futr:
        futr = series.exog[:, : len(spec.covariates.futr)]  # type: ignore[index]
    known = known_columns(spec, stats, owners, stamps, futr)
    return torch.as_tensor(known, dtype=torch.float32)


@dataclass(frozen=True)
class WindowCovariates:
    """The covariates of forecast windows, raw.

    ``stamps`` (n * lookback,) every input step's timestamp, ``exog`` (n,
    lookback, d) the dynamic covariates of the input steps; ``future_stamps``
    (n * horizon,) and ``futr`` (n, horizon, len(futr)) those of the forecast
    steps. Each None where the model does not read it.
    """

    stamps: pd.Index | None = None
    exog: NDArray[np.float64] | None = None
    future_stamps: pd.Index | None = None
    futr: NDArray[np.float64] | None = None


def window_stamps(last_ds: Sequence[Any], freq: Freq, length: int) -> pd.Index:
    """Timestamps of the ``length`` steps ending at each ``last_ds``, flat."""
    starts = shift_timestamps(list(last_ds), freq, np.full(len(last_ds), 1 - length))
    return timestamps_of_series(list(starts), freq, np.full(len(last_ds), length))


def future_inputs(
    spec: InputSpec,
    stats: ScalerStats,
    covariates: WindowCovariates | None,
    horizon: int,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor | None:
    """Return the future-known inputs of each window's forecast steps, (n, horizon, f).

    None for a network without them.
    """
    if not spec.step_inputs:
        return None
    assert covariates is not None
    n = len(stats.loc)
    owners = np.repeat(np.arange(n), horizon)
    futr = None if covariates.futr is None else covariates.futr.reshape(n * horizon, -1)
    known = known_columns(spec, stats, owners, covariates.future_stamps, futr)
    return torch.as_tensor(known.reshape(n, horizon, -1), dtype=dtype)  # type: ignore[union-attr]


def _joined(*parts: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
    given = [p for p in parts if p is not None]
    return np.concatenate(given, axis=-1) if given else None


def _repeated(
    columns: NDArray[np.float64] | None, lengths: NDArray[np.int64]
) -> NDArray[np.float64] | None:
    return None if columns is None else np.repeat(columns, lengths, axis=0)


def network_inputs(
    spec: InputSpec,
    windows: NDArray[np.float64],
    stats: ScalerStats,
    dtype: torch.dtype = torch.float32,
    *,
    phases: NDArray[np.int64] | None = None,
    covariates: WindowCovariates | None = None,
) -> torch.Tensor:
    """Scaled network inputs (n, lookback, channels) from raw windows (n, lookback).

    ``stats`` holds each window's scaling; ``phases`` the step ordinal of each
    window's last value (:meth:`InputSpec.phases`), needed with season inputs;
    ``covariates`` the windows' covariates, needed with covariates.
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
    extra = None
    if spec.covariates.inputs:
        if covariates is None:
            raise ValueError("a model with covariates needs the windows' covariates.")
        owners = np.repeat(np.arange(n), lookback)
        exog = covariates.exog
        flat = None if exog is None else exog.reshape(n * lookback, -1)
        extra = covariate_columns(spec, stats, owners, covariates.stamps, flat)
        extra = extra.reshape(n, lookback, -1)  # type: ignore[union-attr]
    columns = series_columns(stats, spec.multiplicative)
    if columns is not None:
        columns = np.repeat(columns[:, None, :], lookback, axis=1)
    return window_inputs(
        scaled,
        masked=spec.masked,
        channels=extra_channels(angles, _joined(extra, columns), dtype),
    )
