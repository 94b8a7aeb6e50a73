"""A fitted network as an ONNX graph, for a service that runs onnxruntime alone.

The graph is the network of :meth:`~rnncast.Forecaster.predict`, ensemble median
and window start included: inputs ``inputs`` (batch, lookback, channels) and,
with future-known covariates, ``future`` (batch, horizon, f), exactly what
:meth:`~rnncast.Forecaster.forecast_inputs` returns; output ``forecast``
(batch, horizon), or (batch, horizon, quantiles) for a quantile head, in the
scaled units of each series. The batch is dynamic. What the graph leaves out
(the scaling back to the data's units, the classical mix, conformal bounds,
fallbacks) is in the file's metadata and docs/serving.md.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from rnncast.exceptions import ConfigError
from rnncast.io import atomic_path
from rnncast.version import __version__

__all__ = ["export_onnx", "onnx_metadata"]


def export_onnx(model: Any, path: str | Path) -> Path:
    """Write the fitted network of ``model`` (a Forecaster) to ``path`` as ONNX.

    The file is written whole or not at all. Raises ConfigError without the
    ``onnx`` extra, or for a network torch cannot export; NotFittedError for an
    unfitted model.
    """
    state = model.fitted_state("export_onnx()")
    try:
        import onnx
        import onnxscript  # noqa: F401 - torch's exporter needs it
    except ImportError as e:
        raise ConfigError(
            "ONNX export needs onnx and onnxscript: pip install 'rnncast[onnx]'."
        ) from e
    network = state.network.to("cpu").eval()
    config = network.config
    # the series' scaled zero comes before the seasonal flag when multiplicative
    channels = config.input_size + int(config.multiplicative)
    # a batch of 2: torch specialises sizes 0 and 1 to constants
    sample = [torch.zeros(2, state.lookback, channels)]
    names = ["inputs"]
    if config.future_size:
        sample.append(torch.zeros(2, config.horizon, config.future_size))
        names.append("future")
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings():  # the exporter's notes about torch internals
        warnings.simplefilter("ignore")
        try:
            program = torch.onnx.export(
                network,
                tuple(sample),
                dynamo=True,
                input_names=names,
                output_names=["forecast"],
                dynamic_shapes=tuple({0: batch} for _ in sample),
                verbose=False,
            )
        except Exception as e:  # torch.export's errors have many types
            raise ConfigError(
                f"this network ({config.cell}, {config.output} head) could not be "
                f"exported to ONNX: {type(e).__name__}: {str(e).splitlines()[0]}"
            ) from e
    proto = program.model_proto
    for key, value in _metadata(model, state).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    return Path(path)


def onnx_metadata(path: str | Path) -> dict[str, Any]:
    """Return the rnncast metadata of an exported file (JSON values decoded)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {
        p.key.removeprefix("rnncast."): json.loads(p.value)
        for p in proto.metadata_props
        if p.key.startswith("rnncast.")
    }


def _metadata(model: Any, state: Any) -> dict[str, str]:
    """Return what a service needs besides the graph, each value as JSON."""
    config = state.network.config
    about = {
        "version": __version__,
        "lookback": state.lookback,
        "horizon": config.horizon,
        "input_channels": config.input_size + int(config.multiplicative),
        "future_size": config.future_size,
        "quantiles": list(config.quantiles),
        "transform": state.transform,
        "scaler": model.scaler,
        "units": "scaled: y = inverse transform of (forecast * scale + loc), "
        "per series (Forecaster.scaler_for)",
        "not_included": [
            name
            for name, present in (
                (
                    f"the {state.mix.method} mix, weight {state.mix.weight}",
                    state.mix.method is not None,
                ),
                ("conformal interval offsets", state.calibration is not None),
                ("naive forecasts of series too short for the network", True),
            )
            if present
        ],
    }
    return {f"rnncast.{k}": json.dumps(v) for k, v in about.items()}
