"""Hostile and interrupted model folders: refused with a clear error, nothing runs."""

import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import TINY
from rnncast import Forecaster, ModelFileError
from rnncast.baselines import Baseline, SeasonalNaive


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
