"""Saving and loading a fitted Forecaster: the JSON and tensors of its model folder.

:meth:`Forecaster.save` writes what :func:`saved_parts` returns with
:func:`~rnncast.model_files.write_model_dir`; :meth:`Forecaster.load` reads it back
and :func:`restore` rebuilds the model, checking that the saved parameters, network
and arrays agree before anything predicts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import torch

from rnncast.classical import check_combine
from rnncast.data.frame import decode_time, encode_time, python_scalar
from rnncast.data.scaling import ScalerStats
from rnncast.intervals import CALIBRATED_INTERVALS
from rnncast.models.networks import EnsembleNetwork, NetworkConfig, RecurrentNetwork
from rnncast.training import EpochRecord

if TYPE_CHECKING:
    from rnncast.forecaster import Forecaster

__all__ = ["restore", "saved_parts"]


def saved_parts(model: Forecaster) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Return the JSON-ready fitted state and the tensors of a fitted ``model``."""
    state = {f"network.{k}": v for k, v in model.network_.state_dict().items()}
    state["scaler.loc"] = torch.as_tensor(model.scaler_.loc)
    state["scaler.scale"] = torch.as_tensor(model.scaler_.scale)
    if model.scaler_.power is not None and model.scaler_.shift is not None:
        state["scaler.power"] = torch.as_tensor(model.scaler_.power)
        state["scaler.shift"] = torch.as_tensor(model.scaler_.shift)
    if model.scaler_.seasonal is not None:
        state["scaler.seasonal"] = torch.as_tensor(model.scaler_.seasonal)
    state["context"] = torch.as_tensor(model.context_)
    if model.conformal_scores_ is not None:
        state["conformal.scores"] = torch.as_tensor(model.conformal_scores_)
        state["conformal.unit"] = torch.as_tensor(model.interval_scale_)
        state["conformal.series"] = torch.as_tensor(model.conformal_series_)
    if model.classical_ is not None:
        state["combine.classical"] = torch.as_tensor(model.classical_)
    fitted = {
        "network": asdict(model.network_.config),
        "ids": [python_scalar(i) for i in model.ids_],
        "freq": model.freq_,
        "season_length": model.season_length_,
        "lookback": model.lookback_,
        "lookbacks": _lookbacks(model),
        "transform": model.transform_,
        "last_ds": [encode_time(t) for t in model.last_ds_],
        "n_train_windows": model.n_train_windows_,
        "history": [asdict(r) for r in model.history_],
        "filled": [[python_scalar(k), v] for k, v in model.filled_.items()],
        "validation_windows": model.validation_windows_,
        "level_choice": model._level_choice,
        "level_scores": model.level_scores_,
        "combine_weight": model.combine_weight_,
        "combine_scores": _pairs(model.combine_scores_),
    }
    return fitted, state


def _pairs(scores: dict[float, float] | None) -> list[list[float]] | None:
    """``{weight: error}`` as JSON pairs (JSON object keys must be strings)."""
    return None if scores is None else [[w, e] for w, e in scores.items()]


def _lookbacks(model: Forecaster) -> list[int]:
    if isinstance(model.network_, EnsembleNetwork):
        return list(model.network_.lookbacks)
    return [model.lookback_]


def restore(
    cls: type[Forecaster],
    params: dict[str, Any],
    fitted: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    device: str,
) -> Forecaster:
    """Rebuild a fitted Forecaster from the parts read by :func:`read_model_dir`."""
    from rnncast.forecaster import resolve_device
    from rnncast.model_files import model_file_error

    with model_file_error("the saved parameters or network do not fit this rnncast"):
        # parameters added since, with the value that files saved before meant
        saved_before = {
            "conformal_errors": "absolute",
            "conformal_unit": "seasonal",
            "combine": None,
        }
        forecaster = cls(**{**saved_before, **params, "device": device})
        forecaster._level_choice = fitted.get("level_choice")  # None in older files
        saved = fitted["network"]
        network_config = NetworkConfig(
            **{
                **saved,
                "hidden": tuple(saved["hidden"]),
                "quantiles": tuple(saved.get("quantiles", ())),
            }
        )
        season = int(fitted["season_length"])
        lookbacks = [int(v) for v in fitted.get("lookbacks", [fitted["lookback"]])]
        if lookbacks != forecaster._member_lookbacks(season):
            raise ValueError("the saved lookbacks disagree with the parameters")
        expected = forecaster._seasonal(
            forecaster._configs()[0], season, min(lookbacks)
        )
        if "multiplicative" not in saved:  # saved before session 7: additive
            expected = dataclasses.replace(expected, multiplicative=False)
        if expected != network_config:  # also checks every parameter
            raise ValueError("the parameters and the saved network disagree")
        network = (
            RecurrentNetwork(network_config)
            if len(lookbacks) == 1
            else EnsembleNetwork(
                [RecurrentNetwork(network_config) for _ in lookbacks], lookbacks
            )
        )
        weights = {
            k.removeprefix("network."): v
            for k, v in tensors.items()
            if k.startswith("network.")
        }
        network.load_state_dict(weights, strict=True)
        network.to(resolve_device(device)).eval()
        forecaster.network_ = network
        forecaster.ids_ = list(fitted["ids"])
        forecaster.freq_ = fitted["freq"]
        forecaster.season_length_ = int(fitted["season_length"])
        forecaster.lookback_ = int(fitted["lookback"])
        forecaster.last_ds_ = [decode_time(t) for t in fitted["last_ds"]]
        power, shift = tensors.get("scaler.power"), tensors.get("scaler.shift")
        forecaster.transform_ = str(fitted.get("transform", "none"))
        if (power is None) != (forecaster.transform_ == "none") or (
            (power is None) != (shift is None)
        ):
            raise ValueError("the saved transform and its statistics disagree")
        seasonal = tensors.get("scaler.seasonal")
        if (seasonal is None) != (network_config.level != "detect"):
            raise ValueError("the saved seasonal flags and the network disagree")
        forecaster.scaler_ = ScalerStats(
            loc=tensors["scaler.loc"].numpy(),
            scale=tensors["scaler.scale"].numpy(),
            power=None if power is None else power.numpy(),
            shift=None if shift is None else shift.numpy(),
            seasonal=None if seasonal is None else seasonal.numpy(),
        )
        forecaster.context_ = tensors["context"].numpy()
        forecaster.history_ = [EpochRecord(**r) for r in fitted["history"]]
        forecaster.n_train_windows_ = int(fitted["n_train_windows"])
        forecaster.filled_ = {k: v for k, v in fitted["filled"]}
        forecaster.data_report_ = None  # the report of fit is not saved
        forecaster.validation_windows_ = int(fitted["validation_windows"])
        forecaster.level_ = network_config.level
        forecaster.level_scores_ = fitted.get("level_scores")
        forecaster.conformal_scores_ = forecaster.interval_scale_ = None
        forecaster.conformal_series_ = None
        _restore_combination(forecaster, fitted, tensors)
        if forecaster.intervals in CALIBRATED_INTERVALS:
            forecaster.conformal_scores_ = tensors["conformal.scores"].numpy()
            forecaster.interval_scale_ = tensors["conformal.unit"].numpy()
            owners = tensors.get("conformal.series")  # saved since per-series
            if owners is None and forecaster.conformal_per_series:
                raise ValueError("the per-series calibration lacks its series")
            if owners is not None:
                forecaster.conformal_series_ = owners.numpy()
        n = len(forecaster.ids_)
        shapes_ok = (
            forecaster.context_.shape == (n, forecaster.lookback_)
            and forecaster.scaler_.loc.shape == (n,)
            and forecaster.scaler_.scale.shape == (n,)
            and (power is None or power.shape == shift.shape == (n,))
            and (seasonal is None or seasonal.shape == (n,))
            and len(forecaster.last_ds_) == n
            and (
                forecaster.classical_ is None
                or forecaster.classical_.shape == (n, forecaster.horizon)
            )
            and (
                forecaster.interval_scale_ is None
                or forecaster.interval_scale_.shape == (n,)
            )
            and (
                forecaster.conformal_series_ is None
                or forecaster.conformal_series_.shape
                == forecaster.conformal_scores_.shape[:1]
            )
        )
        if not shapes_ok:
            raise ValueError("array shapes disagree with the number of series")
    return forecaster


def _restore_combination(
    forecaster: Forecaster, fitted: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> None:
    """Set the fitted weight, scores and classical forecasts of ``combine``.

    Files saved before ``combine`` existed have none of them and no ``combine``.
    """
    classical = tensors.get("combine.classical")
    weight = fitted.get("combine_weight")
    if (classical is None) != (check_combine(forecaster.combine) is None) or (
        (classical is None) != (weight is None)
    ):
        raise ValueError("the saved combination and its forecasts disagree")
    forecaster.classical_ = None if classical is None else classical.numpy()
    forecaster.combine_weight_ = None if weight is None else float(weight)
    pairs = fitted.get("combine_scores")
    forecaster.combine_scores_ = (
        None if pairs is None else {float(w): float(e) for w, e in pairs}
    )
