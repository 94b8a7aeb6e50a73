r"""What each window's forecast starts from: the window levels, one class each.

A network with a window level reads its inputs centred on the window's level
:math:`l` (the target channel minus :math:`l`) and adds its output to a *start*
:math:`s_k`, :math:`\hat y_{T+k} = s_k + \mathrm{net}(x - l)_k`, so that one network
serves windows at any level and extrapolates beyond the range seen in training.

=========== =============================== ==========================================
name        level :math:`l`                 start :math:`s_k`
=========== =============================== ==========================================
last        :math:`x_T`                     :math:`l`
season      mean of the last season         :math:`l`
snaive      mean of the last season         the seasonal naive
                                            :math:`x_{T+k-m\lceil k/m \rceil}`
adaptive    mean of the last season         the seasonal naive in windows it
                                            describes better (:func:`seasonal_windows`),
                                            else :math:`l`
detect      mean of the last season         for series flagged seasonal (the last
                                            input channel): :math:`l` plus the
                                            window's mean seasonal pattern
                                            (:func:`seasonal_profile`), or
                                            multiplicative ratios
                                            (:func:`seasonal_ratios`) in positive
                                            windows; else :math:`l`
none        (none: inputs as they are)      0
=========== =============================== ==========================================

:mod:`rnncast.reference` writes the same starts in NumPy; the tests prove both equal.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from rnncast.exceptions import ConfigError
from rnncast.options import WINDOW_LEVELS

__all__ = [
    "SEASONAL_LEVELS",
    "SNAIVE_LEVELS",
    "WindowLevel",
    "seasonal_profile",
    "seasonal_ratios",
    "seasonal_windows",
    "window_level",
]


class WindowLevel:
    """A window level: the level :meth:`of` a window and the :meth:`start` after it.

    Subclasses set ``name``, whether the level is a season's mean
    (``seasonal``) and whether the start adds a seasonal pattern, which needs a
    lookback of at least one season (``pattern``).
    """

    name: ClassVar[str]
    seasonal: ClassVar[bool] = True
    pattern: ClassVar[bool] = False

    def of(self, x: torch.Tensor, season_length: int) -> torch.Tensor:
        """Return the level (batch, 1, 1) of windows ``x`` (batch, lookback, channels).

        The mean of the target channel's last season (its last value for
        ``"last"``).
        """
        steps = season_length if self.seasonal else 1
        return x[:, -steps:, :1].mean(dim=1, keepdim=True)

    def start(
        self,
        x: torch.Tensor,
        level: torch.Tensor,
        season_length: int,
        horizon: int,
        zero: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return what the network's output is added to, (batch, horizon).

        ``zero`` (batch, 1): each window's scaled zero, for multiplicative
        patterns (``detect`` only).
        """
        return level[:, :, 0].expand(-1, horizon)


class LastValue(WindowLevel):
    """Changes from the window's last value."""

    name = "last"
    seasonal = False


class SeasonMean(WindowLevel):
    """Changes from the mean of the window's last season."""

    name = "season"


class SeasonalNaive(WindowLevel):
    """Corrections to the window's seasonal-naive forecast."""

    name = "snaive"
    pattern = True

    def start(
        self,
        x: torch.Tensor,
        level: torch.Tensor,
        season_length: int,
        horizon: int,
        zero: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the last season of the window, repeated."""
        return _repeated(x[:, -season_length:, 0], horizon)


class Adaptive(WindowLevel):
    """The seasonal naive in windows it describes better, else the season's mean."""

    name = "adaptive"
    pattern = True

    def start(
        self,
        x: torch.Tensor,
        level: torch.Tensor,
        season_length: int,
        horizon: int,
        zero: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the seasonal naive where :func:`seasonal_windows` says so."""
        snaive = _repeated(x[:, -season_length:, 0], horizon)
        flat = level[:, :, 0].expand(-1, horizon)
        return torch.where(seasonal_windows(x[:, :, 0], season_length), snaive, flat)


class Detect(WindowLevel):
    """Per series: its window's mean seasonal pattern if flagged seasonal, else flat.

    The flag is the last input channel (1: the series passed the seasonality
    test). With ``zero`` (multiplicative patterns) a flagged window whose values
    all lie above the data's zero starts from :math:`c + (l - c) r_j` with the
    window's mean seasonal ratios :math:`r` instead of :math:`l + p_j`.
    """

    name = "detect"
    pattern = True

    def start(
        self,
        x: torch.Tensor,
        level: torch.Tensor,
        season_length: int,
        horizon: int,
        zero: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the mean seasonal pattern for flagged series, else the level."""
        m = season_length
        flat = level[:, :, 0].expand(-1, horizon)
        profile = level[:, :, 0] + seasonal_profile(x[:, :, 0], m)
        if zero is not None:
            above = x[:, :, 0] - zero  # proportional to the data's values
            positive = (above > 0).all(dim=1, keepdim=True)
            ratios = seasonal_ratios(torch.where(positive, above, 1.0), m)
            scaled = zero + (level[:, :, 0] - zero) * ratios
            profile = torch.where(positive, scaled, profile)
        start = _repeated(profile, horizon)
        return torch.where(x[:, -1:, -1] > 0.5, start, flat)  # the series' flag


class NoLevel(WindowLevel):
    """No centring: the network reads the inputs as they are and starts from 0."""

    name = "none"
    seasonal = False

    def of(self, x: torch.Tensor, season_length: int) -> torch.Tensor:
        """Zero: the windows stay as they are."""
        return x.new_zeros(x.shape[0], 1, 1)


_LEVELS: dict[str, type[WindowLevel]] = {
    cls.name: cls
    for cls in (LastValue, SeasonMean, SeasonalNaive, Adaptive, Detect, NoLevel)
}
SEASONAL_LEVELS = tuple(name for name, cls in _LEVELS.items() if cls.seasonal)
SNAIVE_LEVELS = tuple(name for name, cls in _LEVELS.items() if cls.pattern)


def window_level(name: str) -> WindowLevel:
    """Return the window level called ``name`` (one of ``WINDOW_LEVELS``)."""
    if name not in _LEVELS:
        raise ConfigError(
            f"unknown window_level {name!r}; choose one of {WINDOW_LEVELS}."
        )
    return _LEVELS[name]()


def _repeated(season: torch.Tensor, horizon: int) -> torch.Tensor:
    """Return a season (batch, m) repeated over ``horizon`` steps, (batch, horizon)."""
    repeats = -(-horizon // season.shape[1])
    return season.repeat(1, repeats)[:, :horizon]


def seasonal_profile(y: torch.Tensor, season_length: int) -> torch.Tensor:
    r"""Each window's mean seasonal pattern over its whole seasons, (batch, m).

    The window ``y`` (batch, L) is cut into its last :math:`K = \lfloor L/m
    \rfloor` seasons :math:`s_1 .. s_K` (counted back from its end, so position
    :math:`j` of every season has the phase of :math:`y_{T-m+1+j}`); the profile
    is the mean of their deviations from their own means,

    .. math::
        p_j = \frac1K \sum_{k=1}^{K} \Big(s_{k,j} - \frac1m \sum_i s_{k,i}\Big),

    so the seasonal start :math:`l + p_{(k-1) \bmod m}` of step :math:`k` (with
    :math:`l` the last season's mean) averages :math:`K` seasons where the seasonal
    naive copies one: with :math:`K = 1` it is the seasonal naive.
    """
    seasons = _whole_seasons(y, season_length)
    return (seasons - seasons.mean(dim=2, keepdim=True)).mean(dim=1)


def seasonal_ratios(y: torch.Tensor, season_length: int) -> torch.Tensor:
    r"""Each window's mean seasonal ratios over its whole seasons, (batch, m).

    The multiplicative twin of :func:`seasonal_profile`, for positive windows
    ``y`` (batch, L): with the last :math:`K = \lfloor L/m \rfloor` seasons
    :math:`s_1 .. s_K`,

    .. math::
        r_j = \frac1K \sum_{k=1}^{K} \frac{s_{k,j}}{\frac1m \sum_i s_{k,i}},

    so a start :math:`l\,r_{(k-1) \bmod m}` keeps each season's swing in
    proportion to its level (classical multiplicative decomposition, as Theta
    deseasonalises). :math:`K = 1` gives the seasonal naive rescaled to the last
    season's mean, i.e. the seasonal naive itself.
    """
    seasons = _whole_seasons(y, season_length)
    return (seasons / seasons.mean(dim=2, keepdim=True)).mean(dim=1)


def _whole_seasons(y: torch.Tensor, m: int) -> torch.Tensor:
    """Cut windows ``y`` (batch, L) into their last ``K = L // m`` seasons, (b, K, m).

    Counted back from each window's end, so position ``j`` of every season has
    the phase of ``y_{T-m+1+j}``.
    """
    whole = (y.shape[1] // m) * m
    return y[:, y.shape[1] - whole :].reshape(y.shape[0], whole // m, m)


def seasonal_windows(y: torch.Tensor, season_length: int) -> torch.Tensor:
    r"""Say which windows the seasonal naive describes better than a moving level.

    Inside each window ``y`` (batch, lookback), for :math:`t = m .. L-1`, compare
    the seasonal naive :math:`|y_t - y_{t-m}|` with the mean of the season before,
    :math:`|y_t - \tfrac1m \sum_{j=1}^{m} y_{t-j}|`, each averaged over ``t``;
    a window is seasonal when the first is smaller (always, when ``L <= m``).

    Returns
    -------
    Tensor of shape (batch, 1), bool
    """
    m = season_length
    if y.shape[1] <= m:
        return torch.ones(y.shape[0], 1, dtype=torch.bool, device=y.device)
    sums = torch.nn.functional.pad(y.cumsum(dim=1), (1, 0))  # sums[:, t] = y[:, :t]
    season_means = (sums[:, m:-1] - sums[:, : -m - 1]) / m  # mean of y[t-m:t]
    seasonal_error = (y[:, m:] - y[:, :-m]).abs().mean(dim=1)
    level_error = (y[:, m:] - season_means).abs().mean(dim=1)
    return (seasonal_error < level_error)[:, None]
