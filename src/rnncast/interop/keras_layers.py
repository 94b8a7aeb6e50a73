r"""rnncast's window level as a Keras layer, so default networks save as ``.keras``.

:class:`WindowLevel` computes, with ``keras.ops`` (any Keras backend), what
:mod:`rnncast.models.window_levels` computes in torch: the inputs centred on
each window's level :math:`l` (``part="centred"``: the target channel minus
:math:`l`, the other channels as they are, the scaled-zero channel of
multiplicative patterns dropped) or the start :math:`s` the head's output is
added to (``part="start"``), so that a Keras model
``Add()([Dense(h)(RNN(...)(centred)), start])`` forecasts as the network does.
The levels and starts (last, season, snaive, adaptive, detect with additive or
multiplicative patterns) follow the equations of docs/math.md;
``tests/interop/test_keras.py`` checks each against the torch network to 1e-5.

Importing this module registers the layer with Keras (``rnncast>WindowLevel``):
a ``.keras`` file holding it loads with ``keras.saving.load_model`` in a
process that imported :mod:`rnncast.interop.keras` (or this module).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

__all__ = [
    "Chains",
    "FedBack",
    "LastSteps",
    "Median",
    "Step",
    "Unchains",
    "WindowLevel",
]

_SEASONAL = ("season", "snaive", "adaptive", "detect")


@keras.saving.register_keras_serializable(package="rnncast")
class WindowLevel(keras.layers.Layer):
    """The window level's centred inputs or its start (see the module docstring).

    Input ``(batch, lookback, channels)``; output ``(batch, lookback, channels)``
    (fewer by the scaled-zero channel) for ``part="centred"``, ``(batch,
    horizon)`` for ``part="start"`` (``(batch, horizon, quantiles)`` with
    ``quantiles``).
    """

    def __init__(
        self,
        level: str,
        season_length: int,
        horizon: int,
        multiplicative: bool = False,
        part: str = "centred",
        quantiles: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.level = level
        self.season_length = int(season_length)
        self.horizon = int(horizon)
        self.multiplicative = bool(multiplicative)
        self.part = part
        self.quantiles = int(quantiles)

    def get_config(self) -> dict[str, Any]:
        """Return the layer's settings (what the ``.keras`` file stores)."""
        return {
            **super().get_config(),
            "level": self.level,
            "season_length": self.season_length,
            "horizon": self.horizon,
            "multiplicative": self.multiplicative,
            "part": self.part,
            "quantiles": self.quantiles,
        }

    def compute_output_spec(self, x: Any) -> Any:
        """Return the output's shape and type without computing it."""
        batch, steps, channels = x.shape
        if self.part == "start":
            shape = (batch, self.horizon) + (
                (self.quantiles,) if self.quantiles else ()
            )
            return keras.KerasTensor(shape, dtype=x.dtype)
        kept = channels - 1 if self.multiplicative and channels else channels
        return keras.KerasTensor((batch, steps, kept), dtype=x.dtype)

    def call(self, x: Any) -> Any:
        """Return the centred inputs or the start of windows ``x``."""
        zero = None
        if self.multiplicative:  # the scaled zero: read by the start only
            zero = x[:, -1:, -2]
            x = ops.concatenate([x[:, :, :-2], x[:, :, -1:]], axis=-1)
        level = self._level(x)  # (batch, 1, 1)
        if self.part == "centred":
            return ops.concatenate([x[:, :, :1] - level, x[:, :, 1:]], axis=-1)
        start = self._start(x, level, zero)
        if self.quantiles:  # every quantile of a step starts from the same value
            return ops.tile(ops.expand_dims(start, -1), [1, 1, self.quantiles])
        return start

    def _level(self, x: Any) -> Any:
        if self.level == "none":
            return ops.zeros_like(x[:, -1:, :1])
        steps = self.season_length if self.level in _SEASONAL else 1
        return ops.mean(x[:, -steps:, :1], axis=1, keepdims=True)

    def _start(self, x: Any, level: Any, zero: Any) -> Any:
        m, horizon, y = self.season_length, self.horizon, x[:, :, 0]
        flat = ops.tile(level[:, :, 0], [1, horizon])
        if self.level in ("none", "last", "season"):  # none: its level is 0
            return flat
        snaive = _repeated(y[:, -m:], horizon)
        if self.level == "snaive":
            return snaive
        if self.level == "adaptive":
            return ops.where(_seasonal_windows(y, m), snaive, flat)
        profile = level[:, :, 0] + _profile(y, m)  # detect
        if zero is not None:
            above = y - zero
            positive = ops.all(above > 0, axis=1, keepdims=True)
            ratios = _ratios(ops.where(positive, above, ops.ones_like(above)), m)
            scaled = zero + (level[:, :, 0] - zero) * ratios
            profile = ops.where(positive, scaled, profile)
        return ops.where(x[:, -1:, -1] > 0.5, _repeated(profile, horizon), flat)


@keras.saving.register_keras_serializable(package="rnncast")
class LastSteps(keras.layers.Layer):
    """The last ``steps`` steps of each window: what an ensemble's member reads."""

    def __init__(self, steps: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.steps = int(steps)

    def get_config(self) -> dict[str, Any]:
        """Return the layer's settings."""
        return {**super().get_config(), "steps": self.steps}

    def compute_output_spec(self, x: Any) -> Any:
        """Return the output's shape and type without computing it."""
        return keras.KerasTensor((x.shape[0], self.steps, x.shape[2]), dtype=x.dtype)

    def call(self, x: Any) -> Any:
        """Return ``x[:, -steps:]``."""
        return x[:, -self.steps :]


@keras.saving.register_keras_serializable(package="rnncast")
class Median(keras.layers.Layer):
    r"""The median of an ensemble's forecasts over members ``k``.

    :math:`\operatorname{median}_k \hat y^{(k)}`: the mean of the two middle
    values for an even count, as :class:`~rnncast.models.networks.EnsembleNetwork`
    takes it.
    """

    def compute_output_spec(self, inputs: list[Any]) -> Any:
        """Return the output's shape and type without computing it."""
        return keras.KerasTensor(inputs[0].shape, dtype=inputs[0].dtype)

    def call(self, inputs: list[Any]) -> Any:
        """Return the median over the members' forecasts."""
        return ops.median(ops.stack(inputs, axis=0), axis=0)


@keras.saving.register_keras_serializable(package="rnncast")
class Step(keras.layers.Layer):
    """Step ``index`` of a sequence: ``x[:, index]`` (``-1``: the last)."""

    def __init__(self, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = int(index)

    def get_config(self) -> dict[str, Any]:
        """Return the layer's settings."""
        return {**super().get_config(), "index": self.index}

    def compute_output_spec(self, x: Any) -> Any:
        """Return the output's shape and type without computing it."""
        return keras.KerasTensor((x.shape[0], x.shape[2]), dtype=x.dtype)

    def call(self, x: Any) -> Any:
        """Return ``x[:, index]``."""
        return x[:, self.index]


@keras.saving.register_keras_serializable(package="rnncast")
class FedBack(keras.layers.Layer):
    """The window with a forecast appended as its next step (the recursive head).

    ``[window, step]`` or ``[window, step, known]``: the new step's channels are
    the forecast, ones for the other channels (a fed-back value counts as
    observed), then the step's future-known inputs ``known`` (batch, f).
    """

    def __init__(self, input_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_size = int(input_size)

    def get_config(self) -> dict[str, Any]:
        """Return the layer's settings."""
        return {**super().get_config(), "input_size": self.input_size}

    def compute_output_spec(self, inputs: list[Any]) -> Any:
        """Return the output's shape and type without computing it."""
        batch, steps, channels = inputs[0].shape
        longer = None if steps is None else steps + 1
        return keras.KerasTensor((batch, longer, channels), dtype=inputs[0].dtype)

    def call(self, inputs: list[Any]) -> Any:
        """Return ``window`` followed by the forecast's input step."""
        window, step, *known = inputs
        size = known[0].shape[-1] if known else 0
        ones = ops.ones_like(step[:, :1]) * ops.ones((1, self.input_size - 1 - size))
        parts = [step, ones, *known]
        return ops.concatenate(
            [window, ops.expand_dims(ops.concatenate(parts, 1), 1)], 1
        )


@keras.saving.register_keras_serializable(package="rnncast")
class Chains(keras.layers.Layer):
    """A dilated layer's input: ``d`` interleaved chains as a batch of sequences.

    (batch, T, D) -> (batch * d, ceil(T / d), D), the steps ``r, r + d, ...`` of
    each window one chain, padded at their end, as
    :func:`rnncast.models.networks.dilated` runs them.
    """

    def __init__(self, dilation: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dilation = int(dilation)

    def get_config(self) -> dict[str, Any]:
        """Return the layer's settings."""
        return {**super().get_config(), "dilation": self.dilation}

    def compute_output_spec(self, x: Any) -> Any:
        """Return the output's shape and type without computing it."""
        steps = None if x.shape[1] is None else -(-x.shape[1] // self.dilation)
        return keras.KerasTensor((None, steps, x.shape[2]), dtype=x.dtype)

    def call(self, x: Any) -> Any:
        """Return the chains of ``x`` as a batch."""
        d, steps, width = self.dilation, x.shape[1], x.shape[2]
        chains = -(-steps // d)
        padded = ops.pad(x, [[0, 0], [0, chains * d - steps], [0, 0]])
        grouped = ops.transpose(
            ops.reshape(padded, (-1, chains, d, width)), (0, 2, 1, 3)
        )
        return ops.reshape(grouped, (-1, chains, width))


@keras.saving.register_keras_serializable(package="rnncast")
class Unchains(keras.layers.Layer):
    """The inverse of :class:`Chains`: ``[chains' outputs, window]`` in time order.

    (batch * d, ceil(T / d), H) -> (batch, T, H), ``T`` read from the window.
    """

    def __init__(self, dilation: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dilation = int(dilation)

    def get_config(self) -> dict[str, Any]:
        """Return the layer's settings."""
        return {**super().get_config(), "dilation": self.dilation}

    def compute_output_spec(self, inputs: list[Any]) -> Any:
        """Return the output's shape and type without computing it."""
        out, window = inputs
        shape = (window.shape[0], window.shape[1], out.shape[2])
        return keras.KerasTensor(shape, dtype=out.dtype)

    def call(self, inputs: list[Any]) -> Any:
        """Return the chains' outputs put back in time order."""
        out, window = inputs
        d, steps = self.dilation, window.shape[1]
        chains, width = out.shape[1], out.shape[2]
        grouped = ops.reshape(out, (-1, d, chains, width))
        ordered = ops.reshape(
            ops.transpose(grouped, (0, 2, 1, 3)), (-1, chains * d, width)
        )
        return ordered[:, :steps]


class _XLSTM(keras.layers.Layer):
    """An xLSTM layer: torch's parameter layout, the steps in a Python loop.

    The weights keep :mod:`rnncast.models.xlstm`'s names and shapes
    (``weight_ih_l0`` (rows, inputs)...), so they copy over as they are; the
    equations are that module's.
    """

    names: tuple[str, ...] = ()

    def __init__(self, units: int, return_sequences: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = int(units)
        self.return_sequences = bool(return_sequences)

    def get_config(self) -> dict[str, Any]:
        """Return the layer's settings."""
        return {
            **super().get_config(),
            "units": self.units,
            "return_sequences": self.return_sequences,
        }

    def build(self, input_shape: Any) -> None:
        """Make the weights, in torch's shapes."""
        for name, shape in self.shapes(int(input_shape[-1])).items():
            setattr(self, name, self.add_weight(shape=shape, name=name))

    def shapes(self, inputs: int) -> dict[str, tuple[int, ...]]:
        """Return each weight's shape for ``inputs`` input channels."""
        raise NotImplementedError

    def compute_output_spec(self, x: Any) -> Any:
        """Return the output's shape and type without computing it."""
        if self.return_sequences:
            return keras.KerasTensor((x.shape[0], x.shape[1], self.units), x.dtype)
        return keras.KerasTensor((x.shape[0], self.units), dtype=x.dtype)

    def finish(self, outputs: list[Any]) -> Any:
        """Return every step's output, or the last."""
        return ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]


@keras.saving.register_keras_serializable(package="rnncast")
class SLSTM(_XLSTM):
    """The sLSTM (exponential input gate, normaliser and stabiliser states)."""

    def shapes(self, inputs: int) -> dict[str, tuple[int, ...]]:
        """Return each weight's shape for ``inputs`` input channels."""
        gates = 4 * self.units
        return {
            "weight_ih_l0": (gates, inputs),
            "weight_hh_l0": (gates, self.units),
            "bias_ih_l0": (gates,),
            "bias_hh_l0": (gates,),
        }

    def call(self, x: Any) -> Any:
        """Run the sLSTM over windows ``x`` (batch, steps, inputs)."""
        bias = self.bias_ih_l0 + self.bias_hh_l0
        inputs = ops.matmul(x, ops.transpose(self.weight_ih_l0)) + bias
        h = ops.zeros_like(inputs[:, 0, : self.units])
        c, n, m, outputs = h, h, h, []
        for x_t in ops.unstack(inputs, axis=1):  # not inputs[:, t]: see models.xlstm
            pre = x_t + ops.matmul(h, ops.transpose(self.weight_hh_l0))
            z_pre, i_pre, f_pre, o_pre = ops.split(pre, 4, axis=1)
            log_f = ops.log_sigmoid(f_pre)
            m_new = ops.maximum(log_f + m, i_pre)
            i = ops.exp(i_pre - m_new)
            f = ops.exp(log_f + m - m_new)
            c = f * c + i * ops.tanh(z_pre)
            n = f * n + i
            h = ops.sigmoid(o_pre) * c / n
            m = m_new
            outputs.append(h)
        return self.finish(outputs)


@keras.saving.register_keras_serializable(package="rnncast")
class MLSTM(_XLSTM):
    """The mLSTM (a matrix memory read by a query, input-only gates)."""

    def shapes(self, inputs: int) -> dict[str, tuple[int, ...]]:
        """Return each weight's shape for ``inputs`` input channels."""
        rows = 4 * self.units + 2
        return {"weight_ih_l0": (rows, inputs), "bias_ih_l0": (rows,)}

    def call(self, x: Any) -> Any:
        """Run the mLSTM over windows ``x`` (batch, steps, inputs)."""
        units = self.units
        projected = ops.matmul(x, ops.transpose(self.weight_ih_l0)) + self.bias_ih_l0
        q, k, v, o_pre = (
            projected[:, :, j * units : (j + 1) * units] for j in range(4)
        )
        i_pre, f_pre = projected[:, :, 4 * units : 4 * units + 1], projected[:, :, -1:]
        k = k / math.sqrt(units)
        o, log_f = ops.sigmoid(o_pre), ops.log_sigmoid(f_pre)
        n = ops.zeros_like(q[:, 0])
        memory = ops.zeros_like(ops.expand_dims(n, 2) * ops.expand_dims(n, 1))
        m, outputs = ops.zeros_like(i_pre[:, 0]), []
        sequences = (ops.unstack(s, axis=1) for s in (q, k, v, o, i_pre, log_f))
        for q_t, k_t, v_t, o_t, i_pre_t, log_f_t in zip(*sequences, strict=True):
            m_new = ops.maximum(log_f_t + m, i_pre_t)
            i = ops.exp(i_pre_t - m_new)
            f = ops.exp(log_f_t + m - m_new)
            outer = ops.expand_dims(v_t, 2) * ops.expand_dims(k_t, 1)
            memory = ops.expand_dims(f, 2) * memory + ops.expand_dims(i, 2) * outer
            n = f * n + i * k_t
            dot = ops.sum(n * q_t, axis=1, keepdims=True)
            denom = ops.maximum(ops.abs(dot), ops.exp(-m_new))
            read = ops.squeeze(ops.matmul(memory, ops.expand_dims(q_t, 2)), 2)
            outputs.append(o_t * read / denom)
            m = m_new
        return self.finish(outputs)


def _repeated(season: Any, horizon: int) -> Any:
    """Repeat a season (batch, m) over ``horizon`` steps, (batch, horizon)."""
    repeats = -(-horizon // season.shape[1])
    return ops.tile(season, [1, repeats])[:, :horizon]


def _whole_seasons(y: Any, m: int) -> Any:
    """Cut windows ``y`` (batch, L) into their last ``L // m`` seasons, (b, K, m)."""
    whole = (y.shape[1] // m) * m
    return ops.reshape(y[:, y.shape[1] - whole :], (-1, whole // m, m))


def _profile(y: Any, m: int) -> Any:
    """Each window's mean seasonal pattern (window_levels.seasonal_profile)."""
    seasons = _whole_seasons(y, m)
    return ops.mean(seasons - ops.mean(seasons, axis=2, keepdims=True), axis=1)


def _ratios(y: Any, m: int) -> Any:
    """Each window's mean seasonal ratios (window_levels.seasonal_ratios)."""
    seasons = _whole_seasons(y, m)
    return ops.mean(seasons / ops.mean(seasons, axis=2, keepdims=True), axis=1)


def _seasonal_windows(y: Any, m: int) -> Any:
    """Windows the seasonal naive describes better (window_levels.seasonal_windows)."""
    if y.shape[1] <= m:
        return ops.ones_like(y[:, :1]) > 0
    sums = ops.pad(ops.cumsum(y, axis=1), [[0, 0], [1, 0]])
    season_means = (sums[:, m:-1] - sums[:, : -m - 1]) / m
    seasonal_error = ops.mean(ops.abs(y[:, m:] - y[:, :-m]), axis=1)
    level_error = ops.mean(ops.abs(y[:, m:] - season_means), axis=1)
    return ops.expand_dims(seasonal_error < level_error, 1)
