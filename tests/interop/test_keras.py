"""Keras models read as rnncast networks: the same outputs as Keras (1e-5).

Keras 3 runs on its PyTorch backend here, so TensorFlow is not needed.
"""

import os

import numpy as np
import pytest
import torch

from rnncast import ConfigError
from rnncast.interop.keras import keras_network

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="pip install 'rnncast[keras]'")
if keras.backend.backend() != "torch":
    pytest.skip("Keras runs on another backend here", allow_module_level=True)

LOOKBACK = 24
# Keras 3.15's variables predate NumPy 2's __array__(copy=): its own calls warn
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)


def _stack(kind, widths, horizon=1, **options):
    layer = getattr(keras.layers, kind)
    keras.utils.set_random_seed(0)
    layers = [keras.Input((LOOKBACK, 1))]
    layers += [
        layer(w, return_sequences=k < len(widths) - 1, **options)
        for k, w in enumerate(widths)
    ]
    return keras.Sequential([*layers, keras.layers.Dense(horizon)])


def _inputs(batch=5):
    rng = np.random.default_rng(1)
    return rng.normal(size=(batch, LOOKBACK, 1)).astype(np.float32)


@pytest.mark.parametrize(
    ("kind", "widths", "horizon"),
    [
        ("LSTM", (128, 64), 1),  # the stack of the text rnncast grew from
        ("GRU", (16, 8), 6),
        ("SimpleRNN", (12,), 3),
    ],
)
def test_a_keras_model_and_its_rnncast_network_agree(tmp_path, kind, widths, horizon):
    model = _stack(kind, widths, horizon)
    for layer in model.layers:  # biases away from Keras's zeros and ones
        weights = [v.numpy() for v in layer.weights]
        layer.set_weights(
            [w + 0.05 * np.arange(w.size).reshape(w.shape) % 0.3 for w in weights]
        )
    path = tmp_path / "model.keras"
    model.save(path)
    network = keras_network(path)
    x = _inputs()
    expected = np.asarray(model.predict(x, verbose=0))
    with torch.no_grad():
        got = network(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert network.config.hidden == widths and network.config.horizon == horizon


def test_what_rnncast_cells_do_not_compute_is_refused():
    with pytest.raises(ConfigError, match="reset_after"):
        keras_network(_stack("GRU", (4,), reset_after=False))
    with pytest.raises(ConfigError, match="one kind"):
        keras.utils.set_random_seed(0)
        mixed = keras.Sequential(
            [
                keras.Input((LOOKBACK, 1)),
                keras.layers.LSTM(4, return_sequences=True),
                keras.layers.GRU(4),
                keras.layers.Dense(1),
            ]
        )
        keras_network(mixed)
    with pytest.raises(ConfigError, match="recurrent_activation"):
        keras_network(_stack("LSTM", (4,), recurrent_activation="hard_sigmoid"))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_keras_to_rnncast_to_keras_predicts_the_same(tmp_path, kind):
    from rnncast.interop.keras import save_keras

    model = _stack(kind, (8, 4), horizon=3)
    model.save(tmp_path / "in.keras")
    network = keras_network(tmp_path / "in.keras")
    save_keras(network, tmp_path / "out.keras")
    again = keras.saving.load_model(tmp_path / "out.keras")
    x = _inputs()
    np.testing.assert_allclose(
        np.asarray(again.predict(x, verbose=0)),
        np.asarray(model.predict(x, verbose=0)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_networks_keras_layers_do_not_compute_are_refused(tmp_path):
    from rnncast.interop.keras import save_keras
    from rnncast.models.networks import NetworkConfig, RecurrentNetwork

    network = RecurrentNetwork(NetworkConfig(hidden=(4,), horizon=2, level="last"))
    with pytest.raises(ConfigError, match="level"):
        save_keras(network, tmp_path / "x.keras")
    assert not (tmp_path / "x.keras").exists()
