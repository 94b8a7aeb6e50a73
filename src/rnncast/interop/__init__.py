"""rnncast's networks and other tools' formats (extras ``onnx``, ``keras``).

:func:`export_onnx` writes a fitted network as an ONNX graph that onnxruntime
runs alone (docs/serving.md says what it holds and what it leaves out);
:func:`~rnncast.interop.keras.keras_network` reads a Keras recurrent model as
the rnncast network that computes the same, and
:func:`~rnncast.interop.keras.save_keras` writes any rnncast network as a
``.keras`` file (docs/interop.md).
"""

from rnncast.interop.onnx import export_onnx, onnx_metadata

__all__ = ["export_onnx", "onnx_metadata"]
