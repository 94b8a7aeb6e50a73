import pytest
import torch

from rnncast.exceptions import ConfigError
from rnncast.models.networks import NetworkConfig, RecurrentNetwork


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("output", ["direct", "recursive"])
def test_output_shape(cell, output):
    net = RecurrentNetwork(
        NetworkConfig(cell=cell, hidden=(6, 4), horizon=5, output=output)
    )
    assert net(torch.randn(3, 10, 1)).shape == (3, 5)


def test_each_layer_has_its_own_width():
    net = RecurrentNetwork(NetworkConfig(cell="lstm", hidden=(128, 64), horizon=12))
    assert [layer.hidden_size for layer in net.layers] == [128, 64]
    assert [layer.input_size for layer in net.layers] == [1, 128]
    assert isinstance(net.layers[0], torch.nn.LSTM)
    assert net.head.in_features == 64 and net.head.out_features == 12


def test_level_last_makes_the_forecast_shift_with_the_input():
    torch.manual_seed(0)
    net = RecurrentNetwork(NetworkConfig(hidden=(4,), horizon=3, level="last")).eval()
    x = torch.randn(2, 8, 1)
    shifted = net(x + 10.0)
    torch.testing.assert_close(shifted, net(x) + 10.0)


def test_recursive_output_feeds_back_forecasts():
    torch.manual_seed(0)
    net = RecurrentNetwork(
        NetworkConfig(
            cell="gru", hidden=(4,), horizon=3, output="recursive", level="none"
        )
    ).eval()
    x = torch.randn(1, 6, 1)
    full = net(x)
    # Step 2 equals step 1 of a forecast from x extended by its own first forecast.
    extended = torch.cat([x, full[:, :1, None]], dim=1)
    one_step = RecurrentNetwork(net.config)
    one_step.load_state_dict(net.state_dict())
    torch.testing.assert_close(one_step.eval()(extended)[:, 0], full[:, 1])


def test_dropout_acts_between_layers_only_in_training():
    torch.manual_seed(0)
    net = RecurrentNetwork(NetworkConfig(hidden=(16, 16), horizon=2, dropout=0.5))
    x = torch.randn(4, 5, 1)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    net.train()
    assert not torch.equal(net(x), net(x))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": "transformer"}, "unknown cell 'transformer'"),
        ({"hidden": ()}, "hidden must list one positive width"),
        ({"hidden": (8, 0)}, "hidden must list one positive width"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"output": "seq2seq"}, "unknown output"),
        ({"horizon": 0}, "horizon must be a positive integer"),
    ],
    ids=["cell", "no-layers", "zero-width", "dropout", "output", "horizon"],
)
def test_bad_configs(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        NetworkConfig(**kwargs)
