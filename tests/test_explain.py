import numpy as np
import pandas as pd
import pytest

from conftest import TINY, with_weight
from rnncast import DataError, Forecaster
from rnncast.datasets import load_air_passengers
from rnncast.explain import (
    gate_activations,
    gradient_decay,
    jacobian_decay,
    vanishing_lag,
)
from rnncast.models.networks import NetworkConfig, RecurrentNetwork
from rnncast.reference import from_torch, layer_forward, sigmoid


@pytest.fixture(scope="module")
def lstm(air=None):

    return Forecaster(
        horizon=6, cell="lstm", lookback=24, **{**TINY, "hidden": (6, 4)}
    ).fit(load_air_passengers())


def test_lstm_gates_are_reported_per_layer(lstm):
    trace = gate_activations(lstm)
    labels = [gate for (layer, gate) in trace.gates if layer == 1]
    assert labels == ["forget f", "input i", "output o", "cell C", "hidden h"]
    assert trace.gates[(1, "forget f")].shape == (24, 6)
    assert trace.gates[(2, "cell C")].shape == (24, 4)
    for (_, gate), values in trace.gates.items():
        if gate.split()[-1] in {"f", "i", "o"}:
            assert values.min() > 0 and values.max() < 1
    assert trace.ds[-1] == pd.Timestamp("1960-12-01") and len(trace.ds) == 24
    np.testing.assert_array_equal(trace.inputs, lstm.context_[0])


def test_gate_trace_forecast_equals_the_network_forecast(lstm):
    trace = gate_activations(lstm)
    state = lstm.fitted_
    try:
        network = with_weight(lstm, 1.0).predict()["yhat"]  # before the mix
    finally:
        lstm.fitted_ = state
    np.testing.assert_allclose(trace.forecast["yhat"], network, rtol=1e-5)
    assert not np.allclose(trace.forecast["yhat"], lstm.predict()["yhat"])


def test_gates_follow_the_lstm_equations(lstm):
    """The reported forget gate is sigma(W_f [h_{t-1}, x_t] + b_f) at every step."""
    trace = gate_activations(lstm)
    layer = from_torch(lstm.network_).layers[0]
    stats = lstm.scaler_
    x = (lstm.context_[0] - stats.loc[0]) / stats.scale[0]
    x = (x - x[-12:].mean())[:, None]  # level="auto": centred on the last season
    flag = np.full_like(x, stats.seasonal[0])  # level="detect": the seasonal flag
    h = trace.gates[(1, "hidden h")]
    previous = np.vstack([np.zeros((1, 6)), h[:-1]])
    expected = sigmoid(np.hstack([previous, x, flag]) @ layer.W["f"].T + layer.b["f"])
    np.testing.assert_allclose(trace.gates[(1, "forget f")], expected, atol=1e-12)


def test_gru_reports_reset_and_update_gates(air):
    model = Forecaster(horizon=3, cell="gru", lookback=12, **TINY).fit(air)
    trace = gate_activations(model, air, end="1955-06-01")
    assert [gate for (_, gate) in trace.gates] == ["reset r", "update z", "hidden h"]
    assert trace.ds[-1] == pd.Timestamp("1955-06-01")
    np.testing.assert_array_equal(
        trace.inputs, air.set_index("ds").loc[:"1955-06-01", "y"].to_numpy()[-12:]
    )
    assert trace.forecast["ds"].iloc[0] == pd.Timestamp("1955-07-01")


def test_gate_errors_name_the_problem(lstm, air):
    with pytest.raises(DataError, match="series 'AAPL' is not in the data"):
        gate_activations(lstm, series="AAPL")
    with pytest.raises(DataError, match="no value at end='2001-01-01'"):
        gate_activations(lstm, air, end="2001-01-01")
    with pytest.raises(DataError, match="has 5 values; the model reads lookback=24"):
        gate_activations(lstm, air, end="1949-05-01")
    with pytest.raises(DataError, match="end= needs the history"):
        gate_activations(lstm, end="1960-01-01")


def test_to_frame_is_long(lstm):
    frame = gate_activations(lstm).to_frame()
    assert list(frame.columns) == ["ds", "layer", "gate", "unit", "value"]
    assert len(frame) == 24 * (5 * 6 + 5 * 4)


def test_jacobian_of_a_linear_recurrence_decays_as_its_weight():
    """For h_t = tanh(w h_{t-1} + u x_t) near 0, dh_T/dh_t ~ w^(T-t)."""
    net = RecurrentNetwork(NetworkConfig(cell="rnn", hidden=(1,), horizon=1))
    layer = from_torch(net).layers[0]
    layer.W["h"][:] = [[0.5, 1e-4]]
    layer.b["h"][:] = 0.0
    decay = jacobian_decay(layer, np.zeros((1, 20)))
    np.testing.assert_allclose(
        decay["hidden_relative"].to_numpy()[1:6], 0.5 ** np.arange(5), rtol=1e-6
    )
    assert vanishing_lag(decay) == 11  # 0.5**10 < 1e-3 <= 0.5**9


def test_gradient_decay_of_a_fitted_model(air):
    model = Forecaster(horizon=3, cell="rnn", lookback=30, **TINY).fit(air)
    decay = gradient_decay(model, air, max_windows=4)
    assert list(decay["lag"]) == list(range(30))
    assert decay.loc[1, "hidden_relative"] == 1.0
    assert decay["hidden"].iloc[-1] < decay["hidden"].iloc[1]
    # The hidden Jacobian at lag 0 is the identity: norm sqrt(units).
    assert decay.loc[0, "hidden"] == pytest.approx(np.sqrt(8))


def test_layer_forward_state_continues_a_sequence(air):
    net = RecurrentNetwork(NetworkConfig(cell="lstm", hidden=(3,), horizon=1))
    layer = from_torch(net).layers[0]
    x = np.random.default_rng(0).normal(size=(2, 10, 1))
    whole, _ = layer_forward(layer, x)
    first, cache = layer_forward(layer, x[:, :6])
    rest, _ = layer_forward(layer, x[:, 6:], cache.states)
    np.testing.assert_allclose(np.concatenate([first, rest], axis=1), whole, atol=1e-15)
