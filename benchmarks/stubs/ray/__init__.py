"""Stand-in for Ray, only so that NeuralForecast imports where Ray cannot travel.

NeuralForecast imports Ray at start-up for its Auto* tuners, which peers.py never
uses; Ray's wheel (about 70 MB) is too large to carry to a lent GPU machine, so
benchmarks/gpu_check.sh puts this folder on PYTHONPATH there. Never used on the CPU
machine, where benchmarks/requirements.txt installs the real Ray.
"""

from ray import air, tune

__all__ = ["air", "tune"]
