"""refit_full: after validation, each network continues on whole series."""

import numpy as np
import pandas as pd
import torch

from conftest import TINY
from rnncast import Forecaster
from rnncast.forecaster.members import refit_epochs

# Enough epochs that the best one is a choice, few enough to stay quick; the
# network alone (a mix without validation would take equal weights).
SETTINGS = {**TINY, "horizon": 6, "epochs": 6, "patience": 6, "seed": 3}
SETTINGS["combine"] = "none"


def _losses(records):
    return [(r.epoch, r.train_loss, r.val_loss, r.learning_rate) for r in records]


def _best_epoch(records) -> int:
    losses = [r.val_loss for r in records]
    return 1 + int(np.argmin(losses))  # argmin: the first of equal losses


def _recording_trainings(monkeypatch):
    """Record each training's starting weights and config (members.train)."""
    from rnncast.forecaster import members

    calls = []
    original = members.train

    def record(network, *args, config, **kwargs):
        start = {k: v.clone() for k, v in network.state_dict().items()}
        calls.append((start, config))
        return original(network, *args, config=config, **kwargs)

    monkeypatch.setattr(members, "train", record)
    return calls


def test_the_refit_continues_the_validated_network_on_whole_series(
    air_panel, monkeypatch
):
    validated = Forecaster(**SETTINGS, refit_full=False).fit(air_panel)
    best = _best_epoch(validated.history_)
    calls = _recording_trainings(monkeypatch)
    refitted = Forecaster(**SETTINGS).fit(air_panel)  # refit_full: the default

    first = [r for r in refitted.history_ if not r.refit]
    second = [r for r in refitted.history_ if r.refit]
    assert _losses(first) == _losses(validated.history_)
    # a quarter of the best epochs, at the learning rate the best one left
    assert [r.epoch for r in second] == list(range(1, refit_epochs(best) + 1))
    assert refit_epochs(best) == max(1, -(-best // 4))
    assert all(r.val_loss is None for r in second)
    assert calls[1][1].learning_rate == first[best - 1].learning_rate
    # from the validated network's best weights
    assert len(calls) == 2
    for name, weights in validated.network_.state_dict().items():
        torch.testing.assert_close(calls[1][0][name], weights, rtol=0, atol=0)
    # on every window, with the scaler fitted on whole series
    whole = Forecaster(**SETTINGS, validation=False).fit(air_panel)
    assert refitted.n_train_windows_ == whole.n_train_windows_
    assert refitted.n_train_windows_ > validated.n_train_windows_
    np.testing.assert_array_equal(refitted.scaler_.scale, whole.scaler_.scale)
    assert not np.allclose(refitted.scaler_.scale, validated.scaler_.scale)
    assert not np.allclose(refitted.predict()["yhat"], validated.predict()["yhat"])


def test_each_ensemble_member_continues_from_its_own_best_epoch(air_panel, monkeypatch):
    settings = {**SETTINGS, "horizon": 4, "ensemble": 2, "lookback": [12, 24]}
    validated = Forecaster(**settings, refit_full=False).fit(air_panel)
    calls = _recording_trainings(monkeypatch)
    model = Forecaster(**settings, refit_full=True).fit(air_panel)
    assert len(calls) == 4  # two members, then their two refits
    for member in (0, 1):
        mine = [r for r in model.history_ if r.member == member]
        first = [r for r in mine if not r.refit]
        second = [r for r in mine if r.refit]
        epochs = refit_epochs(_best_epoch(first))
        assert [r.epoch for r in second] == list(range(1, epochs + 1)), member
        start = calls[2 + member][0]
        best = validated.network_.members[member].state_dict()
        for name, weights in best.items():
            torch.testing.assert_close(start[name], weights, rtol=0, atol=0)
    assert model.network_.lookbacks == (12, 24)


def test_conformal_intervals_keep_the_validated_errors(air_panel):
    settings = {**SETTINGS, "intervals": "conformal"}
    validated = Forecaster(**settings, refit_full=False).fit(air_panel)
    refitted = Forecaster(**settings, refit_full=True).fit(air_panel)
    np.testing.assert_array_equal(
        refitted.conformal_scores_, validated.conformal_scores_
    )
    assert refitted.validation_windows_ == validated.validation_windows_
    fc = refitted.predict(level=[80, 95])
    order = ["yhat-lo-95", "yhat-lo-80", "yhat", "yhat-hi-80", "yhat-hi-95"]
    values = fc[order].to_numpy()
    assert np.isfinite(values).all()
    assert (np.diff(values, axis=1) >= 0).all()
    assert (values[:, -1] > values[:, 0]).all()


def test_refitted_model_round_trips_through_save_and_load(air_panel, tmp_path):
    model = Forecaster(**SETTINGS, refit_full=True).fit(air_panel)
    model.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.history_ == model.history_
    assert loaded.refit_full is True
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_without_validation_there_is_nothing_to_refit(air):
    plain = Forecaster(**SETTINGS, validation=False).fit(air)
    asked = Forecaster(**SETTINGS, validation=False, refit_full=True).fit(air)
    assert _losses(asked.history_) == _losses(plain.history_)
    assert not any(r.refit for r in asked.history_)
    pd.testing.assert_frame_equal(asked.predict(), plain.predict())


def test_a_series_too_short_for_validated_windows_is_padded_in_both_trainings(air):
    short = air.tail(20).assign(unique_id="short")  # 12 + 6 + 6 - 1 values needed
    panel = pd.concat([air, short], ignore_index=True)
    model = Forecaster(**SETTINGS, lookback=12, missing="mask", refit_full=True)
    model.fit(panel)
    fc = model.predict()
    assert fc.groupby("unique_id").size().to_dict() == {"AirPassengers": 6, "short": 6}
    assert np.isfinite(fc["yhat"]).all()


def test_a_time_limit_is_shared_by_every_training_of_the_fit(air_panel, monkeypatch):
    from rnncast.forecaster import members

    limits = []
    original = members.train

    def record(*args, config, **kwargs):
        limits.append(config.time_limit)
        return original(*args, config=config, **kwargs)

    monkeypatch.setattr(members, "train", record)
    model = Forecaster(**{**SETTINGS, "ensemble": 2}, time_limit=60.0).fit(air_panel)
    # two members, then their two refits: the first gets a quarter of the time,
    # the next a third of what is left, ...
    assert len(limits) == 4
    assert 14.0 < limits[0] <= 15.0
    assert limits[0] < 60.0 / 4 + 1e-9
    for share, left in zip(limits, (4, 3, 2, 1), strict=True):
        assert share * left <= 60.0
    assert model.get_params()["time_limit"] == 60.0


def test_a_fit_out_of_time_keeps_one_step_of_each_training(air_panel):
    model = Forecaster(**SETTINGS, time_limit=1e-9).fit(air_panel)
    first = [r for r in model.history_ if not r.refit]
    second = [r for r in model.history_ if r.refit]
    assert len(first) == len(second) == 1
    assert np.isfinite(model.predict()["yhat"]).all()
