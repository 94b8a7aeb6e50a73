"""Model folders: earlier versions load, hostile or interrupted ones are refused.

Folders saved by rnncast 0.1.0 (tests/fixtures/model-0.1.0) load and predict what
0.1.0 predicted; damaged, altered or hostile folders are refused with a clear error
and nothing in them runs; a killed save leaves the old model loadable.
"""

import hashlib
import importlib.util
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import TINY
from rnncast import Forecaster, ModelFileError
from rnncast.baselines import Baseline, SeasonalNaive

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "model-0.1.0"
SAVED_BY_0_1_0 = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def _fixture_data(air):
    """The data of the 0.1.0 folders, from the script that made them."""
    spec = importlib.util.spec_from_file_location(
        "make_fixtures", FIXTURES / "make_fixtures.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script.fixture_data(air)


def _expected(path: Path) -> pd.DataFrame:
    return pd.read_csv(
        path,
        parse_dates=["ds"],
        dtype={"unique_id": object},
        float_precision="round_trip",  # the exact floats written
    )


@pytest.mark.parametrize("name", SAVED_BY_0_1_0)
def test_folders_saved_by_0_1_0_load_and_predict_the_same_numbers(air, name):
    assert len(SAVED_BY_0_1_0) == 6
    folder = FIXTURES / name
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == 1 and config["rnncast_version"] == "0.1.0"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an old keyword must not warn on load
        model = Forecaster.load(folder)
    expected = _expected(folder / "forecast.csv")
    lows = [c.removeprefix("yhat-lo-") for c in expected if c.startswith("yhat-lo-")]
    level = sorted(float(v) for v in lows) or None
    pd.testing.assert_frame_equal(
        model.predict(level=level), expected, check_exact=True
    )
    panel, gappy, new = _fixture_data(air)
    data = gappy if model.missing == "mask" else panel
    history = pd.concat([data[data["unique_id"] != "recent"], new], ignore_index=True)
    if model.missing != "mask":
        history = history.dropna()
    pd.testing.assert_frame_equal(
        model.predict(history, level=level),
        _expected(folder / "forecast_new.csv"),
        check_exact=True,
    )


def test_a_0_1_0_folder_reads_level_as_window_level_and_pins_old_defaults(air):
    model = Forecaster.load(FIXTURES / "cqr-masked-season-inputs")
    assert model.window_level == "snaive" and model.window_level_ == "snaive"
    assert "level" not in model.get_params()
    # parameters added since keep their defaults, and round-trip as current files
    assert model.alias is None
    # it was trained on every window of every epoch, without a time limit
    assert model.windows_per_epoch is None and model.time_limit is None


def test_a_0_2_0_folder_says_it_trained_on_every_window(air, tmp_path):
    from conftest import rewrite_model

    model = Forecaster(horizon=3, **TINY).fit(air)
    model.save(tmp_path / "m")

    def as_version_2(config, tensors):
        config["format_version"] = 2
        config["rnncast_version"] = "0.2.0"
        params = config["params"]
        del params["windows_per_epoch"], params["time_limit"], params["max_steps"]

    old = Forecaster.load(rewrite_model(tmp_path / "m", as_version_2))
    assert old.windows_per_epoch is None and old.time_limit is None
    assert old.max_steps is None and model.max_steps == 2000
    pd.testing.assert_frame_equal(old.predict(), model.predict(), check_exact=True)


def test_a_saved_0_1_0_folder_saves_again_in_the_current_format(air, tmp_path):
    model = Forecaster.load(FIXTURES / "defaults")
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["format_version"] == 3 and "window_level" in config["params"]
    again = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(again.predict(), model.predict(), check_exact=True)


def test_save_into_an_existing_empty_folder(air, tmp_path):
    model = Forecaster(horizon=3, **TINY).fit(air)
    empty = tmp_path / "empty"
    empty.mkdir()
    model.save(empty)
    pd.testing.assert_frame_equal(Forecaster.load(empty).predict(), model.predict())


def test_all_model_files_share_one_mode(air, tmp_path):
    old = os.umask(0o022)
    try:
        Forecaster(horizon=3, **TINY).fit(air).save(tmp_path / "m")
    finally:
        os.umask(old)
    modes = {
        stat.S_IMODE((tmp_path / "m" / name).stat().st_mode)
        for name in ("config.json", "weights.safetensors")
    }
    assert modes == {0o644}


@pytest.fixture
def saved(air, tmp_path):
    Forecaster(horizon=3, **TINY).fit(air).save(tmp_path / "m")
    return tmp_path / "m"


def _rewrite_weights(folder, data: bytes) -> None:
    """Replace the weights and fix the checksum, as an attacker would."""
    (folder / "weights.safetensors").write_bytes(data)
    config = json.loads((folder / "config.json").read_text())
    config["weights_sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "config.json").write_text(json.dumps(config))


class _Payload:
    """Unpickling this object would create the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_disguised_as_weights_is_refused_and_never_run(saved, tmp_path):
    marker = tmp_path / "pwned"
    _rewrite_weights(saved, pickle.dumps({"network.head.weight": _Payload(marker)}))
    with pytest.raises(ModelFileError, match=r"weights\.safetensors .* is damaged"):
        Forecaster.load(saved)
    assert not marker.exists()


def test_torch_save_file_disguised_as_weights_is_refused(saved, tmp_path):
    path = tmp_path / "torch.pt"
    torch.save({"network.head.weight": torch.zeros(3, 8)}, path)
    _rewrite_weights(saved, path.read_bytes())
    with pytest.raises(ModelFileError, match="is damaged"):
        Forecaster.load(saved)


def test_tensors_of_the_wrong_shape_are_refused(saved, tmp_path):
    tensors = load_file(saved / "weights.safetensors")
    tensors["context"] = torch.zeros(5, 2, dtype=torch.float64)
    path = tmp_path / "w.safetensors"
    save_file(tensors, path)
    _rewrite_weights(saved, path.read_bytes())
    with pytest.raises(ModelFileError, match="array shapes disagree"):
        Forecaster.load(saved)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("params", "__class__", "os.system"),
        ("params", "cell", "__import__('os').system('touch pwned')"),
        ("fitted", "network", {"cell": "lstm", "_target_": "os.system"}),
        ("params", "missing", "eval"),
    ],
)
def test_config_naming_unknown_classes_or_settings_is_refused(
    saved, section, key, value, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    config = json.loads((saved / "config.json").read_text())
    if section == "fitted" and key == "network":
        config["fitted"]["network"].update(value)
    else:
        config[section][key] = value
    (saved / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="do not fit this rnncast"):
        Forecaster.load(saved)
    assert not (tmp_path / "pwned").exists()


def test_baseline_file_naming_an_unknown_model_is_refused(air, tmp_path):
    path = tmp_path / "b.json"
    SeasonalNaive(horizon=3).fit(air).save(path)
    content = json.loads(path.read_text())
    content["model"] = "os.system"
    path.write_text(json.dumps(content))
    with pytest.raises(ModelFileError):
        Baseline.load(path)


# ------------------------------------------------------ interrupted saves
_SAVER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import rnncast.forecaster.files as files, rnncast.io
    from rnncast import Forecaster
    from rnncast.datasets import load_air_passengers

    folder, marker, stage = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

    def stop_here():
        marker.touch()
        time.sleep(120)  # killed by the test meanwhile

    if stage == "weights":  # half-way through writing the new weights
        real_save = files.save_file
        def save_file(tensors, path):
            real_save(tensors, path)
            with open(path, "r+b") as f:
                f.truncate(100)
            stop_here()
        files.save_file = save_file
    elif stage == "swap":  # new folder complete, not yet moved into place
        def replace(build, target):
            stop_here()
        files.atomic_replace_dir = replace
    elif stage == "aside":  # no atomic swap: old folder moved aside, new not in
        sys.platform = "other"  # where folders cannot be swapped atomically
        real_os_replace = rnncast.io.os.replace
        calls = []
        def os_replace(src, dst):
            real_os_replace(src, dst)
            calls.append(dst)
            if len(calls) == 1:
                stop_here()
        rnncast.io.os.replace = os_replace
    model = Forecaster(horizon=3, hidden=(4,), epochs=1, seed=1)
    model.fit(load_air_passengers()).save(folder)
    """
)


@pytest.mark.parametrize("stage", ["weights", "swap", "aside"])
def test_killing_a_save_leaves_the_old_model_loadable(air, saved, tmp_path, stage):
    before = Forecaster.load(saved).predict()
    marker = tmp_path / "reached"
    child = subprocess.Popen(
        [sys.executable, "-c", _SAVER, str(saved), str(marker), stage],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the saving process ended before the kill"
            assert time.monotonic() < deadline, "the saving process never got there"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    pd.testing.assert_frame_equal(Forecaster.load(saved).predict(), before)
    if stage == "aside":
        assert not saved.exists()  # the old model waits beside it, and is read there
    newer = Forecaster(horizon=3, **{**TINY, "seed": 7}).fit(air)
    newer.save(saved)  # the next save goes through
    pd.testing.assert_frame_equal(Forecaster.load(saved).predict(), newer.predict())
