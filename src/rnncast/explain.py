"""Look inside a fitted network with the NumPy reference of :mod:`rnncast.reference`.

* :func:`gate_activations`: the gates of every layer (LSTM ``f, i, o`` and the cell
  state ``C``; GRU reset ``r`` and update ``z``; the sLSTM's stabilised gates
  ``f', i', o``, cell ``c`` and normaliser ``n`` (the mLSTM's the same but its
  matrix memory, and its ``f', i'`` one per window); the hidden state ``h`` of any
  cell)
  over one input window of one series, recomputed from the trained weights.
* :func:`input_importance`: which inputs move the forecast (gradient times
  input, per channel: the value, covariates, calendar, season phases).
* :func:`gradient_decay`: the vanishing-gradient experiment, the norm of
  ``dh_T / dh_t`` against the lag ``T - t`` for RNN, LSTM and GRU on a real series.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from rnncast.data.scaling import ScalerStats, inverse_transform
from rnncast.data.series import (
    SeriesData,
    forecast_frame,
    python_scalar,
    series_timestamps,
)
from rnncast.exceptions import DataError
from rnncast.forecaster import Forecaster
from rnncast.models.networks import RecurrentNetwork
from rnncast.reference import (
    LayerParams,
    ReferenceNetwork,
    centre,
    from_torch,
    layer_backward,
    layer_forward,
    network_forward,
)
from rnncast.training import seed_everything

__all__ = [
    "GateTrace",
    "gate_activations",
    "gradient_decay",
    "input_importance",
    "jacobian_decay",
    "vanishing_gradients",
    "vanishing_lag",
]

# What each cell shows: step-cache key -> label.
_SHOWN = {
    "lstm": {"f": "forget f", "i": "input i", "o": "output o", "c": "cell C"},
    "gru": {"r": "reset r", "z": "update z"},
    "rnn": {},
    # the sLSTM's gates as applied (stabilised), its cell and normaliser states
    "slstm": {
        "f": "forget f'",
        "i": "input i'",
        "o": "output o",
        "c": "cell c",
        "n": "normaliser n",
    },
    "mlstm": {"f": "forget f'", "i": "input i'", "o": "output o", "n": "normaliser n"},
}


@dataclass(frozen=True)
class GateTrace:
    """Gate activations of a fitted network over one input window.

    Attributes
    ----------
    series : hashable
        The series id.
    ds : Index
        Timestamps of the ``lookback`` inputs.
    inputs : ndarray (lookback,)
        The input values in original units.
    forecast : DataFrame
        ``unique_id, ds, yhat`` forecast from this window by the reference: the
        network's, before ``combine`` mixes in a classical forecast.
    gates : dict
        ``(layer, label) -> (lookback, units)`` activations; layer counts from 1.
    """

    series: Hashable
    ds: pd.Index
    inputs: NDArray[np.float64]
    forecast: pd.DataFrame
    gates: dict[tuple[int, str], NDArray[np.float64]]

    def to_frame(self) -> pd.DataFrame:
        """Long frame ``ds, layer, gate, unit, value``."""
        parts = []
        for (layer, gate), values in self.gates.items():
            steps, units = values.shape
            parts.append(
                pd.DataFrame(
                    {
                        "ds": np.repeat(np.asarray(self.ds), units),
                        "layer": layer,
                        "gate": gate,
                        "unit": np.tile(np.arange(units), steps),
                        "value": values.reshape(-1),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)


def gate_activations(
    model: Forecaster,
    data: Any = None,
    *,
    series: Hashable | None = None,
    end: Any = None,
    futr_df: Any = None,
) -> GateTrace:
    """Recompute the gates of ``model`` over one window with the NumPy reference.

    Parameters
    ----------
    model : Forecaster
        A fitted forecaster (any cell; an RNN has only its hidden state ``h``).
    data : DataFrame, Series, ndarray or path, optional
        History to read the window from; default the last window of each series
        seen in ``fit``.
    series : hashable, optional
        Series id; default the first series.
    end : timestamp or int, optional
        Time of the window's last input; default the end of the series. Needs
        ``data``, and a model without covariates (for one with covariates,
        pass ``data`` cut at that end).
    futr_df : DataFrame, optional
        With future-known covariates: those of the horizon, as ``predict``.

    Raises
    ------
    DataError
        Unknown series, unknown ``end``, or a window shorter than ``lookback``.
    """
    state = model.fitted_state("explain()")
    lookback = model.lookback_
    if state.covariates.inputs:
        return _covariate_gates(model, data, series, end, futr_df)
    if data is None:
        if end is not None:
            raise DataError("end= needs the history: pass data to explain a window.")
        ids, windows, stats, lasts = (
            model.ids_,
            model.context_,
            model.scaler_,
            model.last_ds_,
        )
    else:
        history = model.read(data)
        ids, stats = history.ids, model.scaler_for(history)
    uid = ids[0] if series is None else _match_id(series, ids)
    k = ids.index(uid)
    if data is None:
        window, last = windows[k], lasts[k]
    else:
        stamps = series_timestamps(
            history.first_ds[k], history.freq, history.lengths[k]
        )
        window, last = _window(history.series(k), stamps, end, lookback)
    reference = from_torch(model.network_)
    one = stats.take([k])
    phases = model.season_phases([last])
    x = model.network_inputs(window[None], one, torch.float64, phases=phases).numpy()
    z, _ = network_forward(reference, x)  # x: (1, lookback, channels)
    forecast = forecast_frame(
        [uid], [last], model.freq_, inverse_transform(z, one), column="yhat"
    )
    inputs_ds = _past_timestamps(last, model.freq_, lookback)
    gates = _gates(reference, x)
    return GateTrace(uid, inputs_ds, window, forecast, gates)


def _covariate_gates(
    model: Forecaster, data: Any, series: Hashable | None, end: Any, futr_df: Any
) -> GateTrace:
    """:func:`gate_activations` of a model with covariates, at a series' end."""
    if end is not None:
        raise DataError(
            "end= is not available for a model with covariates; pass data cut at "
            "that end (with its covariates) instead."
        )
    prepared = model.forecast_inputs(data, futr_df=futr_df, dtype=torch.float64)
    uid = prepared.ids[0] if series is None else _match_id(series, prepared.ids)
    k = prepared.ids.index(uid)
    x = prepared.inputs[k : k + 1].numpy()
    future = None if prepared.future is None else prepared.future[k : k + 1].numpy()
    reference = from_torch(model.network_)
    z, _ = network_forward(reference, x, future)
    one = prepared.stats.take([k])
    last = prepared.last_ds[k]
    window = model.context_[model.ids_.index(uid)] if data is None else None
    if window is None:
        window = inverse_transform(x[:, :, 0], one)[0]
    forecast = forecast_frame(
        [uid], [last], model.freq_, inverse_transform(z, one), column="yhat"
    )
    inputs_ds = _past_timestamps(last, model.freq_, model.lookback_)
    return GateTrace(uid, inputs_ds, window, forecast, _gates(reference, x))


def input_importance(
    model: Forecaster, data: Any = None, *, futr_df: Any = None
) -> pd.DataFrame:
    r"""How much each input moves the forecast: gradient times deviation, per input.

    Over the last window of every series (of ``fit``, or of ``data``), for the
    network's scaled outputs :math:`\hat z_k` and its inputs :math:`x_{t,c}`
    (and the future-known inputs of the forecast steps), with
    :math:`\bar x_c` the input's mean over those windows and steps:
    :math:`\text{importance}_c = \operatorname{mean}_\text{series}
    \sum_t \lvert \sum_k \partial \hat z_k / \partial x_{t,c} \,
    (x_{t,c} - \bar x_c) \rvert`, the first-order change of the forecast had
    the input stayed at its mean (a 0/1 flag counts where it differs from its
    usual value). The value channel is ``y``; a covariate goes by its column
    (``futr:`` for its horizon values), a calendar input by its name.

    Returns
    -------
    DataFrame
        ``input``, ``importance`` and ``share`` (of the total), largest first.
    """
    state = model.fitted_state("input_importance()")
    prepared = model.forecast_inputs(data, futr_df=futr_df)
    x = prepared.inputs.clone().requires_grad_(True)
    future = prepared.future
    if future is not None:
        future = future.clone().requires_grad_(True)
    network = model.network_
    network.eval()
    outputs = network(x, future)
    outputs.sum().backward()
    scores = _moved(x).numpy()
    names = _input_names(model, x.shape[-1])
    if future is not None:
        known = _moved(future).numpy()
        layout = state.covariates
        names += [f"futr:{n}" for n in (*layout.calendar, *layout.futr)]
        scores = np.concatenate([scores, known])
    frame = pd.DataFrame({"input": names, "importance": scores})
    frame["share"] = frame["importance"] / frame["importance"].sum()
    return frame.sort_values("importance", ascending=False, ignore_index=True)


def _moved(inputs: torch.Tensor) -> torch.Tensor:
    """Per channel: mean over windows of sum over steps |gradient x deviation|."""
    deviation = inputs.detach() - inputs.detach().mean(dim=(0, 1))
    return (inputs.grad * deviation).abs().sum(dim=1).mean(dim=0)  # type: ignore[operator]


def _input_names(model: Forecaster, channels: int) -> list[str]:
    """Return the name of each input channel, in the network's order."""
    state = model.fitted_state()
    names = ["y", "observed"] if state.masked else ["y"]
    if model.season_inputs:  # type: ignore[attr-defined]
        for period in state.seasons:
            names += [f"phase {period:g} sin", f"phase {period:g} cos"]
    names += state.covariates.names
    extra = ["scaled zero", "seasonal flag"]
    names += (
        extra[len(extra) - (channels - len(names)) :] if channels > len(names) else []
    )
    return names


def _match_id(series: Hashable, ids: list[Hashable]) -> Hashable:
    """Find ``series`` among ``ids``, also when given as text for integer ids."""
    if series in ids:
        return series
    for uid in ids:
        if str(uid) == str(series):
            return uid
    shown = ", ".join(map(repr, ids[:10])) + (" ..." if len(ids) > 10 else "")
    raise DataError(f"series {series!r} is not in the data; choose one of {shown}.")


def _gates(
    reference: ReferenceNetwork, x: NDArray[np.float64]
) -> dict[tuple[int, str], NDArray[np.float64]]:
    config = reference.config
    seq, _ = centre(
        x, config.level, config.season_length, multiplicative=config.multiplicative
    )
    gates = {}
    for number, p in enumerate(reference.layers, start=1):
        seq, cache = layer_forward(p, seq)
        for key, label in _SHOWN[p.cell].items():
            gates[(number, label)] = np.stack([step[key][0] for step in cache.steps])
        gates[(number, "hidden h")] = seq[0]
    return gates


def _window(
    values: NDArray[np.float64], stamps: pd.Index, end: Any, lookback: int
) -> tuple[NDArray[np.float64], Any]:
    position = len(values) - 1
    if end is not None:
        matches = np.flatnonzero(stamps == _as_time(end, stamps[0]))
        if len(matches) == 0:
            raise DataError(
                f"the series has no value at end={end!r}; give one of its timestamps "
                f"({stamps[0]} to {stamps[-1]})."
            )
        position = int(matches[0])
    if position + 1 < lookback:
        raise DataError(
            f"the window ending at {stamps[position]} has {position + 1} values; the "
            f"model reads lookback={lookback}. Choose a later end."
        )
    window = values[position + 1 - lookback : position + 1]
    return window, python_scalar(stamps[position])


def _past_timestamps(last: Any, freq: Any, n: int) -> pd.Index:
    if isinstance(freq, int):
        return pd.Index(last - freq * np.arange(n - 1, -1, -1))
    return pd.date_range(end=last, periods=n, freq=freq)


def _as_time(value: Any, like: Any) -> Any:
    if isinstance(like, pd.Timestamp):
        stamp = pd.Timestamp(value)
        return stamp.tz_localize(like.tz) if stamp.tz is None and like.tz else stamp
    return int(value)


def gradient_decay(
    model: Forecaster,
    data: Any = None,
    *,
    max_windows: int = 16,
    network: RecurrentNetwork | None = None,
) -> pd.DataFrame:
    r"""How fast gradients vanish through the first layer of a fitted ``model``.

    Runs :func:`jacobian_decay` over the last ``max_windows`` input windows of
    every series of ``data`` (default: the last window of each fitted series),
    scaled as :meth:`~rnncast.Forecaster.predict` scales them. ``network``: the
    weights to measure, of the model's architecture (default: the trained ones).
    """
    network = model.network_ if network is None else network
    model.fitted_state("gradient_decay()")
    if data is None:
        windows, stats = model.context_, model.scaler_
        phases = model.season_phases(model.last_ds_)
    else:
        series = model.read(data)
        windows, stats, owners, back = _all_windows(
            model, series, model.lookback_, max_windows
        )
        phases = model.season_phases(series.last_ds)
        if phases is not None:  # each window ends ``back`` steps before its series
            phases = phases[owners] - back
    x = model.network_inputs(windows, stats, torch.float64, phases=phases).numpy()
    config = network.config
    x, _ = centre(
        x, config.level, config.season_length, multiplicative=config.multiplicative
    )
    return jacobian_decay(from_torch(network).layers[0], x)


def jacobian_decay(layer: LayerParams, windows: NDArray[np.float64]) -> pd.DataFrame:
    r"""Measure the norms of the Jacobians of :math:`h_T` by :math:`h_t`, :math:`x_t`.

    For each window (row of ``windows``, already scaled; shape (n, lookback) or
    (n, lookback, channels)), the reference's BPTT runs
    with :math:`\delta h_T = I` (one backward pass per unit of :math:`h_T`,
    batched), so the gradient it carries back to step :math:`t` is the Jacobian
    :math:`\partial h_T/\partial h_t` (total, through every later step), and the
    gradient reaching the input is :math:`\partial h_T / \partial x_t`. Their
    Frobenius norms are averaged over windows.

    Returns
    -------
    DataFrame
        ``lag`` (:math:`T - t`), ``hidden`` and ``input`` norms, and each divided by
        its value at lag 1 (``hidden_relative``, ``input_relative``).
    """
    H = layer.hidden_size
    lookback = windows.shape[1]
    hidden, inputs = np.zeros(lookback), np.zeros(lookback)
    if windows.ndim == 2:
        windows = windows[:, :, None]  # (n, lookback, 1)
    for row in windows:
        x = np.repeat(row[None], H, axis=0)  # one copy per unit of h_T
        _, cache = layer_forward(layer, x)
        dh_out = np.zeros((H, lookback, H))
        dh_out[:, -1, :] = np.eye(H)
        _, dx, dh = layer_backward(layer, cache, dh_out)
        hidden += np.sqrt((dh**2).sum(axis=(0, 2)))
        inputs += np.sqrt((dx**2).sum(axis=(0, 2)))
    hidden, inputs = hidden[::-1] / len(windows), inputs[::-1] / len(windows)
    return pd.DataFrame(
        {
            "lag": np.arange(lookback),
            "hidden": hidden,
            "input": inputs,
            "hidden_relative": hidden / hidden[1],
            "input_relative": inputs / inputs[1],
        }
    )


def vanishing_gradients(
    data: Any,
    *,
    cells: tuple[str, ...] = ("rnn", "lstm", "gru"),
    hidden: int = 32,
    lookback: int = 96,
    horizon: int = 12,
    epochs: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """Run the vanishing-gradient experiment: each cell, initial and trained.

    Fits a one-layer Forecaster of each cell on ``data`` and measures
    :func:`gradient_decay` with the initial weights (the same seed gives the same
    initial network as the fit) and with the trained weights.

    Returns
    -------
    DataFrame
        :func:`jacobian_decay`'s columns plus ``cell`` and ``weights``
        (``"initial"`` or ``"trained"``).
    """
    parts = []
    for cell in cells:
        model = Forecaster(
            horizon=horizon,
            cell=cell,
            hidden=(hidden,),
            lookback=lookback,
            epochs=epochs,
            ensemble=1,
            seed=seed,
        ).fit(data)
        trained = gradient_decay(model, data)
        seed_everything(seed)  # as fit does, so this is the network fit started from
        start = RecurrentNetwork(model.network_.config)
        initial = gradient_decay(model, data, network=start)
        parts += [
            initial.assign(cell=cell, weights="initial"),
            trained.assign(cell=cell, weights="trained"),
        ]
    return pd.concat(parts, ignore_index=True)


def vanishing_lag(decay: pd.DataFrame, column: str = "hidden_relative") -> int | None:
    """First lag at which ``column`` falls below 1e-3 of its lag-1 value, or None."""
    below = decay.loc[decay[column] < 1e-3, "lag"]
    return int(below.iloc[0]) if len(below) else None


def _all_windows(
    model: Forecaster, series: SeriesData, lookback: int, max_windows: int
) -> tuple[NDArray[np.float64], ScalerStats, NDArray[np.int64], NDArray[np.int64]]:
    """Return the last ``max_windows`` windows of each series and their scaling.

    Also each window's series and how many steps before its series' end it ends.
    """
    stats = model.scaler_for(series)
    rows, owners, back = [], [], []
    for i in range(series.n_series):
        y = series.series(i)
        for end in range(len(y), max(lookback - 1, len(y) - max_windows), -1):
            rows.append(y[end - lookback : end])
            owners.append(i)
            back.append(len(y) - end)
    if not rows:
        raise DataError(f"no series has lookback={lookback} values.")
    return np.array(rows), stats.take(owners), np.array(owners), np.array(back)
