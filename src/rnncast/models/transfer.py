r"""Start a network from another network's weights (fine-tuning, transfer).

:func:`start_from` copies the recurrent layers (and the head, where it has the
same shape) of a trained network into a new one of the same cell and widths,
before rnncast trains it on its own scaled windows. The new network may read
more input channels than the source (an observed indicator, a seasonal flag,
covariates): when the source reads the target alone, its input weights go to
the target channel and the other channels' weights start at zero, so the
layers first compute exactly what the source computed on the target,

.. math::
    W^{\text{new}}_{ih} = [\,W^{\text{src}}_{ih} \;\; 0\,],

and training then learns what the other channels add.
"""

from __future__ import annotations

import torch
from torch import nn

from rnncast.exceptions import ConfigError
from rnncast.models.networks import RecurrentNetwork

__all__ = ["start_from"]

_INPUT_WEIGHT = "weight_ih_l0"  # every cell's input weights: (gates x units, inputs)


def start_from(network: RecurrentNetwork, source: RecurrentNetwork) -> list[str]:
    """Copy ``source``'s weights into ``network``; return the parts left fresh.

    The recurrent layers must match (cell and widths); the input weights are
    copied as they are when both read the same channels, or into the target
    channel's column (the others zero) when ``source`` reads one channel. The
    head is copied when its shape matches (same horizon or both one step,
    same quantiles and future-known inputs), else it keeps its initial values
    and ``["head"]`` is returned. Raises ConfigError naming what differs.
    """
    mine, theirs = network.config, source.config
    if (mine.cell, mine.hidden) != (theirs.cell, theirs.hidden):
        raise ConfigError(
            f"init_weights holds {theirs.cell} layers of widths {theirs.hidden}, but "
            f"this forecaster trains {mine.cell} layers of widths {mine.hidden}: set "
            f"cell={theirs.cell!r} and hidden={theirs.hidden!r} (Forecaster.from_keras "
            "reads them from a .keras file)."
        )
    if theirs.input_size not in (1, mine.input_size):
        raise ConfigError(
            f"init_weights reads {theirs.input_size} input channels and this "
            f"forecaster's network {mine.input_size}; only a network of the same "
            "inputs, or of the target alone, can start it (do both fits mask gaps "
            "and short series, missing=, and read the same seasons and covariates?)."
        )
    with torch.no_grad():
        for layer, old in zip(network.layers, source.layers, strict=True):
            _copy_layer(layer, old)
        if network.head.weight.shape != source.head.weight.shape:
            return ["head"]
        network.head.load_state_dict(source.head.state_dict())
    return []


def _copy_layer(layer: nn.Module, old: nn.Module) -> None:
    """Copy one recurrent layer; a one-channel source fills the target's column."""
    weights = dict(old.named_parameters())
    for name, param in layer.named_parameters():
        value = weights[name].to(param.device, param.dtype)
        if value.shape == param.shape:
            param.copy_(value)
        elif name == _INPUT_WEIGHT and value.shape[1] == 1:
            param.zero_()
            param[:, :1] = value
        else:
            raise ConfigError(
                f"init_weights' {name} has shape {tuple(value.shape)}; this "
                f"network's has {tuple(param.shape)}."
            )
