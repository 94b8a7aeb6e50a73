"""Data-parallel training (DistributedDataParallel, gloo) against one process.

Two processes started here (torch.multiprocessing, no Ray needed), each holding
a consecutive block of the series: in float64 the weights after training equal
one process's to 1e-10 (only the order of sums differs), and a default fit's
forecasts, mix weight, epochs and calibration equal one process's.
"""

import os
import shutil
import socket

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from rnncast import Forecaster
from rnncast.collective import ProcessGroup
from rnncast.data.windows import training_starts, validation_starts
from rnncast.forecaster.fitting import fit_state
from rnncast.forecaster.parts import merged_state
from rnncast.forecaster.predicting import forecast
from rnncast.forecaster.reading import read_series
from rnncast.models.networks import NetworkConfig, RecurrentNetwork
from rnncast.training import TrainConfig, seed_everything, train

LOOKBACK, HORIZON = 8, 3
SETTINGS = {"horizon": 4, "epochs": 3, "hidden": (8,), "seed": 0, "progress": False}


def _series(n_series, gaps=False):
    rng = np.random.default_rng(1)
    lengths = 20 + rng.integers(0, 15, n_series)
    values = [
        np.sin(np.arange(n) / 2.0 + i) + rng.normal(0, 0.1, n)
        for i, n in enumerate(lengths)
    ]
    if gaps:
        for v in values:
            v[rng.integers(0, len(v), 3)] = np.nan
    return values


def _train(values, config, masked, collective=None):
    """Train one network on ``values`` (a list of series), float64; its weights."""
    flat = np.concatenate(values)
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in values])])
    starts = training_starts(offsets, LOOKBACK, HORIZON, 2)
    val = validation_starts(offsets, LOOKBACK, HORIZON, 2)
    generator = seed_everything(0)
    network_config = NetworkConfig(
        input_size=2 if masked else 1, hidden=(6,), horizon=HORIZON
    )
    network = RecurrentNetwork(network_config).double()
    kwargs = {} if collective is None else {"collective": collective}
    history = train(
        network,
        torch.as_tensor(flat),
        torch.as_tensor(starts),
        torch.as_tensor(val),
        lookback=LOOKBACK,
        horizon=HORIZON,
        config=config,
        generator=generator,
        masked=masked,
        **kwargs,
    )
    weights = {k: v.numpy().copy() for k, v in network.state_dict().items()}
    return weights, [(r.epoch, r.train_loss, r.val_loss) for r in history]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _join(rank, world, port):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)


def _leave(queue):
    """Exit 0 once the results are sent, skipping the interpreter's teardown.

    gloo's threads can abort that teardown (SIGABRT, "terminate called without
    an active exception") after all the work succeeded, so the process becomes
    ``true``; a worker that failed raised before getting here and exits
    non-zero as usual.
    """
    queue.close()
    queue.join_thread()
    os.execv(shutil.which("true"), ["true"])


def _train_worker(rank, world, port, blocks, config, masked, queue):
    _join(rank, world, port)
    try:
        queue.put((rank, _train(blocks[rank], config, masked, ProcessGroup())))
        dist.barrier()
    finally:
        dist.destroy_process_group()
    _leave(queue)


def _fit_worker(rank, world, port, frames, queue):
    _join(rank, world, port)
    try:
        params = Forecaster(**SETTINGS).checked_params()
        series = read_series(params, frames[rank])[0]
        collective = ProcessGroup()
        parts = collective.collect(fit_state(params, series, collective=collective))
        if parts is not None:
            state = merged_state(parts)  # sent without tensors (shared memory)
            queue.put(
                {
                    "ids": state.series.ids,
                    "weight": state.mix.weight,
                    "epochs": [r.epoch for r in state.history],
                    "windows": state.n_train_windows,
                    "owners": state.calibration.owners,
                    "forecasts": forecast(params, state, None, [80], None, None),
                }
            )
        # a peer leaving the group while rank 0 still works aborts rank 0 (gloo)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    _leave(queue)


def _spawn(target, world, *args):
    context = mp.get_context("spawn")
    queue = context.Queue()
    port = _free_port()
    processes = [
        context.Process(target=target, args=(r, world, port, *args, queue))
        for r in range(world)
    ]
    for p in processes:
        p.start()
    results = [
        queue.get(timeout=300) for _ in range(1 if target is _fit_worker else world)
    ]
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


@pytest.mark.parametrize(
    ("masked", "config"),
    [
        (False, TrainConfig(epochs=3, batch_size=16, patience=5)),
        # gaps, a random draw per epoch, batches some process has no window of
        (True, TrainConfig(epochs=2, batch_size=3, windows_per_epoch=40)),
    ],
    ids=["whole-epochs", "gaps-drawn-windows"],
)
def test_two_processes_train_the_weights_of_one(masked, config):
    values = _series(9, gaps=masked)
    one, history = _train(values, config, masked)
    blocks = [values[:4], values[4:]]
    results = dict(_spawn(_train_worker, 2, blocks, config, masked))
    for rank in (0, 1):
        weights, shared_history = results[rank]
        assert [h[0] for h in shared_history] == [h[0] for h in history]
        np.testing.assert_allclose(
            [h[1:] for h in shared_history], [h[1:] for h in history], rtol=1e-10
        )
        for name, array in one.items():
            np.testing.assert_allclose(weights[name], array, rtol=1e-10, atol=1e-12)


def test_a_data_parallel_fit_equals_one_process():
    rng = np.random.default_rng(0)
    frames = []
    for i in range(12):
        n = 40 + 3 * i
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i:02d}",
                    "ds": pd.date_range("2021-01-01", periods=n, freq="MS"),
                    "y": 50 + 5 * np.sin(np.arange(n) / 1.9 + i) + rng.normal(0, 1, n),
                }
            )
        )
    panel = pd.concat(frames, ignore_index=True)
    model = Forecaster(**SETTINGS).fit(panel)
    expected = model.predict(level=[80])
    halves = [panel[panel.unique_id < "s05"], panel[panel.unique_id >= "s05"]]
    (shared,) = _spawn(_fit_worker, 2, halves)
    fitted = model.fitted_
    assert shared["ids"] == fitted.series.ids
    assert shared["weight"] == fitted.mix.weight
    assert shared["epochs"] == [r.epoch for r in fitted.history]
    assert shared["windows"] == fitted.n_train_windows
    np.testing.assert_array_equal(shared["owners"], fitted.calibration.owners)
    pd.testing.assert_frame_equal(shared["forecasts"], expected, rtol=1e-5)
