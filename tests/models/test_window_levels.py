"""The window levels: each the torch twin of the NumPy reference's start."""

import numpy as np
import pytest
import torch

from rnncast import ConfigError
from rnncast.models.window_levels import SEASONAL_LEVELS, SNAIVE_LEVELS, window_level
from rnncast.options import WINDOW_LEVELS
from rnncast.reference import centre


def _windows(multiplicative: bool, seed: int = 0) -> np.ndarray:
    """Windows (8, 30, c): values, then a scaled zero and a seasonal flag."""
    rng = np.random.default_rng(seed)
    values = 5 + np.sin(np.arange(30) * 2 * np.pi / 6)[None] + rng.normal(size=(8, 30))
    flags = np.repeat(rng.integers(0, 2, size=(8, 1)), 30, axis=1)
    channels = [values]
    if multiplicative:
        zero = np.where(np.arange(8) % 3 == 0, 6.0, -1.0)  # some windows cross it
        channels.append(np.repeat(zero[:, None], 30, axis=1))
    channels.append(flags)
    return np.stack(channels, axis=2)


# every level, and detect's multiplicative patterns (the only level reading a zero)
CASES = [(name, False) for name in WINDOW_LEVELS] + [("detect", True)]


@pytest.mark.parametrize(
    ("name", "multiplicative"), CASES, ids=[*WINDOW_LEVELS, "detect-ratios"]
)
def test_each_level_and_start_equal_the_reference(name, multiplicative):
    x = _windows(multiplicative)
    m, horizon = 6, 8
    centred, expected = centre(x, name, m, horizon, multiplicative=multiplicative)
    level = window_level(name)
    inputs = torch.as_tensor(x)
    zero = inputs[:, -1:, -2] if multiplicative else None
    if multiplicative:  # the network drops the zero before its layers
        inputs = torch.cat([inputs[:, :, :-2], inputs[:, :, -1:]], dim=-1)
    at = level.of(inputs, m)
    start = level.start(inputs, at, m, horizon, zero)
    np.testing.assert_allclose(start.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        (inputs[:, :, :1] - at).numpy()[:, :, 0], centred[:, :, 0], atol=1e-12
    )


def test_every_level_has_a_class_and_unknown_ones_are_refused():
    assert [window_level(name).name for name in WINDOW_LEVELS] == list(WINDOW_LEVELS)
    assert set(SNAIVE_LEVELS) == {"snaive", "adaptive", "detect"}
    assert set(SEASONAL_LEVELS) == {"season", "snaive", "adaptive", "detect"}
    with pytest.raises(ConfigError, match="unknown window_level 'median'"):
        window_level("median")
