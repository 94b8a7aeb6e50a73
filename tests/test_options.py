"""Every parameter, declared once, reaches the signature, CLI, model file and docs."""

import json
import re
from pathlib import Path

import pytest

from conftest import TINY
from rnncast import ConfigError, Forecaster
from rnncast.cli import build_parser
from rnncast.cli.arguments import forecaster_params
from rnncast.options import ForecasterParams, options

ROOT = Path(__file__).resolve().parents[1]
NAMES = [option.name for option in options()]

# a value other than the default for every parameter, and the flags that give it
NON_DEFAULT = {
    "horizon": (["--horizon", "5"], 5),
    "cell": (["--cell", "gru"], "gru"),
    "lookback": (["--lookback", "24,36"], (24, 36)),
    "hidden": (["--hidden", "8,4"], (8, 4)),
    "dilations": (["--dilations", "1,4"], (1, 4)),
    "dropout": (["--dropout", "0.1"], 0.1),
    "output": (["--output-mode", "recursive"], "recursive"),
    "window_level": (["--window-level", "last"], "last"),
    "seasonal_pattern": (["--seasonal-pattern", "additive"], "additive"),
    "transform": (["--transform", "log"], "log"),
    "scaler": (["--scaler", "robust"], "robust"),
    "season_inputs": (["--season-inputs"], True),
    "ensemble": (["--ensemble", "2"], 2),
    "combine": (["--combine", "none"], "none"),
    "alias": (["--alias", "net"], "net"),
    "loss": (["--loss", "huber"], "huber"),
    "epochs": (["--epochs", "7"], 7),
    "batch_size": (["--batch-size", "32"], 32),
    "learning_rate": (["--learning-rate", "0.01"], 0.01),
    "clip_norm": (["--clip-norm", "0"], None),
    "patience": (["--patience", "3"], 3),
    "max_steps": (["--max-steps", "9"], 9),
    "windows_per_epoch": (["--windows-per-epoch", "512"], 512),
    "time_limit": (["--fit-time-limit", "30"], 30.0),
    "validation": (["--no-validation"], False),
    "validation_windows": (["--validation-windows", "2"], 2),
    "refit_full": (["--no-refit-full"], False),
    "seed": (["--seed", "5"], 5),
    "init_weights": (["--init-weights", "model.keras"], "model.keras"),
    "intervals": (["--intervals", "cqr"], "cqr"),
    "levels": (["--level", "90", "50"], (90.0, 50.0)),
    "conformal_errors": (["--conformal-errors", "absolute"], "absolute"),
    "conformal_unit": (["--conformal-unit", "seasonal"], "seasonal"),
    "conformal_per_series": (["--conformal-per-series"], True),
    "fill": (["--fill", "ffill"], "ffill"),
    "missing": (["--missing", "mask"], "mask"),
    "resample": (["--resample", "5min"], "5min"),
    "aggregation": (["--aggregation", "sum"], "sum"),
    "max_gap": (["--max-gap", "2"], 2),
    "freq": (["--freq", "7"], 7),
    "season_length": (["--season-length", "24,168"], (24, 168)),
    "id_col": (["--id-col", "store"], "store"),
    "time_col": (["--time-col", "date"], "date"),
    "target_col": (["--target-col", "sales"], "sales"),
    "futr_exog": (["--futr-exog", "price,promo"], ("price", "promo")),
    "hist_exog": (["--hist-exog", "temp"], ("temp",)),
    "stat_exog": (["--stat-exog", "region"], ("region",)),
    "calendar": (["--calendar"], True),
    "holidays": (["--holidays", "US"], "US"),
    "device": (["--device", "cpu"], "cpu"),
    "cuda_graphs": (["--no-cuda-graphs"], False),
    "progress": (["--quiet"], False),
}


def _forecast_args(*flags: str):
    return build_parser().parse_args(["forecast", "data.csv", "-o", "fc.csv", *flags])


def test_every_parameter_has_a_flag_that_reaches_it():
    assert sorted(NON_DEFAULT) == sorted(NAMES)
    flags = [flag for given, _ in NON_DEFAULT.values() for flag in given]
    params = forecaster_params(_forecast_args(*flags))
    defaults = forecaster_params(_forecast_args("--horizon", "6"))
    assert sorted(params) == sorted(defaults) == sorted(NAMES)
    for name, (_, value) in NON_DEFAULT.items():
        assert params[name] == value != defaults[name], name


def test_a_limit_flag_lifts_its_limit_with_none():
    params = forecaster_params(
        _forecast_args(
            "--horizon", "6", "--max-steps", "9", "--windows-per-epoch", "None"
        )
    )
    assert params["max_steps"] == 9 and params["windows_per_epoch"] is None
    unlimited = forecaster_params(
        _forecast_args("--horizon", "6", "--max-steps", "none")
    )
    assert unlimited["max_steps"] is None
    with pytest.raises(SystemExit):
        _forecast_args("--horizon", "6", "--max-steps", "0")


def test_the_flags_defaults_are_the_parameters_defaults():
    params = forecaster_params(_forecast_args("--horizon", "6"))
    defaults = Forecaster(horizon=6).get_params()
    # what the command line changes on purpose: a progress bar unless --quiet
    assert params == {**defaults, "progress": True}


def test_levels_on_the_command_line_need_no_intervals_flag():
    assert forecaster_params(_forecast_args("--horizon", "6"))["intervals"] == "auto"
    given = forecaster_params(_forecast_args("--horizon", "6", "--level", "80"))
    assert given["intervals"] == "auto" and given["levels"] == (80.0,)
    heads = _forecast_args("--horizon", "6", "--intervals", "quantile")
    assert forecaster_params(heads)["intervals"] == "quantile"


def test_every_parameter_reaches_the_model_file_and_back(air, tmp_path):
    settings = {
        **TINY,
        "horizon": 3,
        "cell": "gru",
        "lookback": (24, 30),
        "hidden": (8, 4),
        "dropout": 0.1,
        "window_level": "last",
        "seasonal_pattern": "additive",
        "transform": "log",
        "scaler": "robust",
        "season_inputs": True,
        "ensemble": 2,
        "combine": "theta+damped",
        "alias": "net",
        "loss": "huber",
        "batch_size": 32,
        "learning_rate": 0.01,
        "clip_norm": None,
        "patience": 3,
        "max_steps": 9,
        "validation_windows": 2,
        "refit_full": False,
        "seed": 5,
        "intervals": "conformal",
        "levels": (90,),
        "conformal_errors": "absolute",
        "conformal_unit": "seasonal",
        "conformal_per_series": True,
        "fill": "interpolate",
        "resample": "MS",
        "aggregation": "sum",
        "max_gap": 1,
        "freq": "MS",
        "season_length": 12,
        "cuda_graphs": False,
    }
    model = Forecaster(**settings).fit(air)
    model.save(tmp_path / "m")
    saved = json.loads((tmp_path / "m" / "config.json").read_text())["params"]
    assert sorted(saved) == sorted(NAMES)
    loaded = Forecaster.load(tmp_path / "m")
    as_saved = json.loads(json.dumps(model.get_params()))  # tuples become lists
    assert loaded.get_params() == {**as_saved, "device": "cpu"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cell": "transformer"}, "unknown cell 'transformer'"),
        ({"dropout": 1.5}, r"dropout must be in \[0, 1\), got 1.5"),
        ({"learning_rate": 0}, "learning_rate must be > 0"),
        ({"max_gap": -1}, "max_gap must be an integer >= 0"),
        ({"alias": ""}, "alias must be a non-empty string"),
        ({"levels": (80, 120)}, r"levels are percentages in \(0, 100\)"),
        ({"missing": "mask", "fill": "ffill"}, "cannot be combined with fill"),
        ({"intervals": "conformal", "validation": False}, "use validation=True"),
        ({"intervals": "cqr", "levels": ()}, "needs levels"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_validate_names_the_bad_value(params, message):
    with pytest.raises(ConfigError, match=message):
        ForecasterParams(horizon=6, **params).validate()


def test_docs_explain_every_parameter():
    doc = (ROOT / "docs" / "parameters.md").read_text()
    documented = re.findall(r"^### `(\w+)`", doc, flags=re.MULTILINE)
    assert documented == NAMES  # every one, once, in signature order
