"""The on-disk model format: a folder with ``weights.safetensors`` and ``config.json``.

* ``weights.safetensors``: every tensor (network weights, scaler statistics, the last
  ``lookback`` values of each series). safetensors holds raw arrays only, so loading
  a file can never run code, unlike pickle.
* ``config.json``: format name and version, the rnncast version that wrote it, the
  constructor parameters, the fitted state that is not a tensor (series ids,
  frequency, last timestamps, training history) and the SHA-256 of the weights file,
  so a damaged or swapped weights file is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rnncast._version import __version__
from rnncast.exceptions import ConfigError, ModelFileError
from rnncast.io import atomic_replace_dir, interrupted_replacement

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "model_file_error",
    "read_model_dir",
    "write_model_dir",
]

FORMAT = "rnncast-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"


def write_model_dir(
    path: Path,
    *,
    params: dict[str, Any],
    fitted: dict[str, Any],
    tensors: dict[str, torch.Tensor],
) -> None:
    """Write a model folder at ``path``, atomically replacing an older model there."""
    if not path.parent.is_dir():
        raise ModelFileError(
            f"cannot save to {str(path)!r}: folder {str(path.parent)!r} does not exist."
        )
    if path.exists() and not _is_model_dir(path):
        raise ModelFileError(
            f"cannot save to {str(path)!r}: it exists and is not an rnncast model "
            "folder; choose a new path (rnncast only replaces its own model folders)."
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
        atomic_replace_dir(build, path)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def read_model_dir(
    path: Path,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, torch.Tensor]]:
    """Read and check a model folder; return (params, fitted state, tensors).

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
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"the model in {str(path)!r} was saved by rnncast "
            f"{config.get('rnncast_version')!r} in format version {version!r}; this "
            f"rnncast {__version__} reads format version {FORMAT_VERSION}. Install the "
            "rnncast version that saved it, or fit and save the model again."
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
        params, fitted = config["params"], config["fitted"]
    return params, fitted, tensors


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
