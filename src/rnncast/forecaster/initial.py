"""The weights a fit's networks start from (``init_weights``).

``init_weights`` names a Keras 3 ``.keras`` file of recurrent layers and a
Dense head (read by :func:`rnncast.interop.keras.keras_network`) or a saved
rnncast model folder; every ensemble member starts from its weights
(:func:`rnncast.models.transfer.start_from`) instead of a random draw, then
trains on rnncast's own scaled windows as usual: fine-tuning. Member ``k`` of
an ensemble starts from member ``k`` of a saved ensemble (cycling through them
when there are fewer).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

from rnncast.exceptions import ConfigError
from rnncast.forecaster.files import load_model
from rnncast.models.networks import EnsembleNetwork, RecurrentNetwork
from rnncast.models.transfer import start_from

__all__ = ["initial_networks", "start_member"]


def initial_networks(path: str) -> list[RecurrentNetwork]:
    """Return the networks at ``path``: a ``.keras`` file's, or a model folder's.

    Read once per version of the file (a fit's naive check trains a second set
    of members from the same source); the networks are only read from.
    """
    source = Path(path)
    stamp = source.stat().st_mtime_ns if source.exists() else None
    return _read(str(source), stamp)


@functools.lru_cache(maxsize=2)
def _read(path: str, stamp: int | None) -> list[RecurrentNetwork]:
    """Read the networks at ``path`` (``stamp``: its modification time)."""
    source = Path(path)
    if source.is_dir():
        network = load_model(source, "cpu")[1].network
        if isinstance(network, EnsembleNetwork):
            return list(network.members)  # type: ignore[arg-type]
        return [network]
    if source.suffix == ".keras" and source.is_file():
        from rnncast.interop.keras import keras_network

        return [keras_network(source)]
    found = "is not there" if not source.exists() else "is neither"
    raise ConfigError(
        f"init_weights={path!r} {found} a .keras file nor an rnncast model folder "
        "(made by Forecaster.save or rnncast forecast --save-model)."
    )


def start_member(
    network: RecurrentNetwork, sources: list[RecurrentNetwork], k: int
) -> None:
    """Start member ``k`` from ``sources``; warn when its head starts fresh."""
    source = sources[k % len(sources)]
    if start_from(network, source) and k == 0:
        theirs, mine = source.config, network.config
        warnings.warn(
            f"init_weights' head gives {source.head.out_features} value(s) per "
            f"forecast ({theirs.output}, horizon {theirs.horizon}); this forecaster's "
            f"gives {network.head.out_features} ({mine.output}, horizon "
            f"{mine.horizon}): the recurrent layers start from init_weights, the head "
            "from a random draw. Match output= and horizon= to keep the head too "
            "(Forecaster.from_keras does).",
            UserWarning,
            stacklevel=2,
        )
