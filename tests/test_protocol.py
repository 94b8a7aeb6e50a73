"""Every model follows one protocol, so backtests need no special cases."""

import pytest

from rnncast import Forecaster
from rnncast.baselines import BASELINES
from rnncast.protocol import ForecastingModel, clone, differing_params

MODELS = [
    Forecaster(horizon=3, cell="gru"),
    *(cls(horizon=3) for cls in BASELINES.values()),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_every_model_follows_the_protocol_and_clones(model):
    assert isinstance(model, ForecastingModel)
    copy = clone(model)
    assert type(copy) is type(model) and copy is not model
    assert copy.get_params() == model.get_params()
    assert copy.set_params(horizon=5) is copy and copy.horizon == 5
    assert model.horizon == 3


def test_differing_params_name_what_was_changed():
    model = Forecaster(horizon=3, hidden=(8,), epochs=2)
    assert differing_params(model) == "horizon=3, hidden=(8,), epochs=2"
    assert differing_params(model, ignored=("horizon",)) == "hidden=(8,), epochs=2"
    assert differing_params(Forecaster()) == ""
