r"""Keras 3 recurrent models as rnncast networks (extra ``rnncast[keras]``).

:func:`keras_network` reads a Keras model made of stacked ``SimpleRNN``,
``LSTM`` or ``GRU`` layers (one kind, any widths, every layer but the last
returning sequences) and a linear ``Dense`` head, as in
``Sequential([LSTM(128, return_sequences=True), LSTM(64), Dense(1)])``, and
returns the :class:`~rnncast.models.networks.RecurrentNetwork` that computes the
same function: ``level="none"`` (the inputs as they are, no window start), the
Dense units as the horizon, the input features as the input channels. The model
sees whatever scaling and windows the user trained it on; rnncast does not add
its own. :func:`keras_params` gives the Forecaster parameters that fine-tune it
(``Forecaster.from_keras``); :func:`save_keras` writes any rnncast network back
as a ``.keras`` file.

How the weights map (docs/math.md writes the cells' equations; Keras stores
``kernel`` (inputs, gates x units), ``recurrent_kernel`` (units, gates x units)
and ``bias``; torch stores ``weight_ih`` (gates x units, inputs), ``weight_hh``
and two biases ``bias_ih``, ``bias_hh``):

* **SimpleRNN**: :math:`h_t = \tanh(W x_t + U h_{t-1} + b)`;
  ``weight_ih = kernel^T``, ``weight_hh = recurrent_kernel^T``, ``bias_ih = b``,
  ``bias_hh = 0``.
* **LSTM**: both order the gates input, forget, cell candidate, output
  (:math:`i, f, g, o`), so the blocks keep their places: the transposes as above,
  Keras's one bias as ``bias_ih`` and ``bias_hh = 0``. Keras 3's defaults
  (``activation="tanh"``, ``recurrent_activation="sigmoid"``) are the only ones
  torch's LSTM computes.
* **GRU**: Keras orders the gates update, reset, candidate (:math:`z, r, h`),
  torch reset, update, candidate (:math:`r, z, n`): the blocks are reordered.
  With ``reset_after=True`` (Keras's default) both compute
  :math:`n = \tanh(W_n x + b_{in} + r \odot (U_n h + b_{hn}))` with two biases:
  Keras's ``bias`` row 0 is ``bias_ih``, row 1 ``bias_hh``. ``reset_after=False``
  (:math:`r` applied to :math:`h` before :math:`U_n`) is another cell, which
  torch does not have: refused.
* **Dense**: ``head.weight = kernel^T``, ``head.bias = bias``; it reads the last
  layer's final state, as the direct head does.

``tests/interop/test_keras.py`` checks the outputs against Keras's (PyTorch
backend) to 1e-5 for each cell, the stack above included.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnncast.exceptions import ConfigError
from rnncast.io import atomic_path
from rnncast.models.networks import EnsembleNetwork, NetworkConfig, RecurrentNetwork

__all__ = ["KERAS_CELLS", "keras_network", "keras_params", "save_keras"]

with contextlib.suppress(ImportError):  # without Keras, _keras() says what to install
    import rnncast.interop.keras_layers  # noqa: F401  (registers the WindowLevel layer)

KERAS_CELLS = {"SimpleRNN": "rnn", "LSTM": "lstm", "GRU": "gru"}
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def keras_network(source: Any) -> RecurrentNetwork:
    """Return the rnncast network equal to a Keras model (a ``.keras`` path or model).

    Raises ConfigError naming the layer or setting that has no rnncast equal.
    """
    model = _load(source) if isinstance(source, str | Path) else source
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if len(layers) < 2 or type(layers[-1]).__name__ != "Dense":
        raise ConfigError(
            "a Keras model for rnncast is recurrent layers and a Dense head; got "
            f"{[type(layer).__name__ for layer in layers]}."
        )
    recurrent, dense = layers[:-1], layers[-1]
    kinds = {type(layer).__name__ for layer in recurrent}
    if len(kinds) != 1 or not kinds <= set(KERAS_CELLS):
        raise ConfigError(
            "the recurrent layers must be of one kind among "
            f"{sorted(KERAS_CELLS)}; got {sorted(kinds)}."
        )
    cell = KERAS_CELLS[kinds.pop()]
    for k, layer in enumerate(recurrent):
        _check_layer(layer, last=k == len(recurrent) - 1, cell=cell)
    if dense.get_config().get("activation") != "linear":
        raise ConfigError(f"the Dense head {dense.name!r} must be linear.")
    config = NetworkConfig(
        cell=cell,  # type: ignore[arg-type]
        hidden=tuple(int(layer.units) for layer in recurrent),
        horizon=int(dense.units),
        input_size=int(model.inputs[0].shape[-1]),
        level="none",
        output="direct",
    )
    network = RecurrentNetwork(config)
    with torch.no_grad():
        for torch_layer, layer in zip(network.layers, recurrent, strict=True):
            _copy_cell(torch_layer, _weights(layer), cell)
        kernel, bias = _weights(dense)
        network.head.weight.copy_(torch.as_tensor(kernel.T))
        network.head.bias.copy_(torch.as_tensor(bias))
    return network.eval()


def keras_params(path: str | Path) -> dict[str, Any]:
    """Return the Forecaster parameters that fine-tune the Keras model at ``path``.

    ``cell`` and ``hidden`` from its recurrent layers, ``init_weights`` the path,
    and the head: a ``Dense(1)`` forecasts one step, so ``output="recursive"``
    (each forecast fed back, as the text's model is used for several steps); a
    ``Dense(h)`` with ``h > 1`` is the direct head of ``horizon=h``.
    """
    config = keras_network(path).config
    params: dict[str, Any] = {
        "cell": config.cell,
        "hidden": config.hidden,
        "init_weights": str(path),
    }
    if config.horizon == 1:
        return {**params, "output": "recursive"}
    return {**params, "output": "direct", "horizon": config.horizon}


def save_keras(source: Any, path: str | Path, lookback: int | None = None) -> Path:
    """Write a network as a ``.keras`` file that Keras loads and predicts alike.

    ``source``: a fitted :class:`~rnncast.Forecaster` (its network and lookback)
    or a network. The inverse of :func:`keras_network` for plain stacks
    (``level="none"``). rnncast's own parts are the layers of
    :mod:`rnncast.interop.keras_layers`, so Keras loads such a file once
    :mod:`rnncast.interop.keras` is imported: the window level (the defaults'
    start), an ensemble's members reading their last steps and their median.
    Dilated layers, residual groups and the recursive head (each forecast fed
    back, the window run again) are rnncast layers too. Quantile heads give
    ``(batch, horizon, quantiles)``; future-known covariates are a second input
    ``(batch, horizon, future_size)``. The xLSTM cells are rnncast layers
    (``rnncast>SLSTM``, ``rnncast>MLSTM``). The input window is ``lookback``
    long (any length when None).
    """
    members, lookbacks, lookback = _members(source, lookback)
    config = members[0].config
    keras = _keras()
    from rnncast.interop.keras_layers import LastSteps, Median

    inputs = [keras.Input((lookback, config.input_size + config.multiplicative))]
    if config.future_size:
        inputs.append(keras.Input((config.horizon, config.future_size)))
    outputs = []
    for network, steps in zip(members, lookbacks, strict=True):
        window = inputs[0] if steps is None else LastSteps(steps)(inputs[0])
        outputs.append(_member_graph(keras, network, window, inputs[1:]))
    model = keras.Model(
        inputs if config.future_size else inputs[0],
        outputs[0] if len(outputs) == 1 else Median()(outputs),
    )
    target = Path(path)
    with atomic_path(target) as tmp:
        model.save(tmp)
    return target


def _members(
    source: Any, lookback: int | None
) -> tuple[list[RecurrentNetwork], list[int | None], int | None]:
    """Return the networks of a Forecaster or network, their lookbacks, the window."""
    if hasattr(source, "fitted_state"):
        state = source.fitted_state("save_keras()")
        source, lookback = state.network, lookback or state.series.context.shape[1]
    if isinstance(source, EnsembleNetwork):
        members = [m.cpu() for m in source.members]
        return members, list(source.lookbacks), lookback or max(source.lookbacks)  # type: ignore[return-value]
    if not isinstance(source, RecurrentNetwork):
        raise ConfigError(
            f"save_keras writes an rnncast network; got {type(source).__name__}."
        )
    return [source.cpu()], [None], lookback


def _member_graph(
    keras: Any, network: RecurrentNetwork, window: Any, future: list[Any]
) -> Any:
    """Return one network's output on Keras tensors; its weights copied in."""
    from rnncast.interop.keras_layers import FedBack, Step, WindowLevel

    config = network.config
    settings = {
        "level": config.level,
        "season_length": config.season_length,
        "horizon": config.horizon,
        "multiplicative": config.multiplicative,
    }
    plain = config.level == "none" and not config.multiplicative
    x = window if plain else WindowLevel(**settings, part="centred")(window)
    recurrent = _keras_layers(keras, config)
    head = keras.layers.Dense(network.head.out_features)
    if config.output == "direct":  # [h_T, f_{T+1}, ..., f_{T+H}]
        hidden = _top(keras, recurrent, x, config)
        if future:
            hidden = keras.layers.Concatenate()(
                [hidden, keras.layers.Flatten()(future[0])]
            )
        out = head(hidden)
    else:  # each step from [h, f_step]; fed back with its f; the window run again
        steps = []
        for k in range(config.horizon):
            hidden = _top(keras, recurrent, x, config)
            known = [Step(k)(future[0])] if future else []
            step = head(
                keras.layers.Concatenate()([hidden, *known]) if known else hidden
            )
            steps.append(step)
            if k < config.horizon - 1:
                x = FedBack(config.input_size)([x, step, *known])
        out = steps[0] if len(steps) == 1 else keras.layers.Concatenate()(steps)
    for layer, torch_layer in zip(recurrent, network.layers, strict=True):
        if config.cell in KERAS_CELLS.values():
            layer.set_weights(_keras_cell(torch_layer, config.cell))
        else:  # rnncast's xLSTM layers keep torch's layout
            layer.set_weights([p.detach().numpy() for p in torch_layer.parameters()])
    head.set_weights(
        [network.head.weight.detach().numpy().T, network.head.bias.detach().numpy()]
    )
    quantiles = len(config.quantiles)
    if quantiles:
        out = keras.layers.Reshape((config.horizon, quantiles))(out)
    if plain:
        return out
    start = WindowLevel(**settings, part="start", quantiles=quantiles)(window)
    return keras.layers.Add()([out, start])


def _top(keras: Any, recurrent: list[Any], x: Any, config: NetworkConfig) -> Any:
    """Return the top layer's last state (batch, H) of windows ``x``.

    Residual groups add their input to their output; a dilated layer runs its
    chains as a batch (:class:`~rnncast.interop.keras_layers.Chains`).
    """
    from rnncast.interop.keras_layers import Chains, Step, Unchains

    dilations = config.layer_dilations
    for first, stop in config.layer_groups:
        group_input = x
        for k in range(first, stop):
            if dilations[k] > 1:
                chained = recurrent[k](Chains(dilations[k])(x))
                x = Unchains(dilations[k])([chained, x])
            else:
                x = recurrent[k](x)
        if first > 0:
            x = keras.layers.Add()([x, group_input])
    return Step(-1)(x) if config.dilated or config.residual_groups else x


def _keras_layers(keras: Any, config: NetworkConfig) -> list[Any]:
    """Return the Keras layers of ``config``.

    The last returns only its final state, as in a plain Keras stack, unless
    it is dilated or ends a residual group (which need its whole sequence).
    """
    from rnncast.interop import keras_layers

    kinds = {v: getattr(keras.layers, k) for k, v in KERAS_CELLS.items()}
    kinds |= {"slstm": keras_layers.SLSTM, "mlstm": keras_layers.MLSTM}
    options = {"reset_after": True} if config.cell == "gru" else {}
    whole = config.dilated or bool(config.residual_groups)
    return [
        kinds[config.cell](
            units, return_sequences=whole or k < len(config.hidden) - 1, **options
        )
        for k, units in enumerate(config.hidden)
    ]


def _keras_cell(torch_layer: torch.nn.Module, cell: str) -> list[Any]:
    """Return Keras's ``kernel, recurrent_kernel, bias`` of one torch layer."""
    weight = {
        name: getattr(torch_layer, name).detach().numpy()
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    }
    units = weight["weight_hh_l0"].shape[1]
    order = np.arange(_GATES[cell] * units)
    if cell == "gru":  # torch r, z, n -> Keras z, r, h (the same swap)
        order = _gru_order(units)
    kernel = weight["weight_ih_l0"][order].T
    recurrent = weight["weight_hh_l0"][order].T
    if cell == "gru":
        bias = np.stack([weight["bias_ih_l0"][order], weight["bias_hh_l0"][order]])
    else:  # one bias in Keras: torch's two add up
        bias = weight["bias_ih_l0"] + weight["bias_hh_l0"]
    return [kernel, recurrent, bias]


def _gru_order(units: int) -> Any:
    """Swap the first two gate blocks (Keras z, r, h <-> torch r, z, n)."""
    return np.concatenate(
        [np.arange(units, 2 * units), np.arange(units), np.arange(2 * units, 3 * units)]
    )


def _keras() -> Any:
    try:
        import keras
    except ImportError as e:
        raise ConfigError(
            "reading and writing Keras models needs Keras 3: pip install "
            "'rnncast[keras]' (with KERAS_BACKEND=torch, TensorFlow is not needed)."
        ) from e
    return keras


def _load(path: str | Path) -> Any:
    if not Path(path).is_file() or Path(path).suffix != ".keras":
        raise ConfigError(
            f"{str(path)!r} is not a .keras file; give the file a Keras 3 model was "
            "saved to (model.save('model.keras'))."
        )
    return _keras().saving.load_model(str(path), compile=False)


def _weights(layer: Any) -> list[Any]:
    """Return a layer's weights as NumPy arrays, in Keras's order."""
    with warnings.catch_warnings():  # Keras 3.15's variables predate NumPy 2's copy=
        warnings.simplefilter("ignore", DeprecationWarning)
        return [np.array(v.numpy(), dtype=np.float32) for v in layer.weights]


def _check_layer(layer: Any, *, last: bool, cell: str) -> None:
    """ConfigError unless ``layer`` computes what the torch layer computes."""
    settings = layer.get_config()
    expected = {
        "return_sequences": not last,
        "go_backwards": False,
        "stateful": False,
        "use_bias": True,
        "activation": "tanh",
    }
    if cell != "rnn":
        expected["recurrent_activation"] = "sigmoid"
    if cell == "gru":
        expected["reset_after"] = True
    wrong = {k: settings.get(k) for k, v in expected.items() if settings.get(k) != v}
    if wrong:
        raise ConfigError(
            f"Keras layer {layer.name!r} has {wrong}; rnncast's {cell} layers need "
            f"{ {k: expected[k] for k in wrong} } (the last layer returns its final "
            "state only)."
        )


def _copy_cell(torch_layer: torch.nn.Module, weights: list[Any], cell: str) -> None:
    """Copy one Keras layer's ``kernel, recurrent_kernel, bias`` into torch's."""
    kernel, recurrent, bias = (np.asarray(w, dtype=np.float32) for w in weights)
    units = recurrent.shape[0]
    input_bias, recurrent_bias = (
        (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
    )
    order = np.arange(_GATES[cell] * units)
    if cell == "gru":  # Keras z, r, h -> torch r, z, n
        order = _gru_order(units)
    for name, value in (
        ("weight_ih_l0", kernel[:, order].T),
        ("weight_hh_l0", recurrent[:, order].T),
        ("bias_ih_l0", input_bias[order]),
        ("bias_hh_l0", recurrent_bias[order]),
    ):
        getattr(torch_layer, name).copy_(torch.as_tensor(np.ascontiguousarray(value)))
