"""The model folder: ``config.json`` and ``weights.safetensors``, never pickle.

* ``weights.safetensors``: every tensor (network weights, scaler statistics, the
  last ``lookback`` values of each series, calibration scores, classical
  forecasts). safetensors holds raw arrays only, so loading a file can never run
  code.
* ``config.json``: format name and version, the rnncast version that wrote it, the
  constructor parameters, the fitted state that is not a tensor (series ids,
  frequency, last timestamps, training history) and the SHA-256 of the weights
  file, so a damaged or swapped weights file is refused.

A folder of an older format version is brought up to date by :data:`MIGRATIONS`,
one step per version, before it is read: every folder saved by an earlier rnncast
loads and predicts the same numbers. Loading checks that the parameters, the
network and the arrays agree before anything predicts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rnncast.combine import FittedMix
from rnncast.data.covariates import CovariateLayout, StaticEncoding
from rnncast.data.scaling import ScalerStats
from rnncast.data.series import decode_time, encode_time, python_scalar
from rnncast.exceptions import ConfigError, ModelFileError
from rnncast.forecaster.plan import (
    member_lookbacks,
    network_config,
    resolve_device,
)
from rnncast.forecaster.state import FittedSeries, FittedState
from rnncast.intervals.methods import Calibration, interval_method
from rnncast.io import atomic_replace_dir, interrupted_replacement, output_mode
from rnncast.models.networks import EnsembleNetwork, NetworkConfig, RecurrentNetwork
from rnncast.options import ForecasterParams
from rnncast.training import EpochRecord
from rnncast.version import __version__

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MIGRATIONS",
    "load_model",
    "model_file_error",
    "save_model",
]

FORMAT = "rnncast-model"
FORMAT_VERSION = 3
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
Config = dict[str, Any]


# --------------------------------------------------------------- migrations
def _from_version_1(config: Config) -> Config:
    """Migrate 0.1.0 files to 0.2.0: ``level`` is ``window_level``, old defaults kept.

    Parameters added during 0.1.0 are missing from the files saved before them;
    those files meant what the code did then: symmetric conformal intervals
    (``conformal_errors="absolute"``) in units of the seasonal-naive MAE
    (``conformal_unit="seasonal"``), the network alone (``combine=None``) and,
    without a ``multiplicative`` network setting, additive seasonal patterns.
    Masking followed ``missing`` alone and no series fell back.
    """
    params = dict(config["params"])
    if "level" in params:
        params["window_level"] = params.pop("level")
    params.setdefault("conformal_errors", "absolute")
    params.setdefault("conformal_unit", "seasonal")
    params.setdefault("combine", None)
    params.setdefault("intervals", None)
    params.setdefault("missing", "error")
    fitted = dict(config["fitted"])
    # 0.1.0 masked exactly with missing="mask" and had no fallback series
    fitted.update(masked=params["missing"] == "mask", min_length=0, fallbacks=[])
    network = dict(fitted["network"])
    if "multiplicative" not in network:
        network["multiplicative"] = False
        params["seasonal_pattern"] = "additive"
    fitted["network"] = network
    return {**config, "params": params, "fitted": fitted, "format_version": 2}


def _from_version_2(config: Config) -> Config:
    """Migrate 0.2.0 files: they were trained on every window of every epoch.

    ``windows_per_epoch`` and ``time_limit`` did not exist (None: no draw, no
    limit), and ``max_steps`` had no default limit.
    """
    params = dict(config["params"])
    params.setdefault("max_steps", None)
    params.setdefault("windows_per_epoch", None)
    params.setdefault("time_limit", None)
    return {**config, "params": params, "format_version": 3}


# MIGRATIONS[v] turns a config of format version v into version v + 1.
MIGRATIONS: dict[int, Callable[[Config], Config]] = {
    1: _from_version_1,
    2: _from_version_2,
}


def _migrated(config: Config) -> Config:
    version = config["format_version"]
    while version < FORMAT_VERSION:
        config = MIGRATIONS[version](config)
        version = config["format_version"]
    return config


# ------------------------------------------------------------------- saving
def save_model(path: Path, params: dict[str, Any], state: FittedState) -> None:
    """Write the model folder at ``path``, atomically replacing an older model.

    ``path`` may be a new path, an rnncast model folder or an empty folder.
    """
    fitted, tensors = _state_parts(state)
    _write_model_dir(path, params=params, fitted=fitted, tensors=tensors)


def _state_parts(state: FittedState) -> tuple[Config, dict[str, torch.Tensor]]:
    """Return the JSON-ready fitted state and the tensors of ``state``."""
    series, stats = state.series, state.series.scaler
    tensors = {f"network.{k}": v for k, v in state.network.state_dict().items()}
    tensors["scaler.loc"] = torch.as_tensor(stats.loc)
    tensors["scaler.scale"] = torch.as_tensor(stats.scale)
    if stats.power is not None and stats.shift is not None:
        tensors["scaler.power"] = torch.as_tensor(stats.power)
        tensors["scaler.shift"] = torch.as_tensor(stats.shift)
    if stats.seasonal is not None:
        tensors["scaler.seasonal"] = torch.as_tensor(stats.seasonal)
    for name in ("exog_loc", "exog_scale", "static"):
        if getattr(stats, name) is not None:
            tensors[f"scaler.{name}"] = torch.as_tensor(getattr(stats, name))
    tensors["context"] = torch.as_tensor(series.context)
    if series.context_exog is not None:
        tensors["context.exog"] = torch.as_tensor(series.context_exog)
    if state.calibration is not None:
        tensors["conformal.scores"] = torch.as_tensor(state.calibration.scores)
        tensors["conformal.unit"] = torch.as_tensor(series.unit)
        tensors["conformal.series"] = torch.as_tensor(state.calibration.owners)
    if series.classical is not None:
        tensors["combine.classical"] = torch.as_tensor(series.classical)
    if series.fallback is not None:
        tensors["fallback.forecast"] = torch.as_tensor(series.fallback)
    scores = state.mix.scores
    fitted = {
        "network": asdict(state.network.config),
        "ids": [python_scalar(i) for i in series.ids],
        "freq": series.freq,
        "season_length": state.season_length,
        "seasons": list(state.seasons),
        "lookback": state.lookback,
        "lookbacks": list(state.lookbacks),
        "transform": state.transform,
        "last_ds": [encode_time(t) for t in series.last_ds],
        "n_train_windows": state.n_train_windows,
        "history": [asdict(r) for r in state.history],
        "filled": [[python_scalar(k), v] for k, v in series.filled.items()],
        "validation_windows": state.validation_windows,
        "masked": state.masked,
        "min_length": state.min_length,
        "fallbacks": [[python_scalar(k), v] for k, v in state.fallbacks.items()],
        "level_choice": state.level_choice,
        "level_scores": state.level_scores,
        "static_encoding": None
        if state.covariates.static is None
        else state.covariates.static.to_json(),
        "combine_weight": state.mix.weight,
        # JSON object keys must be strings: {weight: error} as pairs
        "combine_scores": None
        if scores is None
        else [[w, e] for w, e in scores.items()],
    }
    return fitted, tensors


def _write_model_dir(
    path: Path,
    *,
    params: dict[str, Any],
    fitted: Config,
    tensors: dict[str, torch.Tensor],
) -> None:
    """Build the folder beside ``path``, then move it into place."""
    if not path.parent.is_dir():
        raise ModelFileError(
            f"cannot save to {str(path)!r}: folder {str(path.parent)!r} does not exist."
        )
    if path.exists() and not (_is_model_dir(path) or _is_empty_dir(path)):
        raise ModelFileError(
            f"cannot save to {str(path)!r}: it exists and is not an rnncast model "
            "folder; choose a new path (rnncast only replaces its own model folders "
            "and empty folders)."
        )
    build = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    build.mkdir()
    try:
        weights = build / WEIGHTS_FILE
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, weights
        )
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "rnncast_version": __version__,
            "params": params,
            "fitted": fitted,
            "weights_sha256": _sha256(weights),
        }
        (build / CONFIG_FILE).write_text(
            json.dumps(config, indent=2, default=_json_default)
        )
        for file in (weights, build / CONFIG_FILE):
            os.chmod(file, output_mode())  # one mode for every file of the folder
        atomic_replace_dir(build, path)
    finally:
        shutil.rmtree(build, ignore_errors=True)


# ------------------------------------------------------------------ loading
def load_model(path: Path, device: str) -> tuple[dict[str, Any], FittedState]:
    """Read and check a model folder; return its parameters and fitted state.

    Raises
    ------
    ModelFileError
        The folder or a file in it is missing, damaged, or from an incompatible
        version of rnncast.
    """
    config, tensors = _read_model_dir(path)
    with model_file_error("the saved parameters or network do not fit this rnncast"):
        config = _migrated(config)
        params = ForecasterParams(**{**config["params"], "device": device})
        params.validate()
        state = _restored(params, config["fitted"], tensors)
    return {**config["params"], "device": device}, state


def _restored(
    params: ForecasterParams, fitted: Config, tensors: dict[str, torch.Tensor]
) -> FittedState:
    """Rebuild the fitted state, checking every part against the parameters."""
    saved = fitted["network"]
    config = NetworkConfig(
        **{
            **saved,
            "hidden": tuple(saved["hidden"]),
            "quantiles": tuple(saved.get("quantiles", ())),
            "dilations": tuple(saved.get("dilations", ())),
            "residual_groups": tuple(saved.get("residual_groups", ())),
        }
    )
    season = int(fitted["season_length"])
    seasons = tuple(fitted.get("seasons", [season]))  # one season before 0.3.0
    lookbacks = [int(v) for v in fitted.get("lookbacks", [fitted["lookback"]])]
    if lookbacks != member_lookbacks(params, seasons):
        raise ValueError("the saved lookbacks disagree with the parameters")
    level_choice = fitted.get("level_choice")  # None in files before the check
    masked = bool(fitted["masked"])
    covariates = _restored_covariates(params, fitted)
    expected = dataclasses.replace(
        network_config(
            params,
            seasons,
            lookbacks,
            level_choice,
            masked=masked,
            covariates=covariates,
        ),
        quantiles=interval_method(params).quantiles(),
    )
    if expected != config:  # also checks every parameter the network depends on
        raise ValueError("the parameters and the saved network disagree")
    network = (
        RecurrentNetwork(config)
        if len(lookbacks) == 1
        else EnsembleNetwork([RecurrentNetwork(config) for _ in lookbacks], lookbacks)
    )
    weights = {
        k.removeprefix("network."): v
        for k, v in tensors.items()
        if k.startswith("network.")
    }
    network.load_state_dict(weights, strict=True)
    network.to(resolve_device(params.device)).eval()
    series = _restored_series(params, config, fitted, tensors)
    _check_covariate_arrays(covariates, series, tensors)
    mix, calibration = _restored_mix(params, fitted, tensors), None
    if interval_method(params).calibrated:
        owners = tensors.get("conformal.series")  # saved since per-series intervals
        if owners is None and params.conformal_per_series:
            raise ValueError("the per-series calibration lacks its series")
        scores = tensors["conformal.scores"].numpy()
        calibration = Calibration(scores, None if owners is None else owners.numpy())
        if owners is not None and owners.shape != scores.shape[:1]:
            raise ValueError("array shapes disagree with the number of series")
    return FittedState(
        network=network,
        series=series,
        season_length=season,
        seasons=seasons,
        lookback=int(fitted["lookback"]),
        lookbacks=tuple(lookbacks),
        transform=str(fitted.get("transform", "none")),
        level_choice=level_choice,
        level_scores=fitted.get("level_scores"),
        mix=mix,
        calibration=calibration,
        history=[EpochRecord(**r) for r in fitted["history"]],
        n_train_windows=int(fitted["n_train_windows"]),
        validation_windows=int(fitted["validation_windows"]),
        masked=masked,
        min_length=int(fitted["min_length"]),
        fallbacks={k: str(v) for k, v in fitted["fallbacks"]},
        covariates=covariates,
    )


def _restored_covariates(params: ForecasterParams, fitted: Config) -> CovariateLayout:
    """Return the covariates' layout, with the saved static encoding.

    The parameters' layout at the saved frequency; files from before covariates
    have no static encoding.
    """
    encoding = fitted.get("static_encoding")
    layout = CovariateLayout.of(
        dataclasses.replace(params, stat_exog=()), fitted["freq"]
    )
    static = None if encoding is None else StaticEncoding.from_json(encoding)
    if (static is None) != (not params.stat_exog) or (
        static is not None and list(static.columns) != list(params.stat_exog)
    ):
        raise ValueError("the saved static encoding and stat_exog disagree")
    return dataclasses.replace(layout, static=static)


def _check_covariate_arrays(
    covariates: CovariateLayout, series: FittedSeries, tensors: dict[str, torch.Tensor]
) -> None:
    """ValueError unless the covariates' saved arrays fit their layout."""
    n, lookback = series.context.shape
    dynamic = len(covariates.dynamic)
    static = 0 if covariates.static is None else len(covariates.static.names)
    expected = {
        "scaler.exog_loc": (n, dynamic) if dynamic else None,
        "scaler.exog_scale": (n, dynamic) if dynamic else None,
        "context.exog": (n, lookback, dynamic) if dynamic else None,
        "scaler.static": (n, static) if static else None,
    }
    for name, shape in expected.items():
        saved = tensors.get(name)
        if (saved is None) != (shape is None) or (
            saved is not None and tuple(saved.shape) != shape
        ):
            raise ValueError(f"the saved covariate array {name} does not fit")


def _restored_series(
    params: ForecasterParams,
    config: NetworkConfig,
    fitted: Config,
    tensors: dict[str, torch.Tensor],
) -> FittedSeries:
    """Return the fitted series' ids, timestamps, scaling and context, checked."""
    power, shift = tensors.get("scaler.power"), tensors.get("scaler.shift")
    transform = str(fitted.get("transform", "none"))
    if (power is None) != (transform == "none") or ((power is None) != (shift is None)):
        raise ValueError("the saved transform and its statistics disagree")
    seasonal = tensors.get("scaler.seasonal")
    if (seasonal is None) != (config.level != "detect"):
        raise ValueError("the saved seasonal flags and the network disagree")
    calibrated = interval_method(params).calibrated
    unit = tensors.get("conformal.unit") if calibrated else None
    classical = tensors.get("combine.classical")
    fallback = tensors.get("fallback.forecast")
    series = FittedSeries(
        ids=list(fitted["ids"]),
        freq=fitted["freq"],
        last_ds=[decode_time(t) for t in fitted["last_ds"]],
        context=tensors["context"].numpy(),
        scaler=ScalerStats(
            loc=tensors["scaler.loc"].numpy(),
            scale=tensors["scaler.scale"].numpy(),
            power=None if power is None else power.numpy(),
            shift=None if shift is None else shift.numpy(),
            seasonal=None if seasonal is None else seasonal.numpy(),
            **{
                name: tensors[f"scaler.{name}"].numpy()
                for name in ("exog_loc", "exog_scale", "static")
                if f"scaler.{name}" in tensors
            },
        ),
        classical=None if classical is None else classical.numpy(),
        unit=None if unit is None else unit.numpy(),
        filled={k: v for k, v in fitted["filled"]},
        fallback=None if fallback is None else fallback.numpy(),
        context_exog=None
        if "context.exog" not in tensors
        else tensors["context.exog"].numpy(),
    )
    n, stats = len(series.ids), series.scaler
    lookback = int(fitted["lookback"])
    shapes_ok = (
        series.context.shape == (n, lookback)
        and stats.loc.shape == stats.scale.shape == (n,)
        and (stats.power is None or stats.power.shape == stats.shift.shape == (n,))  # type: ignore[union-attr]
        and (stats.seasonal is None or stats.seasonal.shape == (n,))
        and len(series.last_ds) == n
        and (series.classical is None or series.classical.shape == (n, params.horizon))
        and (series.unit is None or series.unit.shape == (n,))
        and (series.fallback is None or series.fallback.shape == (n, params.horizon))
        and (not calibrated or series.unit is not None)
    )
    if not shapes_ok:
        raise ValueError("array shapes disagree with the number of series")
    return series


def _restored_mix(
    params: ForecasterParams, fitted: Config, tensors: dict[str, torch.Tensor]
) -> FittedMix:
    """Return the classical mix: its weight and errors, checked against ``combine``."""
    weight = fitted.get("combine_weight")
    classical = tensors.get("combine.classical")
    if (classical is None) != (params.combination is None) or (
        (classical is None) != (weight is None)
    ):
        raise ValueError("the saved combination and its forecasts disagree")
    pairs = fitted.get("combine_scores")
    return FittedMix(
        params.combination,
        None if weight is None else float(weight),
        None if pairs is None else {float(w): float(e) for w, e in pairs},
    )


def _read_model_dir(path: Path) -> tuple[Config, dict[str, torch.Tensor]]:
    """Read and check a model folder; return its config and tensors.

    If a save over ``path`` was interrupted between moving the old model aside and
    moving the new one in (only possible where folders cannot be swapped
    atomically), the old model is read from where it was left.
    """
    aside = interrupted_replacement(path)
    if aside is not None and _is_model_dir(aside):
        path = aside
    if not path.is_dir():
        raise ModelFileError(
            f"no model folder at {str(path)!r}; give the folder written by "
            "Forecaster.save (CLI: --save-model)."
        )
    config_file = path / CONFIG_FILE
    if not config_file.is_file():
        raise ModelFileError(
            f"{str(path)!r} has no {CONFIG_FILE}; it is not a saved rnncast model "
            "or it was damaged. Save the model again."
        )
    with model_file_error(f"{CONFIG_FILE} in {str(path)!r} is damaged"):
        config = json.loads(config_file.read_text())
        if not isinstance(config, dict):
            raise ValueError("expected a JSON object")
    if config.get("format") != FORMAT:
        raise ModelFileError(f"{str(path)!r} does not hold an rnncast model.")
    version = config.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ModelFileError(
            f"the model in {str(path)!r} was saved by rnncast "
            f"{config.get('rnncast_version')!r} in format version {version!r}; this "
            f"rnncast {__version__} reads format versions 1 to {FORMAT_VERSION}. "
            "Install the rnncast version that saved it, or fit and save the model "
            "again."
        )
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelFileError(
            f"{str(path)!r} has no {WEIGHTS_FILE}; save the model again."
        )
    if _sha256(weights) != config.get("weights_sha256"):
        raise ModelFileError(
            f"{WEIGHTS_FILE} in {str(path)!r} does not match its checksum in "
            f"{CONFIG_FILE}: the file was damaged or replaced. Save the model again."
        )
    with model_file_error(f"{WEIGHTS_FILE} in {str(path)!r} is damaged"):
        tensors = load_file(weights)
        missing = sorted({"params", "fitted"} - set(config))
        if missing:
            raise KeyError(missing[0])
    return config, tensors


@contextlib.contextmanager
def model_file_error(what: str) -> Iterator[None]:
    """Turn the low-level errors of reading a model into one :class:`ModelFileError`."""
    try:
        yield
    except ModelFileError:
        raise
    except (
        ConfigError,
        KeyError,
        TypeError,
        ValueError,
        RuntimeError,
        OSError,
        SafetensorError,
        json.JSONDecodeError,
    ) as e:
        raise ModelFileError(
            f"{what}: {type(e).__name__}: {e}. Save the model again."
        ) from e


def _is_model_dir(path: Path) -> bool:
    config = path / CONFIG_FILE
    if not path.is_dir() or not config.is_file():
        return False
    try:
        return json.loads(config.read_text()).get("format") == FORMAT
    except (ValueError, OSError, AttributeError):
        return False


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in {CONFIG_FILE}")
