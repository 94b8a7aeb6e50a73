"""Stand-in for Ray, only so that NeuralForecast imports where Ray cannot travel.

NeuralForecast imports Ray at start-up for its Auto* tuners, which peers.py never
uses; where the peers come as wheels without Ray (about 70 MB), for a GPU machine
without a network, benchmarks/gpu_check.sh puts this folder on PYTHONPATH. Never
used where benchmarks/requirements.txt installs the real Ray.
"""

from ray import air, tune

__all__ = ["air", "tune"]
