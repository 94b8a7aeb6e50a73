"""rnncast's networks in the formats other tools read (extra ``rnncast[onnx]``).

:func:`export_onnx` writes a fitted network as an ONNX graph that onnxruntime
runs alone (docs/serving.md says what it holds and what it leaves out).
"""

from rnncast.interop.onnx import export_onnx, onnx_metadata

__all__ = ["export_onnx", "onnx_metadata"]
