"""A network started from another network's weights computes what it computed."""

import pytest
import torch

from rnncast import ConfigError
from rnncast.models.networks import NetworkConfig, RecurrentNetwork
from rnncast.models.transfer import start_from


def _network(seed, **config):
    torch.manual_seed(seed)
    settings = {"cell": "lstm", "hidden": (6, 4), "horizon": 3, "level": "none"}
    return RecurrentNetwork(NetworkConfig(**{**settings, **config})).double()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "slstm", "mlstm"])
def test_a_one_channel_source_starts_a_wider_network_exactly(cell):
    source = _network(0, cell=cell)
    network = _network(1, cell=cell, input_size=3)
    assert start_from(network, source) == []
    x = torch.randn(5, 10, 3, dtype=torch.float64)  # the extra channels: anything
    with torch.no_grad():
        expected = source(x[:, :, :1])
        got = network(x)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    assert not network.layers[0].weight_ih_l0[:, 1:].any()


def test_the_same_inputs_copy_every_weight_and_a_new_head_starts_fresh():
    source = _network(0, input_size=2)
    network = _network(1, input_size=2)
    assert start_from(network, source) == []
    for mine, theirs in zip(network.parameters(), source.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    longer = _network(2, input_size=2, horizon=5)
    head = longer.head.weight.clone()
    assert start_from(longer, source) == ["head"]
    assert torch.equal(longer.head.weight, head)
    assert torch.equal(longer.layers[1].weight_hh_l0, source.layers[1].weight_hh_l0)


def test_other_layers_or_inputs_are_refused_naming_what_to_set():
    source = _network(0)
    with pytest.raises(ConfigError, match=r"cell='lstm' and hidden=\(6, 4\)"):
        start_from(_network(1, cell="gru"), source)
    with pytest.raises(ConfigError, match=r"cell='lstm' and hidden=\(6, 4\)"):
        start_from(_network(1, hidden=(6,)), source)
    with pytest.raises(ConfigError, match="same inputs"):
        start_from(_network(1, input_size=3), _network(0, input_size=2))
