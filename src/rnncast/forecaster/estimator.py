r"""The recurrent forecaster: fit / predict / save / load, with scikit-learn's contract.

A :class:`Forecaster` stores its parameters as given (declared once, in
:mod:`rnncast.options`), fits one immutable
:class:`~rnncast.forecaster.state.FittedState` (``fitted_``) and exposes its parts
as the fitted attributes. The work is done by the modules beside it: ``plan``
(what to fit), ``fitting``, ``predicting``, ``features`` (network inputs),
``reading`` (input data) and ``files`` (the model folder).
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from rnncast.data.quality import data_report
from rnncast.data.scaling import ScalerStats
from rnncast.data.series import SeriesData
from rnncast.distributed.engines import resolve_engine
from rnncast.exceptions import ConfigError, NotFittedError
from rnncast.forecaster.features import InputSpec, network_inputs
from rnncast.forecaster.files import load_model, save_model
from rnncast.forecaster.fitting import fit_state
from rnncast.forecaster.plan import season_length
from rnncast.forecaster.predicting import ForecastInputs, forecast, forecast_inputs
from rnncast.forecaster.reading import read_series, stats_for
from rnncast.forecaster.state import FittedState
from rnncast.options import ForecasterParams, options
from rnncast.protocol import set_known_params
from rnncast.training import EpochRecord

__all__ = ["Forecaster"]

_NAMES = tuple(option.name for option in options())
_DEFAULTS = {option.name: option.default for option in options()}
# keywords of earlier releases: old name -> new name
_RENAMED = {"level": "window_level"}


class _Fitted:
    """A fitted attribute: read from the Forecaster's state, NotFittedError before."""

    def __init__(self, read: Callable[[FittedState], Any], doc: str) -> None:
        self.read = read
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, model: Forecaster | None, owner: type | None = None) -> Any:
        if model is None:
            return self
        return self.read(model.fitted_state(f"reading {self.name}"))

    def __set__(self, model: Forecaster, value: Any) -> None:
        raise AttributeError(
            f"{self.name} is read from the fitted state; fit the model to change it."
        )


class Forecaster:
    """Forecast many series with one recurrent network (RNN, LSTM or GRU).

    One global network is trained on windows drawn from every series, each series
    scaled on its own training part; by default its forecast is mixed with the
    Theta method's. Every parameter is keyword-only and stored unchanged
    (scikit-learn's contract: ``get_params``, ``set_params``,
    ``sklearn.base.clone``); docs/parameters.md explains each one at length.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    fitted_ : FittedState
        Everything ``fit`` produced; the attributes below read it.
    network_ : RecurrentNetwork or EnsembleNetwork
        The trained network (the median ensemble of the members), in eval mode.
    history_ : list of EpochRecord
        Training and validation loss of every epoch (scaled units), per member;
        the refit's records have ``refit=True``.
    window_level_ : str
        What the network's windows start from (``window_level`` resolved).
    window_level_scores_ : dict or None
        The validation losses the naive check compared: ``"naive"`` (the last
        value), the resolved level's network and, when it did not beat the naive
        forecast, ``"last"``.
    combine_weight_, combine_scores_ : float, dict or None
        With ``combine``: the network's weight in the mix, and every grid
        weight's validation MAE.
    classical_ : ndarray of shape (n_series, horizon) or None
        With ``combine``: each fitted series' classical forecast.
    ids_, freq_, season_length_, lookback_, transform_, last_ds_
        The fitted series' ids, their frequency, the season length, the (longest
        member's) lookback, the fitted transform and each series' last timestamp.
    seasons_ : tuple of float
        Every seasonal period the fit kept, shortest first (``season_length_`` is
        the first, rounded): e.g. (24, 168) for hourly data with a weekly pattern.
    scaler_ : ScalerStats
        Per-series scaling statistics (``y = z * scale + loc``).
    context_ : ndarray of shape (n_series, lookback)
        The last values of each fitted series, what ``predict()`` forecasts from.
    n_train_windows_, validation_windows_ : int
        Training windows of the last training; validation windows per series.
    conformal_scores_, conformal_series_, interval_scale_ : ndarray or None
        Calibrated intervals: the validation scores in conformal units, each
        row's series, and each fitted series' unit.
    data_report_ : DataReport
        What fitting changed in the data (filled values, resampling, gaps kept,
        outliers found).
    filled_ : dict
        Values filled per series by the ``fill`` policy.
    fallbacks_ : dict
        Each series with a single observed value (too few for a training
        window), forecast by that value instead of the network, and why
        (``missing="auto"`` or ``"mask"``; the others, however short, are padded).
    masked_ : bool
        Whether the network reads gaps and short series' padding as masked
        (``missing="auto"`` resolved on the data).

    Examples
    --------
    >>> from rnncast import Forecaster
    >>> from rnncast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> f = Forecaster(horizon=12, hidden=(8,), epochs=2, seed=0).fit(df)
    >>> fc = f.predict()
    >>> list(fc.columns), len(fc)
    (['unique_id', 'ds', 'yhat'], 12)
    """

    def __init__(self, **params: Any) -> None:
        params = _renamed(params, "Forecaster()")
        unknown = sorted(set(params) - set(_NAMES))
        if unknown:
            raise TypeError(
                f"Forecaster() got an unexpected keyword argument {unknown[0]!r}"
            )
        for name, value in {**_DEFAULTS, **params}.items():
            setattr(self, name, value)

    @classmethod
    def from_keras(cls, path: str | Path, **params: Any) -> Forecaster:
        """Return a Forecaster that fine-tunes the Keras 3 model at ``path``.

        ``cell``, ``hidden``, the head (``output``; ``horizon`` for a Dense head
        of several steps) and ``init_weights`` come from the file
        (:func:`rnncast.interop.keras.keras_params`); ``params`` set the others.
        """
        from rnncast.interop.keras import keras_params

        return cls(**{**keras_params(path), **params})

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the parameters as given, by name (scikit-learn's contract)."""
        return {name: getattr(self, name) for name in _NAMES}

    def set_params(self, **params: Any) -> Forecaster:
        """Set parameters by name; return ``self`` (fit again to use them)."""
        return set_known_params(self, _renamed(params, "set_params()"))

    def __repr__(self) -> str:
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _same(value, _DEFAULTS[name])
        ]
        return f"Forecaster({', '.join(changed)})"

    @property
    def name(self) -> str:
        """The model's name in backtests: ``alias``, else the cell and its mix.

        ``"lstm"`` with the default mix, ``"lstm+none"`` for the network alone,
        ``"lstm+theta+damped"``...: the backtest's model names.
        """
        if self.alias:  # type: ignore[attr-defined]
            return str(self.alias)  # type: ignore[attr-defined]
        combine = self.combine or "none"  # type: ignore[attr-defined]
        cell = str(self.cell)  # type: ignore[attr-defined]
        return cell if combine == _DEFAULTS["combine"] else f"{cell}+{combine}"

    @property
    def forecast_column(self) -> str:
        """The column of the point forecasts: ``alias``, else ``yhat``."""
        return self.alias or "yhat"  # type: ignore[attr-defined, no-any-return]

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: Any,
        *,
        static_df: Any = None,
        on_epoch: Callable[[EpochRecord], None] | None = None,
        engine: Any = None,
        workers: int | None = None,
    ) -> Forecaster:
        """Train the network on every series of ``data``.

        Parameters
        ----------
        data : DataFrame, Series, ndarray or path
            Long frame (``id_col``, ``time_col``, ``target_col``; pandas or polars),
            one series, or a CSV/Parquet path; see
            :func:`rnncast.data.inputs.to_long_frame`. With covariates, their
            columns too (``futr_exog``, ``hist_exog``; ``stat_exog`` here or in
            ``static_df``).
        static_df : DataFrame, optional
            The static covariates, one row per series: ``id_col`` and the
            ``stat_exog`` columns (NeuralForecast's ``static_df``).
        on_epoch : callable, optional
            Called after every epoch with an :class:`~rnncast.training.EpochRecord`.
        engine : "local", "ray" or RayEngine, optional
            ``"ray"``: train data-parallel on a Ray cluster (``rnncast[ray]``),
            each of ``workers`` processes holding a block of whole series
            (``data`` may then be a folder of Parquet files each worker reads
            itself); one process's training, step for step to floating-point
            rounding (docs/scale.md).
        workers : int, optional
            Processes of a data-parallel fit; default one per CPU of the cluster.

        Returns
        -------
        Forecaster
            ``self``, fitted.

        Raises
        ------
        ConfigError
            A parameter is invalid (before the data is read).
        DataError
            The data is invalid or too short; nothing is trained.
        """
        params = self.checked_params()
        if engine is not None and engine != "local":
            if on_epoch is not None:
                raise ConfigError(
                    "on_epoch is called in this process: a data-parallel fit's "
                    "epochs run on the workers; leave it out with engine=."
                )
            self.fitted_ = resolve_engine(engine).fit_state(
                self.get_params(), data, static_df, workers
            )
            return self
        series, resampled, ignored = read_series(params, data, static_df=static_df)
        season = season_length(params, series.freq)
        report = data_report(
            series, season, resampled=resampled, ignored_columns=ignored
        )
        self.fitted_ = fit_state(params, series, report, on_epoch)
        return self

    def checked_params(self) -> ForecasterParams:
        """Return the parameters, checked (a ForecasterParams)."""
        return ForecasterParams(**self.get_params()).validate()

    # -------------------------------------------------------------- predict
    def predict(
        self,
        data: Any = None,
        *,
        level: float | Sequence[float] | None = None,
        futr_df: Any = None,
        static_df: Any = None,
    ) -> pd.DataFrame:
        """Forecast ``horizon`` steps after the end of every series.

        Parameters
        ----------
        data : DataFrame, Series, ndarray or path, optional
            New history to forecast from. Without it, the series seen by ``fit``
            are forecast from their last values. Series seen by ``fit`` keep their
            fitted scaling; new series are scaled by statistics of their own history.
        level : float or sequence of float, optional
            Prediction interval levels in percent, e.g. ``[80, 95]``; any level
            with the default ``intervals="auto"`` (conformal).
        futr_df : DataFrame, optional
            With ``futr_exog``: those columns for the ``horizon`` steps after
            every series (``id_col``, ``time_col`` and the columns; later rows are
            ignored). A missing step is an error naming the series and times.
        static_df : DataFrame, optional
            With ``stat_exog`` and new series in ``data``: their static values.

        Returns
        -------
        DataFrame
            Long frame ``id_col, time_col, yhat`` (``alias`` for ``yhat`` if set)
            with ``horizon`` rows per series, plus ``yhat-lo-{level}`` and
            ``yhat-hi-{level}`` for each level; ``attrs["interval_method"]`` then
            says how the bounds were computed (e.g. ``"per-step, signed"``).
            ``attrs["fallbacks"]`` maps each series too short for the network
            (forecast by its last value, without interval) to why; see
            ``fallbacks_``.
        """
        state = self.fitted_state("predict()")
        return forecast(self.checked_params(), state, data, level, futr_df, static_df)

    def read(self, data: Any) -> SeriesData:
        """Return ``data`` as this model reads it: validated, sorted, filled.

        At the fitted frequency once fitted.
        """
        state = getattr(self, "fitted_", None)
        freq = None if state is None else state.series.freq
        return read_series(self.checked_params(), data, freq)[0]

    def history_frame(self, data: Any) -> pd.DataFrame:
        """Return ``data`` as the model reads it, long: ``unique_id, ds, y``."""
        return self.read(data).to_frame()

    def scaler_for(self, series: SeriesData) -> ScalerStats:
        """Scaling statistics for each series of ``series``, as ``predict`` uses them.

        Series seen by ``fit`` keep their fitted statistics (and seasonal flag);
        new series get statistics fitted on (and are tested on) their history.
        """
        return stats_for(
            self.checked_params(), self.fitted_state("scaler_for()"), series
        )

    def network_inputs(
        self,
        windows: NDArray[np.float64],
        stats: ScalerStats,
        dtype: torch.dtype = torch.float32,
        *,
        phases: NDArray[np.int64] | None = None,
    ) -> torch.Tensor:
        """Scaled network inputs (n, lookback, channels) from raw windows.

        See :func:`~rnncast.forecaster.features.network_inputs`; ``phases``: each
        window's last season phase (:meth:`season_phases`), with season inputs.
        """
        return network_inputs(self._inputs(), windows, stats, dtype, phases=phases)

    def forecast_inputs(
        self,
        data: Any = None,
        *,
        futr_df: Any = None,
        static_df: Any = None,
        dtype: torch.dtype = torch.float32,
    ) -> ForecastInputs:
        """Return what the network reads to forecast each series, as ``predict``.

        ``inputs`` (n, lookback, channels), ``future`` (n, horizon, f) with
        future-known inputs, and each series' scaling; ``dtype=torch.float64``
        for the NumPy reference (:mod:`rnncast.reference`).
        """
        state = self.fitted_state("forecast_inputs()")
        params = self.checked_params()
        return forecast_inputs(params, state, data, futr_df, static_df, dtype)

    def season_phases(self, last_ds: Sequence[Any]) -> NDArray[np.int64] | None:
        """Season phase of each timestamp (None for models without season inputs)."""
        return self._inputs().phases(last_ds)

    def _inputs(self) -> InputSpec:
        state = self.fitted_state("network_inputs()")
        return InputSpec.of(
            self.checked_params(),
            state.network.config,
            state.seasons,
            state.series.freq,
            state.masked,
        )

    # ------------------------------------------------------------ save/load
    def save(self, path: str | Path) -> None:
        """Save the fitted model to the folder ``path`` (safetensors + JSON, no pickle).

        ``path`` is a new path, an earlier model folder (replaced) or an empty
        folder. The folder is built beside ``path`` and moved into place at the
        end, so an interrupted save leaves any previous model at ``path`` intact.
        """
        save_model(Path(path), self.get_params(), self.fitted_state("save()"))

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> Forecaster:
        """Load a model saved by :meth:`save`; it predicts exactly as the saved one.

        Folders saved by earlier versions of rnncast load too.

        Raises
        ------
        ModelFileError
            The folder or a file in it is missing, damaged, or from an incompatible
            version of rnncast.
        """
        params, state = load_model(Path(path), device)
        model = cls(**params)
        model.fitted_ = state
        return model

    def fitted_state(self, action: str = "using it") -> FittedState:
        """Return the fitted state; NotFittedError naming ``action`` before ``fit``."""
        state: FittedState | None = self.__dict__.get("fitted_")
        if state is None:
            raise NotFittedError(
                f"this Forecaster is not fitted yet; call fit(data) before {action}."
            )
        return state

    # ---------------------------------------------------- fitted attributes
    network_ = _Fitted(lambda s: s.network, "The trained network.")
    history_ = _Fitted(lambda s: s.history, "Every epoch of every training.")
    window_level_ = _Fitted(lambda s: s.window_level, "The window level used.")
    window_level_scores_ = _Fitted(
        lambda s: s.level_scores, "The validation losses of the naive check."
    )
    combine_weight_ = _Fitted(lambda s: s.mix.weight, "The network's weight.")
    combine_scores_ = _Fitted(lambda s: s.mix.scores, "Each weight's validation MAE.")
    classical_ = _Fitted(lambda s: s.series.classical, "The classical forecasts.")
    ids_ = _Fitted(lambda s: s.series.ids, "The fitted series' ids.")
    freq_ = _Fitted(lambda s: s.series.freq, "Their frequency.")
    last_ds_ = _Fitted(lambda s: s.series.last_ds, "Their last timestamps.")
    season_length_ = _Fitted(lambda s: s.season_length, "The season length.")
    seasons_ = _Fitted(lambda s: s.seasons, "Every seasonal period kept.")
    lookback_ = _Fitted(lambda s: s.lookback, "The longest member lookback.")
    transform_ = _Fitted(lambda s: s.transform, "The fitted transform.")
    scaler_ = _Fitted(lambda s: s.series.scaler, "Per-series scaling statistics.")
    context_ = _Fitted(lambda s: s.series.context, "Each series' last values.")
    n_train_windows_ = _Fitted(lambda s: s.n_train_windows, "Training windows.")
    validation_windows_ = _Fitted(
        lambda s: s.validation_windows, "Validation windows per series."
    )
    conformal_scores_ = _Fitted(
        lambda s: None if s.calibration is None else s.calibration.scores,
        "Calibration scores in conformal units.",
    )
    conformal_series_ = _Fitted(
        lambda s: None if s.calibration is None else s.calibration.owners,
        "The series of each calibration score.",
    )
    interval_scale_ = _Fitted(lambda s: s.series.unit, "Each series' conformal unit.")
    data_report_ = _Fitted(lambda s: s.data_report, "What fitting did to the data.")
    filled_ = _Fitted(lambda s: s.series.filled, "Values filled per series.")
    fallbacks_ = _Fitted(
        lambda s: s.fallbacks, "Series forecast by their last value (too short), why."
    )
    masked_ = _Fitted(lambda s: s.masked, "Whether gaps and padding are masked.")

    @property
    def level_(self) -> str:
        """Deprecated alias of ``window_level_``."""
        _deprecated("level_", "window_level_")
        return self.window_level_  # type: ignore[no-any-return]

    @property
    def level_scores_(self) -> dict[str, float] | None:
        """Deprecated alias of ``window_level_scores_``."""
        _deprecated("level_scores_", "window_level_scores_")
        return self.window_level_scores_  # type: ignore[no-any-return]


def _signature() -> inspect.Signature:
    """Return the Forecaster's signature: ``self`` and every parameter, keyword-only."""
    hints = {f.name: f.type for f in dataclasses.fields(ForecasterParams)}
    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for option in options():
        annotation: Any = hints[option.name]
        if option.choices is not None:
            annotation = Literal[tuple(option.choices)]  # type: ignore[valid-type]
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=option.default,
                annotation=annotation,
            )
        )
    return inspect.Signature(parameters, return_annotation=None)


def _parameter_docs(indent: str = "    ") -> str:
    """Return the NumPy-style Parameters entries of every option, for docstrings."""
    lines = []
    for option in options():
        lines.append(f"{option.name} : {option.kind}, default {option.shown_default}")
        text = option.help[0].upper() + option.help[1:] + "."
        lines.extend(indent + line for line in _wrap(text, 80 - len(indent)))
    return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


Forecaster.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
Forecaster.__doc__ = (Forecaster.__doc__ or "").replace(
    "    {parameters}", textwrap.indent(_parameter_docs(), "    ")
)


def _renamed(params: dict[str, Any], where: str) -> dict[str, Any]:
    """``params`` with keywords of earlier releases renamed, with a warning."""
    for old, new in _RENAMED.items():
        if old in params:
            if new in params:
                raise TypeError(f"{where} got both {old}= and its new name {new}=")
            _deprecated(f"{old}=", f"{new}=", stacklevel=4)
            params = {**params, new: params[old]}
            del params[old]
    return params


def _deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    warnings.warn(
        f"{old} is deprecated and will be removed in rnncast 1.0; use {new} (it "
        "names the window normalisation, not the intervals of predict(level=)).",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter value equals its default (``repr`` leaves it out)."""
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
        return False
