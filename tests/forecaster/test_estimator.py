import json

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, as_version_1, rewrite_model
from rnncast import (
    ConfigError,
    DataError,
    Forecaster,
    ModelFileError,
    NotFittedError,
    SeasonalNaive,
)
from rnncast.evaluation.metrics import mase


@pytest.fixture(params=["lstm", "gru", "rnn"])
def cell(request):
    return request.param


def test_fit_returns_self_and_predict_gives_horizon_rows_per_series(air_panel, cell):
    model = Forecaster(horizon=6, cell=cell, **TINY)
    assert model.fit(air_panel) is model
    fc = model.predict()
    assert list(fc.columns) == ["unique_id", "ds", "yhat"]
    assert fc.groupby("unique_id").size().to_dict() == {
        "AirPassengers": 6,
        "recent": 6,
        "sqrt": 6,
    }
    first = fc[fc["unique_id"] == "AirPassengers"]["ds"]
    assert list(first) == list(pd.date_range("1961-01-01", periods=6, freq="MS"))
    assert np.isfinite(fc["yhat"]).all()


def test_predict_before_fit_names_the_next_step():
    with pytest.raises(NotFittedError, match=r"call fit\(data\) before predict\(\)"):
        Forecaster(horizon=3).predict()
    with pytest.raises(NotFittedError, match=r"before save\(\)"):
        Forecaster(horizon=3).save("x")


def test_parameters_and_input_frame_are_untouched(air):
    params = {"horizon": 4, "hidden": [8, 4], "epochs": 2, "lookback": None}
    model = Forecaster(**params)
    before = air.copy()
    model.fit(air)
    assert model.get_params() == {**Forecaster(horizon=4).get_params(), **params}
    pd.testing.assert_frame_equal(air, before)


def test_same_seed_same_forecast_other_seed_other_forecast(air, cell):
    a = (
        Forecaster(
            horizon=6, cell=cell, seed=7, dropout=0.2, **{**TINY, "hidden": (8, 8)}
        )
        .fit(air)
        .predict()
    )
    b = (
        Forecaster(
            horizon=6, cell=cell, seed=7, dropout=0.2, **{**TINY, "hidden": (8, 8)}
        )
        .fit(air)
        .predict()
    )
    c = (
        Forecaster(
            horizon=6, cell=cell, seed=8, dropout=0.2, **{**TINY, "hidden": (8, 8)}
        )
        .fit(air)
        .predict()
    )
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["yhat"], c["yhat"])


@pytest.mark.parametrize("output", ["direct", "recursive"])
def test_save_load_round_trip_is_exact(air_panel, tmp_path, cell, output):
    model = Forecaster(
        horizon=5, cell=cell, output=output, hidden=(8, 4), epochs=2
    ).fit(air_panel)
    model.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)
    assert loaded.get_params()["hidden"] == [8, 4]
    assert [r.train_loss for r in loaded.history_] == [
        r.train_loss for r in model.history_
    ]
    new_history = air_panel[air_panel["unique_id"] != "sqrt"].iloc[:-7]
    pd.testing.assert_frame_equal(
        loaded.predict(new_history), model.predict(new_history)
    )


def test_saved_folder_is_safetensors_and_json_only(air, tmp_path):
    Forecaster(horizon=3, **TINY).fit(air).save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json",
        "weights.safetensors",
    ]
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["params"]["seed"] == 0 and config["fitted"]["freq"] == "MS"
    assert config["rnncast_version"]


def test_saving_over_an_old_model_replaces_it(air, tmp_path):
    Forecaster(horizon=3, **TINY).fit(air).save(tmp_path / "m")
    newer = Forecaster(horizon=4, **TINY).fit(air)
    newer.save(tmp_path / "m")
    assert Forecaster.load(tmp_path / "m").horizon == 4
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folders left


def test_save_refuses_to_replace_a_folder_that_is_not_a_model(air, tmp_path):
    precious = tmp_path / "photos"
    precious.mkdir()
    (precious / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(ModelFileError, match="not an rnncast model folder"):
        Forecaster(horizon=3, **TINY).fit(air).save(precious)
    assert (precious / "cat.jpg").read_bytes() == b"meow"


@pytest.fixture
def saved(air, tmp_path):
    Forecaster(horizon=3, **TINY).fit(air).save(tmp_path / "m")
    return tmp_path / "m"


def test_load_missing_folder(tmp_path):
    with pytest.raises(ModelFileError, match="no model folder"):
        Forecaster.load(tmp_path / "nothing")


def test_load_missing_weights(saved):
    (saved / "weights.safetensors").unlink()
    with pytest.raises(ModelFileError, match=r"has no weights\.safetensors"):
        Forecaster.load(saved)


def test_load_damaged_weights(saved):
    weights = saved / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="does not match its checksum"):
        Forecaster.load(saved)


def test_load_damaged_config(saved):
    config = saved / "config.json"
    config.write_text(config.read_text()[:50])
    with pytest.raises(ModelFileError, match=r"config\.json .* is damaged"):
        Forecaster.load(saved)


def test_load_model_from_a_newer_format(saved):
    config = saved / "config.json"
    content = json.loads(config.read_text())
    content["format_version"] = 99
    content["rnncast_version"] = "9.0.0"
    config.write_text(json.dumps(content))
    with pytest.raises(
        ModelFileError, match=r"saved by rnncast '9\.0\.0' in format version 99"
    ):
        Forecaster.load(saved)


def test_load_config_naming_an_unknown_cell(saved):
    config = saved / "config.json"
    content = json.loads(config.read_text())
    content["fitted"]["network"]["cell"] = "os.system"
    config.write_text(json.dumps(content))
    with pytest.raises(ModelFileError, match=r"unknown cell 'os\.system'"):
        Forecaster.load(saved)


def test_a_model_saved_before_multiplicative_patterns_loads_as_additive(air, saved):
    # Files saved before multiplicative patterns existed have no "multiplicative"
    # key; their networks used additive seasonal patterns and read no scaled-zero
    # channel.
    assert Forecaster.load(saved).network_.config.multiplicative

    def before_multiplicative(config, tensors):
        as_version_1(config, tensors)
        del config["fitted"]["network"]["multiplicative"]
        del config["params"]["seasonal_pattern"]

    old = Forecaster.load(rewrite_model(saved, before_multiplicative))
    assert not old.network_.config.multiplicative
    x = old.network_inputs(old.context_, old.scaler_)
    assert x.shape[2] == old.network_.config.input_size  # value and flag only
    assert np.isfinite(old.predict()["yhat"]).all()


def test_load_weights_of_the_wrong_shape(saved):
    config = saved / "config.json"
    content = json.loads(config.read_text())
    content["fitted"]["network"]["hidden"] = [16]
    content["params"]["hidden"] = [16]
    config.write_text(json.dumps(content))
    with pytest.raises(ModelFileError, match="size mismatch"):
        Forecaster.load(saved)
    content["params"]["hidden"] = [8]  # params and network disagree
    config.write_text(json.dumps(content))
    with pytest.raises(ModelFileError, match="parameters and the saved network"):
        Forecaster.load(saved)


def test_series_too_short_names_series_and_lengths(air):
    short = pd.concat([air, air.head(20).assign(unique_id="AAPL")])
    with pytest.raises(
        DataError,
        match=r"1 series have fewer values than lookback=24 plus horizon=12 = 36: "
        r"'AAPL \(20\)'",
    ):
        Forecaster(horizon=12, lookback=24, missing="error", **TINY).fit(short)


def test_too_short_for_validation_suggests_turning_it_off(air):
    with pytest.raises(DataError, match=r"validation=False"):
        Forecaster(horizon=12, lookback=125, missing="error", **TINY).fit(air)
    assert Forecaster(horizon=12, lookback=125, **TINY).fit(air).masked_  # padded
    Forecaster(horizon=12, lookback=125, validation=False, **TINY).fit(air)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon must be a positive integer, got 0"),
        ({"horizon": -3}, "horizon must be a positive integer"),
        ({"horizon": 3, "lookback": 0}, "lookback must be a positive integer, got 0"),
        ({"horizon": 3, "cell": "transformer"}, "unknown cell 'transformer'"),
        ({"horizon": 3, "hidden": "128,64"}, "hidden must hold integers"),
        ({"horizon": 3, "scaler": "minmax"}, "unknown scaler"),
        ({"horizon": 3, "device": "tpu"}, "unknown device 'tpu'"),
        (
            {"horizon": 3, "season_length": 0},
            "season_length must be a positive integer",
        ),
    ],
    ids=[
        "horizon-0",
        "horizon-neg",
        "lookback",
        "cell",
        "hidden",
        "scaler",
        "device",
        "season",
    ],
)
def test_bad_parameters_are_reported_at_fit(air, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Forecaster(**{**TINY, **kwargs}).fit(air)


def test_fill_policy_lets_gappy_data_train(air):
    gappy = air.copy()
    gappy.loc[[30, 31, 90], "y"] = np.nan
    with pytest.raises(DataError, match="fill="):
        Forecaster(horizon=6, missing="error", **TINY).fit(gappy)
    assert Forecaster(horizon=6, **TINY).fit(gappy).masked_  # missing="auto"
    model = Forecaster(horizon=6, fill="interpolate", **TINY).fit(gappy)
    assert not model.masked_
    assert model.filled_ == {"AirPassengers": 3}
    assert np.isfinite(model.predict()["yhat"]).all()


def test_array_and_series_inputs(air):
    # an array has integer time (no season); give both the season of the series
    from_array = (
        Forecaster(horizon=4, lookback=24, season_length=12, **TINY)
        .fit(air["y"].to_numpy())
        .predict()
    )
    assert list(from_array["ds"]) == [144, 145, 146, 147]
    from_series = (
        Forecaster(horizon=4, lookback=24, season_length=12, **TINY)
        .fit(air.set_index("ds")["y"])
        .predict()
    )
    assert from_series["ds"].iloc[0] == pd.Timestamp("1961-01-01")
    np.testing.assert_array_equal(from_array["yhat"], from_series["yhat"])


def test_custom_columns_are_used_in_the_output(air):
    renamed = air.rename(columns={"unique_id": "ticker", "ds": "date", "y": "close"})
    fc = (
        Forecaster(
            horizon=2, id_col="ticker", time_col="date", target_col="close", **TINY
        )
        .fit(renamed)
        .predict()
    )
    assert list(fc.columns) == ["ticker", "date", "yhat"]


def test_no_data_after_the_origin_reaches_training(air):
    """Values in the validation holdout change neither scaler nor training windows.

    (Of the validated training: ``refit_full``, the default, then trains on them.)
    """
    model = Forecaster(horizon=12, refit_full=False, **TINY).fit(air)
    tampered = air.copy()
    tampered.loc[tampered.index[-12:], "y"] *= 100
    other = Forecaster(horizon=12, refit_full=False, **TINY).fit(tampered)
    np.testing.assert_array_equal(model.scaler_.loc, other.scaler_.loc)
    np.testing.assert_array_equal(model.scaler_.scale, other.scaler_.scale)
    # With the holdout changed only validation differs: epoch 1 trains identically.
    assert model.history_[0].train_loss == other.history_[0].train_loss
    assert model.history_[0].val_loss != other.history_[0].val_loss
    refitted = Forecaster(horizon=12, **TINY).fit(tampered)
    validated = [r for r in refitted.history_ if not r.refit]
    assert validated[0].train_loss == model.history_[0].train_loss
    assert not np.array_equal(refitted.scaler_.scale, model.scaler_.scale)


def test_forecast_from_a_cutoff_ignores_later_values(air):
    cutoff = air.iloc[:-24]
    fc = Forecaster(horizon=12, validation=False, **TINY).fit(cutoff).predict()
    changed = pd.concat([cutoff, air.iloc[-24:].assign(y=0.0)])
    model = Forecaster(horizon=12, validation=False, **TINY).fit(changed.iloc[:-24])
    pd.testing.assert_frame_equal(model.predict(), fc)


def test_new_series_are_scaled_by_their_own_history(air):
    model = Forecaster(horizon=3, scaler="standard", **TINY).fit(air)
    as_new = model.predict(air.assign(unique_id="new"))["yhat"].to_numpy()
    doubled = model.predict(air.assign(unique_id="double", y=air["y"] * 2))["yhat"]
    # Scaled by its own statistics, a new series' forecast follows its unit.
    np.testing.assert_allclose(doubled, 2 * as_new, rtol=1e-9)
    # A known series keeps the statistics fitted on its training part instead
    # (the whole series, with refit_full): from a shorter history they differ.
    shorter = air.iloc[:-30]
    known = model.predict(shorter)["yhat"].to_numpy()
    new = model.predict(shorter.assign(unique_id="new"))["yhat"].to_numpy()
    assert not np.allclose(known, new)
    np.testing.assert_allclose(model.predict(air)["yhat"], as_new, rtol=1e-9)


def test_lstm_beats_seasonal_naive_on_a_real_held_out_year(air):
    train, test = air.iloc[:-12], air.iloc[-12:]
    snaive = SeasonalNaive(horizon=12).fit(train).predict()["snaive"]
    lstm = (
        Forecaster(horizon=12, cell="lstm", lookback=36, epochs=200, seed=0)
        .fit(train)
        .predict()["yhat"]
    )
    score_lstm = mase(test["y"], lstm, train["y"], 12)
    score_snaive = mase(test["y"], snaive, train["y"], 12)
    assert score_lstm < score_snaive
    assert score_snaive == pytest.approx(1.5709, abs=1e-4)


def test_repr_shows_changed_parameters():
    assert (
        repr(Forecaster(horizon=12, cell="gru")) == "Forecaster(horizon=12, cell='gru')"
    )


def test_extreme_magnitudes_train_or_fail_with_our_error(air):
    huge = air.assign(y=air["y"] * 1e300)
    try:
        fc = Forecaster(horizon=3, **TINY).fit(huge).predict()
    except DataError as e:
        assert "overflowed" in str(e) or "diverged" in str(e)
    else:
        assert np.isfinite(fc["yhat"]).all()
    tiny = air.assign(y=air["y"] * 1e-300)
    fc = Forecaster(horizon=3, **TINY).fit(tiny).predict()
    assert np.isfinite(fc["yhat"]).all() and (fc["yhat"].abs() < 1e-290).all()


def test_values_beyond_float32_after_scaling_name_the_series(air):
    tiny = air.assign(unique_id="tiny", y=air["y"] * 1e-30)
    tiny.loc[tiny.index[-1], "y"] = 1e300  # in the holdout, unseen by the scaler
    with pytest.raises(DataError, match="series 'tiny' spans too many orders"):
        Forecaster(horizon=6, **TINY).fit(pd.concat([air, tiny]))


# ------------------------------------------------ scikit-learn's contract
def test_clone_of_an_unfitted_forecaster_has_the_same_parameters():
    from sklearn.base import clone

    model = Forecaster(horizon=6, cell="gru", hidden=(32, 16), combine="none")
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    assert model.get_params(deep=True) == model.get_params(deep=False)


def test_clone_of_a_fitted_forecaster_is_unfitted_and_fits_the_same(air):
    from sklearn.base import clone

    model = Forecaster(horizon=6, **TINY).fit(air)
    copy = clone(model)
    assert not hasattr(copy, "fitted_") and not hasattr(copy, "network_")
    with pytest.raises(NotFittedError, match="before predict"):
        copy.predict()
    pd.testing.assert_frame_equal(copy.fit(air).predict(), model.predict())


def test_set_params_changes_parameters_and_refuses_unknown_ones():
    model = Forecaster(horizon=6)
    assert model.set_params(cell="rnn", epochs=3) is model
    assert (model.cell, model.epochs) == ("rnn", 3)
    with pytest.raises(ConfigError, match="invalid parameter 'cells' for Forecaster"):
        model.set_params(cells="rnn")
    with pytest.raises(TypeError, match="unexpected keyword argument 'cells'"):
        Forecaster(cells="rnn")


def test_the_signature_lists_every_parameter_keyword_only():
    import inspect

    from rnncast.options import options

    parameters = inspect.signature(Forecaster).parameters
    assert list(parameters) == [option.name for option in options()]
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters.values())
    assert parameters["window_level"].default == "auto"


def test_level_is_the_old_name_of_window_level_and_warns():
    with pytest.warns(DeprecationWarning, match="level= is deprecated.*window_level="):
        model = Forecaster(horizon=6, level="last")
    assert model.window_level == "last" and "level" not in model.get_params()
    with pytest.warns(DeprecationWarning):
        model.set_params(level="season")
    assert model.window_level == "season"
    with pytest.raises(TypeError, match="both level= and its new name"):
        Forecaster(horizon=6, level="last", window_level="last")


def test_the_old_fitted_attribute_names_warn_and_read_the_new(air):
    model = Forecaster(horizon=6, **TINY).fit(air)
    with pytest.warns(DeprecationWarning, match="level_ is deprecated"):
        assert model.level_ == model.window_level_ == "detect"
    with pytest.warns(DeprecationWarning, match="level_scores_ is deprecated"):
        assert model.level_scores_ == model.window_level_scores_


def test_fitted_attributes_are_read_only_views_of_the_state(air):
    model = Forecaster(horizon=6, **TINY).fit(air)
    assert model.network_ is model.fitted_.network
    assert model.scaler_ is model.fitted_.series.scaler
    with pytest.raises(AttributeError, match="read from the fitted state"):
        model.network_ = None
    with pytest.raises(NotFittedError, match=r"before reading scaler_"):
        Forecaster(horizon=6).scaler_  # noqa: B018 - the read is the test


def test_predict_leaves_the_fitted_state_as_it_was(air):
    model = Forecaster(horizon=6, intervals="conformal", **TINY).fit(air)
    state, attributes = model.fitted_, dict(vars(model))
    forecast = model.predict(level=[80])
    model.predict(air.assign(unique_id="new"), level=[95])
    assert model.fitted_ is state and vars(model) == attributes
    assert forecast.attrs["interval_method"]  # how the bounds were made


def test_horizon_is_required_at_fit(air):
    with pytest.raises(ConfigError, match="horizon is required"):
        Forecaster().fit(air)


def test_alias_names_the_forecast_column(air):
    model = Forecaster(horizon=3, alias="net", intervals="conformal", **TINY).fit(air)
    forecast = model.predict(level=[80])
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "net",
        "net-lo-80",
        "net-hi-80",
    ]
    assert model.name == "net" and Forecaster(cell="gru").name == "gru"
    assert Forecaster(combine="none").name == "lstm+none"
