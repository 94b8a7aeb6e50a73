"""The recurrent forecaster, one concern per module.

* ``estimator``: :class:`Forecaster`, the public face (parameters, fitted
  attributes, fit / predict / save / load);
* ``plan``: what a fit will do, decided from the parameters and the data's shape;
* ``reading``: the data a model reads (input frames, new history);
* ``features``: the network's input channels;
* ``fitting``: the fit's stages, returning a ``FittedState`` (``state``);
* ``predicting``: forecasts and intervals from a fitted state;
* ``files``: the model folder, with migrations of earlier formats.
"""

from rnncast.forecaster.estimator import Forecaster

__all__ = ["Forecaster"]
