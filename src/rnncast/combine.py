r"""The mix of the network's forecast with a classical one (``combine=``).

As the hybrid that won M4, the forecast is

.. math::
    \hat y = w\, \hat y_{net} + (1 - w)\, \hat y_{classical},

in scaled units, with :math:`\hat y_{classical}` a classical method on each series'
whole history (:mod:`rnncast.classical`), whose errors differ from those of a
network that sees one window. The network's weight :math:`w` is chosen on the
validation windows (:func:`combination_weight`).

:func:`mixer` picks the strategy once from ``combine``: :class:`ClassicalMix`, or
:class:`NetworkAlone` for ``"none"``. Fitting either gives a :class:`FittedMix`,
which mixes forecasts at predict time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rnncast.classical import classical_forecasts
from rnncast.collective import SINGLE_PROCESS, Collective

__all__ = [
    "EQUAL_WEIGHT",
    "NETWORK_WEIGHTS",
    "PRIOR_WINDOWS",
    "ClassicalMix",
    "FittedMix",
    "NetworkAlone",
    "best_weight",
    "combination_weight",
    "mixed_forecast",
    "mixer",
]

Array = NDArray[np.float64]

EQUAL_WEIGHT = 0.5  # the network's weight when there is no validation to choose it
# independent validation windows' worth of belief in equal weights (combination_weight)
PRIOR_WINDOWS = 3.0
# the network's weights tried, largest first so that ties keep more of the network
NETWORK_WEIGHTS = tuple(float(round(w, 1)) for w in np.linspace(1.0, 0.0, 11))


def combination_weight(
    network: Array,
    classical: Array,
    targets: Array,
    independent: float = math.inf,
    collective: Collective = SINGLE_PROCESS,
) -> tuple[float, dict[float, float] | None]:
    r"""Return the network's weight :math:`w` in the mix, chosen on validation windows.

    For each :math:`w` of 1, 0.9, ..., 0 the mean over the observed (not NaN)
    ``targets`` of :math:`|y - (w \hat y_{net} + (1 - w) \hat y_{classical})|`;
    all three arrays (n_windows, horizon) in the same (scaled) units. The weight
    of the lowest error, :math:`\hat w` (:func:`best_weight`), is pulled towards
    equal weights as far as the validation is thin: with :math:`n` independent
    validation windows (``independent``; windows of one series that overlap
    count as the horizons they span),

    .. math::
        w = \tfrac12 + \left(\hat w - \tfrac12\right) \frac{n}{n + n_0},
        \qquad n_0 = 3 \text{ (PRIOR\_WINDOWS)},

    so hundreds of series keep :math:`\hat w` and one series' last weeks do not
    decide the mix alone (equal weights are the robust default of forecast
    combination; :math:`n_0` was chosen over 0, 3, 10, 30 and :math:`\infty` on
    models of one and of ten series of the development sets, docs/accuracy.md).
    Returns :math:`w` and every grid weight's error; without any observed target
    (all gaps), 0.5 and None. Classical forecasts that are not finite count as
    the network's. ``collective``: the arrays are one process's windows of a
    data-parallel fit (errors summed over processes; ``independent`` their total).
    """
    observed = ~np.isnan(targets)
    sums = [
        np.abs(targets - mixed_forecast(network, classical, w))[observed].sum()
        for w in NETWORK_WEIGHTS
    ]
    *sums, count = collective.sum([*sums, observed.sum()])
    if count == 0:
        return EQUAL_WEIGHT, None
    errors = {w: float(s / count) for w, s in zip(NETWORK_WEIGHTS, sums, strict=True)}
    pull = (
        1.0 if math.isinf(independent) else independent / (independent + PRIOR_WINDOWS)
    )
    weight = EQUAL_WEIGHT + (best_weight(errors) - EQUAL_WEIGHT) * pull
    return float(round(weight, 3)), errors


def mixed_forecast(network: Array, classical: Array, weight: float) -> Array:
    r"""Return :math:`w \hat y_{net} + (1 - w) \hat y_{classical}`, elementwise.

    Where a classical forecast is not finite (e.g. below a log transform's
    range once scaled) the network's stands alone.
    """
    classical = np.where(np.isfinite(classical), classical, network)
    return weight * network + (1.0 - weight) * classical


def best_weight(errors: dict[float, float]) -> float:
    """Return the weight of the lowest validation error; of ties, the largest."""
    return min(errors, key=lambda w: (errors[w], -w))


@dataclass(frozen=True)
class FittedMix:
    r"""A fitted mix: the classical method, the network's weight, its evidence.

    Attributes
    ----------
    method : str or None
        The classical method mixed in (``"theta"``, ``"theta+damped"``); None
        for the network alone.
    weight : float or None
        The network's weight :math:`w` (None for the network alone).
    scores : dict or None
        The validation MAE of every grid weight :math:`\hat w`, ``{w: error}``;
        None without validation.
    """

    method: str | None = None
    weight: float | None = None
    scores: dict[float, float] | None = None

    def apply(
        self, z: Array, classical: Array | None, median: int | None = None
    ) -> Array:
        r"""Return the mixed forecast :math:`w z + (1 - w)\,c` (scaled units).

        ``z`` unchanged for the network alone (or ``classical`` None); where a
        classical forecast :math:`c` has no scaled value (below a log
        transform's range), the network's alone. Quantile heads (``z``
        (n, horizon, n_quantiles), ``median`` the index of the 0.5 quantile) are
        all moved by the median's change, :math:`(1 - w)(c - z_{0.5})`: the mix
        sets the centre, the network's quantiles keep their spread around it.
        """
        if classical is None or self.weight is None:
            return z
        point = z if median is None else z[:, :, median]
        mixed = mixed_forecast(point, classical, self.weight)
        return mixed if median is None else z + (mixed - point)[:, :, None]


class NetworkAlone:
    """``combine="none"``: no classical forecast, the network's forecast as it is."""

    method: str | None = None

    def forecasts(
        self,
        values: Array,
        starts: NDArray[np.int64],
        lengths: NDArray[np.int64],
        horizon: int,
        seasons: tuple[float, ...],
    ) -> Array | None:
        """No classical forecasts: None."""
        return None

    def fit(
        self,
        network: Array | None,
        classical: Array | None,
        targets: Array | None,
        independent: float = math.inf,
        collective: Collective = SINGLE_PROCESS,
    ) -> FittedMix:
        """Return the network alone, whatever the validation says."""
        return FittedMix()


class ClassicalMix(NetworkAlone):
    """The network mixed with a classical method (:func:`combination_weight`)."""

    def __init__(self, method: str) -> None:
        self.method = method

    def forecasts(
        self,
        values: Array,
        starts: NDArray[np.int64],
        lengths: NDArray[np.int64],
        horizon: int,
        seasons: tuple[float, ...],
    ) -> Array:
        """Return the classical forecast from each cut-off of ``values``.

        The cut-offs are ``values[start:start + length]``.

        See :func:`~rnncast.classical.classical_forecasts`; (len(starts), horizon)
        in the data's units.
        """
        return classical_forecasts(
            values, starts, lengths, horizon, seasons, self.method
        )

    def fit(
        self,
        network: Array | None,
        classical: Array | None,
        targets: Array | None,
        independent: float = math.inf,
        collective: Collective = SINGLE_PROCESS,
    ) -> FittedMix:
        """Choose the weight on validation windows; equal weights without them.

        ``network``, ``classical``, ``targets``: point forecasts and targets of
        the validation windows (n_windows, horizon), scaled; None without
        validation.
        """
        if network is None or classical is None or targets is None:
            return FittedMix(self.method, EQUAL_WEIGHT)
        weight, scores = combination_weight(
            network, classical, targets, independent, collective
        )
        return FittedMix(self.method, weight, scores)


def mixer(combine: str | None) -> NetworkAlone:
    """Return the mix strategy of ``combine`` (None or "none": the network alone)."""
    if combine is None or combine == "none":
        return NetworkAlone()
    return ClassicalMix(combine)
