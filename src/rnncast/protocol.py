"""The protocol every model follows, so that backtests treat all models alike.

:class:`~rnncast.Forecaster` and every baseline (:mod:`rnncast.baselines`) are
fitted with ``fit(data)``, forecast with ``predict(data=None, *, level=None)``
(a long frame ``unique_id, ds`` with one column of point forecasts, named
``forecast_column``, and ``{column}-lo-{level}`` / ``-hi-`` bounds), go by a
``name`` in leaderboards, and follow scikit-learn's parameter contract
(``get_params`` / ``set_params``), so that a fresh copy can be made for every
backtest window (:func:`clone`). Optionally a fitted model says which series fell
back to another method (``fallbacks_``) and what its training did (``history_``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

import pandas as pd

from rnncast.exceptions import ConfigError

__all__ = ["ForecastingModel", "clone", "differing_params", "set_known_params"]

Model = TypeVar("Model", bound="ForecastingModel")


@runtime_checkable
class ForecastingModel(Protocol):
    """What rnncast asks of a model (see the module docstring)."""

    @property
    def name(self) -> str:
        """The model's name in backtests and reports."""
        ...

    @property
    def forecast_column(self) -> str:
        """The column of ``predict``'s point forecasts."""
        ...

    def fit(self, data: Any) -> Any:
        """Fit on every series of ``data``; return the model."""
        ...

    def predict(
        self, data: Any = None, *, level: float | Sequence[float] | None = None
    ) -> pd.DataFrame:
        """Forecast the series of ``fit`` (or of ``data``)."""
        ...

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's parameters as given."""
        ...

    def set_params(self, **params: Any) -> Any:
        """Set parameters by name; return the model."""
        ...


def clone(model: Model) -> Model:
    """Return a new, unfitted model with the parameters of ``model``."""
    return type(model)(**model.get_params(deep=False))


def set_known_params(model: Model, params: dict[str, Any]) -> Model:
    """Set ``params`` on ``model`` by name (``set_params``); return ``model``.

    Raises ConfigError naming a parameter that ``model`` does not have.
    """
    valid = model.get_params()
    for name, value in params.items():
        if name not in valid:
            raise ConfigError(
                f"invalid parameter {name!r} for {type(model).__name__}; valid "
                f"parameters are {sorted(valid)}."
            )
        setattr(model, name, value)
    return model


def differing_params(model: ForecastingModel, ignored: Sequence[str] = ()) -> str:
    """``model``'s parameters that differ from its class's defaults, as text.

    E.g. ``"hidden=(32,), epochs=5"``; parameters in ``ignored`` are left out.
    """
    defaults = type(model)().get_params()
    shown = []
    for key, value in model.get_params().items():
        if key in ignored:
            continue
        try:
            same = bool(value == defaults.get(key))
        except (TypeError, ValueError):
            same = False
        if not same:
            shown.append(f"{key}={value!r}")
    return ", ".join(shown)
