import numpy as np
import torch

from rnncast.data.windows import (
    gather,
    last_inputs,
    masked_inputs,
    pad_front,
    training_starts,
    validation_starts,
)


def _loop_starts(lengths, lookback, horizon, holdout):
    starts, offset = [], 0
    for n in lengths:
        for k in range(n - holdout - lookback - horizon + 1):
            starts.append(offset + k)
        offset += n
    return starts


def test_training_starts_match_a_plain_loop():
    lengths = [10, 3, 25, 7]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for holdout in (0, 2):
        got = training_starts(offsets, lookback=4, horizon=2, holdout=holdout)
        assert list(got) == _loop_starts(lengths, 4, 2, holdout)


def test_training_windows_never_reach_the_holdout():
    offsets = np.array([0, 30, 70])
    lookback, horizon = 6, 5
    starts = training_starts(offsets, lookback, horizon, holdout=horizon)
    ends = starts + lookback + horizon  # exclusive end of each window's targets
    series_end = np.where(starts < 30, 30, 70)
    assert np.all(ends <= series_end - horizon)


def test_validation_starts_target_the_last_values():
    offsets = np.array([0, 30, 35, 70])
    starts = validation_starts(offsets, lookback=6, horizon=5)
    assert list(starts) == [30 - 11, 70 - 11]  # the 5-long series has no window


def test_gather_returns_inputs_and_targets():
    values = torch.arange(20, dtype=torch.float32)
    inputs, targets, _ = gather(values, torch.tensor([0, 7]), lookback=3, horizon=2)
    assert inputs.shape == (2, 3, 1) and targets.shape == (2, 2)
    assert inputs[1, :, 0].tolist() == [7, 8, 9]
    assert targets[1].tolist() == [10, 11]


def test_last_inputs():
    values = np.arange(10.0)
    out = last_inputs(values, np.array([0, 4, 10]), lookback=3)
    np.testing.assert_array_equal(out, [[1, 2, 3], [7, 8, 9]])


def test_masked_inputs_carry_the_last_observation_and_flag_gaps():
    nan = float("nan")
    windows = torch.tensor(
        [
            [nan, 1.0, nan, nan, 4.0],
            [2.0, nan, 3.0, 5.0, nan],
            [nan, nan, nan, nan, nan],
        ]
    )
    inputs = masked_inputs(windows)
    assert inputs.shape == (3, 5, 2)
    torch.testing.assert_close(
        inputs[..., 0],
        torch.tensor([[1.0, 1, 1, 1, 4], [2, 2, 3, 5, 5], [0, 0, 0, 0, 0]]),
    )
    torch.testing.assert_close(
        inputs[..., 1],
        torch.tensor([[0.0, 1, 0, 0, 1], [1, 0, 1, 1, 0], [0, 0, 0, 0, 0]]),
    )


def test_gather_masked_keeps_nan_targets():
    values = torch.tensor([0.0, 1.0, float("nan"), 3.0, float("nan"), 5.0])
    inputs, targets, _ = gather(values, torch.tensor([0, 1]), 3, 2, masked=True)
    assert inputs.shape == (2, 3, 2)
    torch.testing.assert_close(inputs[0, :, 0], torch.tensor([0.0, 1.0, 1.0]))
    assert torch.isnan(targets[0, 1]) and targets[0, 0] == 3.0


def test_pad_front_puts_nan_before_short_series_only():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    offsets = np.array([0, 2, 6])
    padded, new_offsets = pad_front(values, offsets, 4)
    np.testing.assert_array_equal(new_offsets, [0, 4, 8])
    np.testing.assert_array_equal(padded, [np.nan, np.nan, 1, 2, 3, 4, 5, 6])


def test_validation_starts_roll_back_one_step_per_window():
    offsets = np.array([0, 10, 13])  # series of 10 and 3 values
    starts = validation_starts(offsets, lookback=3, horizon=2, windows=3)
    # series 1: targets end at 10, 9, 8; series 2 is too short for any window
    np.testing.assert_array_equal(starts, [5, 4, 3])
