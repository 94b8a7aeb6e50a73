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


def test_a_missing_or_other_file_is_refused_by_name(tmp_path):
    from rnncast import Forecaster

    with pytest.raises(ConfigError, match=r"nothing\.keras' is not a \.keras file"):
        Forecaster.from_keras(tmp_path / "nothing.keras", horizon=3)
    (tmp_path / "weights.h5").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"weights\.h5. is not a \.keras file"):
        keras_network(tmp_path / "weights.h5")


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


@pytest.mark.parametrize(
    "settings",
    [
        {"output": "recursive", "level": "season"},
        {"output": "recursive", "level": "last", "input_size": 3, "future_size": 1},
        {"hidden": (6, 6, 6), "dilations": (1, 2, 4), "level": "season"},
        {"hidden": (6, 6, 6), "dilations": (1, 3, 1), "residual_groups": (1, 2)},
        {"hidden": (6, 6), "dilations": (1, 2), "output": "recursive", "level": "none"},
    ],
)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "slstm", "mlstm"])
def test_recursive_dilated_and_residual_networks_save_as_keras(
    tmp_path, settings, cell
):
    from rnncast.interop.keras import save_keras
    from rnncast.models.networks import NetworkConfig, RecurrentNetwork

    config = NetworkConfig(
        **{"cell": cell, "hidden": (6, 5), "horizon": 4, "season_length": 4, **settings}
    )
    torch.manual_seed(0)
    network = RecurrentNetwork(config).eval()
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, LOOKBACK - 1, config.input_size)).astype(np.float32)
    inputs = [x]
    if config.future_size:
        inputs.append(rng.normal(size=(6, 4, config.future_size)).astype(np.float32))
    save_keras(network, tmp_path / "n.keras", lookback=LOOKBACK - 1)
    again = keras.saving.load_model(tmp_path / "n.keras")
    with torch.no_grad():
        expected = network(*(torch.as_tensor(v) for v in inputs)).numpy()
    got = np.asarray(again.predict(inputs if len(inputs) > 1 else x, verbose=0))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("level", "channels", "multiplicative"),
    [
        ("last", 1, False),
        ("season", 2, False),  # with an observed-indicator channel
        ("snaive", 1, False),
        ("adaptive", 1, False),
        ("detect", 2, False),  # the last channel: each series' seasonal flag
        ("detect", 2, True),  # and the scaled zero before it
    ],
)
def test_a_window_level_network_saves_as_keras_and_predicts_alike(
    tmp_path, level, channels, multiplicative
):
    from rnncast.interop.keras import save_keras
    from rnncast.models.networks import NetworkConfig, RecurrentNetwork

    config = NetworkConfig(
        cell="lstm",
        hidden=(6, 5),
        horizon=7,  # not a whole number of seasons
        input_size=channels,
        level=level,
        season_length=4 if level != "last" else 1,
        multiplicative=multiplicative,
    )
    torch.manual_seed(0)
    network = RecurrentNetwork(config).eval()
    rng = np.random.default_rng(2)
    season = np.sin(np.arange(LOOKBACK) * np.pi / 2)
    target = rng.normal(3, 1, (8, 1)) + season + rng.normal(0, 0.3, (8, LOOKBACK))
    parts = [target[:, :, None]]
    if multiplicative:  # the scaled zero: above the window for some rows only
        parts.append(np.repeat(rng.choice([-2.0, 5.0], (8, 1, 1)), LOOKBACK, axis=1))
    if channels == 2:  # the last channel: observed indicator or seasonal flag
        parts.append(np.repeat(rng.integers(0, 2, (8, 1, 1)), LOOKBACK, axis=1))
    x = np.concatenate(parts, axis=2).astype(np.float32)
    save_keras(network, tmp_path / "m.keras", lookback=LOOKBACK)
    again = keras.saving.load_model(tmp_path / "m.keras")
    with torch.no_grad():
        expected = network(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(
        np.asarray(again.predict(x, verbose=0)), expected, rtol=1e-5, atol=1e-5
    )


def _saved_keras_predicts_as_the_network(model, path):
    """Save a fitted Forecaster's network as .keras; its outputs must equal it."""
    from rnncast.interop.keras import save_keras

    save_keras(model, path)
    again = keras.saving.load_model(path)
    inputs = model.forecast_inputs().inputs
    with torch.no_grad():
        expected = model.network_(inputs).numpy()
    got = np.asarray(again.predict(inputs.numpy(), verbose=0))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_default_forecaster_saves_as_keras_and_predicts_alike(tmp_path, air):
    from rnncast import Forecaster

    model = Forecaster(horizon=6, hidden=(8,), epochs=2, progress=False).fit(air)
    assert model.network_.config.level == "detect"
    _saved_keras_predicts_as_the_network(model, tmp_path / "default.keras")


@pytest.mark.parametrize("members", [2, 3])  # an even count: the middle two's mean
def test_an_ensemble_saves_as_keras_with_its_members_median(tmp_path, air, members):
    from rnncast import Forecaster

    model = Forecaster(horizon=6, hidden=(8,), epochs=1, ensemble=members)
    model.set_params(progress=False).fit(air)
    _saved_keras_predicts_as_the_network(model, tmp_path / "ensemble.keras")


def test_quantile_heads_and_future_inputs_save_as_keras(tmp_path):
    from rnncast.interop.keras import save_keras
    from rnncast.models.networks import NetworkConfig, RecurrentNetwork

    config = NetworkConfig(
        cell="gru",
        hidden=(6,),
        horizon=5,
        input_size=3,  # the target and two covariates
        future_size=2,
        level="season",
        season_length=4,
        quantiles=(0.1, 0.5, 0.9),
    )
    torch.manual_seed(0)
    network = RecurrentNetwork(config).eval()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, LOOKBACK, 3)).astype(np.float32)
    future = rng.normal(size=(7, 5, 2)).astype(np.float32)
    save_keras(network, tmp_path / "q.keras", lookback=LOOKBACK)
    again = keras.saving.load_model(tmp_path / "q.keras")
    with torch.no_grad():
        expected = network(torch.as_tensor(x), torch.as_tensor(future)).numpy()
    got = np.asarray(again.predict([x, future], verbose=0))
    assert got.shape == (7, 5, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_keras_model_is_fine_tuned_from_its_own_weights(tmp_path, air_panel):
    from tests.forecaster.test_init_weights import BARELY

    from rnncast import Forecaster

    path = tmp_path / "text.keras"
    _stack("LSTM", (8, 4)).save(path)  # LSTM -> LSTM -> Dense(1), as in the text
    keras_net = keras_network(path)
    # masked: an observed-indicator channel the Keras model never read
    tuned = Forecaster.from_keras(
        path, horizon=6, lookback=24, missing="mask", **BARELY
    )
    assert tuned.get_params()["hidden"] == (8, 4)
    assert tuned.get_params()["output"] == "recursive"  # Dense(1): one step fed back
    network = tuned.fit(air_panel).network_
    first, source = network.layers[0].weight_ih_l0, keras_net.layers[0].weight_ih_l0
    assert first.shape[1] == 2
    torch.testing.assert_close(first[:, :1], source, rtol=0, atol=1e-9)
    torch.testing.assert_close(
        first[:, 1:], torch.zeros_like(first[:, 1:]), atol=1e-9, rtol=0
    )
    for mine, theirs in zip(
        [*network.layers[1].parameters(), *network.head.parameters()],
        [*keras_net.layers[1].parameters(), *keras_net.head.parameters()],
        strict=True,
    ):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-9)
    direct = Forecaster.from_keras(path, horizon=6, lookback=24, output="direct")
    with pytest.warns(UserWarning, match="the head\\s+from a random draw"):
        direct.set_params(**BARELY).fit(air_panel)
