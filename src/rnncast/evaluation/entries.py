"""The models of a backtest: names and model objects, configured for the run.

:func:`model_entries` turns what the caller listed (names such as ``"lstm"``,
``"lstm+none"``, ``"arima"``, or model objects) into fresh models labelled for
the leaderboard, each with the backtest's horizon, season, frequency, seed and
intervals (:class:`BacktestSettings`) where it leaves them unset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rnncast.baselines import BASELINES, make_baseline
from rnncast.data.series import Freq
from rnncast.exceptions import ConfigError
from rnncast.forecaster import Forecaster
from rnncast.intervals import Levels
from rnncast.options import CELLS, COMBINE_CHOICES
from rnncast.protocol import ForecastingModel, clone, differing_params

__all__ = ["NEURAL_MODELS", "BacktestSettings", "known_models", "model_entries"]

# each cell with the defaults (mixed with Theta), then with each combine:
# "lstm+theta", "lstm+theta+damped", ..., "lstm+none" (the network alone)
NEURAL_MODELS = (*CELLS, *(f"{c}+{mix}" for mix in COMBINE_CHOICES for c in CELLS))


@dataclass(frozen=True)
class BacktestSettings:
    """What the backtest gives its models: sizes, seeds, intervals, extra params."""

    horizon: int
    season_length: int  # the first season, rounded: MASE and the baselines
    seasons: int | Sequence[float] | None  # as given, for the networks
    freq: Freq
    seed: int
    neural_params: dict[str, Any]
    time_limit: float | None
    n_jobs: int | None
    levels: Levels
    baseline_intervals: str
    conformal: dict[str, str]


def model_entries(
    models: Sequence[str | ForecastingModel] | str | ForecastingModel,
    reference: str,
    settings: BacktestSettings,
) -> dict[str, ForecastingModel]:
    """Every model to backtest by its label, the reference last if it was missing."""
    if isinstance(models, str | ForecastingModel):
        models = [models]
    if not models:
        raise ConfigError("give at least one model to backtest.")
    labelled: list[tuple[str, ForecastingModel]] = []
    for item in models:
        if isinstance(item, str):
            labelled.append((item, _named(item, settings)))
        elif isinstance(item, ForecastingModel):
            labelled.append((item.name, _configured(item, settings)))
        else:
            raise ConfigError(
                f"unknown model {item!r}; give model names "
                f"({', '.join(known_models())}) "
                "or models such as Forecaster(...) and SeasonalNaive()."
            )
    labels = _distinct([label for label, _ in labelled], [m for _, m in labelled])
    duplicates = sorted({n for n in labels if labels.count(n) > 1})
    if duplicates:
        raise ConfigError(f"model(s) listed twice: {duplicates}.")
    entries = dict(zip(labels, (m for _, m in labelled), strict=True))
    if reference not in entries:
        entries[reference] = _named(reference, settings)
    return entries


# set by the backtest for every model, so no part of a label
_SET_BY_BACKTEST = ("horizon", "season_length", "freq", "seed", "intervals", "levels")


def _distinct(labels: list[str], models: list[ForecastingModel]) -> list[str]:
    """Labels where two models share a name: each with its own parameters added.

    E.g. ``lstm`` and ``lstm[hidden=(32,)]``.
    """
    distinct = []
    for label, model in zip(labels, models, strict=True):
        if labels.count(label) > 1:
            ignored = (*_SET_BY_BACKTEST, "cell", "combine", "alias")
            shown = differing_params(model, ignored)
            label = f"{label}[{shown}]" if shown else label
        distinct.append(label)
    return distinct


def known_models() -> tuple[str, ...]:
    """Return every model name a backtest knows: the networks, then the baselines."""
    return (*NEURAL_MODELS, *BASELINES)


def _named(name: str, settings: BacktestSettings) -> ForecastingModel:
    """Return a fresh model of the name ``name``, with the backtest's settings."""
    if name not in known_models():
        raise ConfigError(
            f"unknown model {name!r}; choose from {', '.join(known_models())}."
        )
    if name in NEURAL_MODELS:
        cell, _, combine = name.partition("+")
        params: dict[str, Any] = {
            "season_length": settings.seasons,
            "freq": settings.freq,
            "seed": settings.seed,
        }
        if settings.levels:
            params |= {
                "intervals": "conformal",
                "levels": settings.levels,
                **settings.conformal,
            }
        params |= settings.neural_params
        params |= {"cell": cell, "horizon": settings.horizon}  # the name's, the run's
        if combine:  # the name's mix, whatever neural_params say
            params["combine"] = combine
        return Forecaster(**params)
    return make_baseline(
        name,
        horizon=settings.horizon,
        season_length=settings.season_length,
        freq=settings.freq,
        time_limit=settings.time_limit,
        n_jobs=settings.n_jobs,
        levels=settings.levels,
        intervals=settings.baseline_intervals,
        **settings.conformal,
    )


def _configured(
    model: ForecastingModel, settings: BacktestSettings
) -> ForecastingModel:
    """Return a copy of ``model`` with the backtest's horizon (and season, frequency).

    Only where the model leaves them unset; a Forecaster without intervals gets
    conformal ones when the backtest scores intervals.
    """
    params = model.get_params()
    updates: dict[str, Any] = {}
    if params.get("horizon") is None:
        updates["horizon"] = settings.horizon
    elif params["horizon"] != settings.horizon:
        raise ConfigError(
            f"{model.name} has horizon={params['horizon']}, but the backtest "
            f"forecasts horizon={settings.horizon}; leave the model's horizon unset "
            "or make the two equal."
        )
    network = isinstance(model, Forecaster)
    for key, value in (
        ("season_length", settings.seasons if network else settings.season_length),
        ("freq", settings.freq),
    ):
        if key in params and params[key] is None:
            updates[key] = value
    if settings.levels and "intervals" in params and params["intervals"] is None:
        updates["intervals"] = "conformal"
    return clone(model).set_params(**updates)
