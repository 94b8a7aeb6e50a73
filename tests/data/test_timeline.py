"""Timestamps of many series at once must equal pd.date_range series by series."""

import numpy as np
import pandas as pd
import pytest

from rnncast.data.frame import validate_frame
from rnncast.data.series import forecast_frame
from rnncast.data.timeline import fixed_step, shift_timestamps, timestamps_of_series
from rnncast.exceptions import ConfigError, DataError

STARTS = {
    "h": ["2024-03-30 22:00", "2024-03-31 01:00", "2023-10-28 23:00"],
    "15min": ["2024-01-01 00:15", "2024-01-02 07:45", "2023-12-31 23:30"],
    "D": ["2024-03-30", "2024-10-26", "2023-01-01"],
    "B": ["2024-03-29", "2024-01-01", "2023-12-29"],
    "W-SUN": ["2024-03-31", "2023-01-01", "2024-12-29"],
    "MS": ["2024-01-01", "1949-01-01", "2023-11-01"],
    "ME": ["2024-01-31", "2024-02-29", "2023-11-30"],
    "QS": ["2024-01-01", "1990-04-01", "2023-10-01"],
    "YS": ["2024-01-01", "1900-01-01", "2023-01-01"],
    "2MS": ["2024-01-01", "2024-02-01", "2023-11-01"],  # two anchors: the slow path
}


def _one_by_one(starts, freq, counts):
    pieces = [
        pd.date_range(start=s, periods=n, freq=freq)
        for s, n in zip(starts, counts, strict=True)
    ]
    return pieces[0].append(pieces[1:])


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
@pytest.mark.parametrize("freq", list(STARTS))
def test_timestamps_of_series_equal_date_range_per_series(freq, tz):
    starts = pd.DatetimeIndex(STARTS[freq]).tz_localize(tz)
    counts = np.array([5, 1, 40])
    expected = _one_by_one(starts, freq, counts)
    got = timestamps_of_series(list(starts), freq, counts)
    assert list(got) == list(expected)
    shifted = shift_timestamps(list(starts), freq, counts - 1)
    assert list(shifted) == list(expected[np.cumsum(counts) - 1])


def test_integer_time_is_arithmetic():
    got = timestamps_of_series([0, 10], 5, np.array([3, 2]))
    assert list(got) == [0, 5, 10, 10, 15]
    assert list(shift_timestamps([0, 10], 5, np.array([2, 0]))) == [10, 10]


def test_only_fixed_length_steps_are_fixed():
    assert fixed_step("h") == pd.Timedelta(hours=1)
    assert fixed_step("3D") == pd.Timedelta(days=3)
    assert fixed_step("MS") is None
    assert fixed_step("B") is None


def test_forecast_frame_continues_each_series_after_its_last_stamp():
    lasts = [pd.Timestamp("2024-01-01"), pd.Timestamp("2023-12-01")]
    frame = forecast_frame(
        ["a", "b"], lasts, "MS", np.arange(6.0).reshape(2, 3), column="m"
    )
    assert list(frame["unique_id"]) == ["a"] * 3 + ["b"] * 3
    assert [str(d.date()) for d in frame["ds"]] == [
        "2024-02-01",
        "2024-03-01",
        "2024-04-01",
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
    ]
    assert list(frame["m"]) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_many_shuffled_series_are_validated_like_one_at_a_time():
    rng = np.random.default_rng(0)
    parts = []
    for i in range(30):
        n = int(rng.integers(2, 20))
        start = pd.Timestamp("2020-01-01") + pd.DateOffset(months=int(i))
        ds = pd.date_range(start, periods=n, freq="MS")
        parts.append(
            pd.DataFrame({"unique_id": f"s{i:02d}", "ds": ds, "y": rng.normal(size=n)})
        )
    frame = pd.concat(parts, ignore_index=True)
    data = validate_frame(frame.sample(frac=1.0, random_state=1))
    for i, part in enumerate(parts):
        assert data.ids[i] == f"s{i:02d}"
        np.testing.assert_array_equal(data.series(i), part["y"].to_numpy())
        assert data.first_ds[i] == part["ds"].iloc[0]
        assert data.last_ds[i] == part["ds"].iloc[-1]
    pd.testing.assert_frame_equal(
        data.to_frame(), frame.astype({"unique_id": object}), check_dtype=False
    )


def test_a_gap_in_one_of_many_hourly_series_is_found():
    ds = pd.date_range("2024-01-01", periods=50, freq="h")
    frame = pd.DataFrame(
        {"unique_id": np.repeat(["a", "b", "c"], 50), "ds": np.tile(ds, 3), "y": 1.0}
    )
    frame = frame.drop(index=75)  # series b loses 2024-01-02 01:00
    with pytest.raises(
        DataError,
        match=r"series 'b' has irregular.*should be 2024-01-02 01:00:00 but is "
        r"2024-01-02 02:00:00",
    ):
        validate_frame(frame, freq="h")


def test_a_start_off_the_frequency_grid_is_named():
    frame = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.to_datetime(["2024-01-15", "2024-02-15", "2024-03-15"]),
            "y": 1.0,
        }
    )
    with pytest.raises(DataError, match="starts at 2024-01-15, which is not a step"):
        validate_frame(frame, freq="MS")


def test_duplicates_in_the_middle_of_many_series_are_counted():
    ds = pd.date_range("2024-01-01", periods=5, freq="D")
    frame = pd.DataFrame(
        {"unique_id": np.repeat(["a", "b"], 5), "ds": np.tile(ds, 2), "y": 1.0}
    )
    frame = pd.concat([frame, frame.iloc[[7, 7]]])
    with pytest.raises(
        DataError,
        match=r"series 'b' has duplicate timestamps: 2024-01-03.*3 duplicated",
    ):
        validate_frame(frame)


def test_season_phases_are_calendar_positions():
    from rnncast.data.timeline import season_phases

    quarters = pd.date_range("2023-04-01", periods=5, freq="QS")
    assert season_phases(quarters, "QS", 4).tolist() == [1, 2, 3, 0, 1]
    # wall-clock hours across the spring DST change (02:00 does not exist)
    hours = pd.date_range("2024-03-31 00:00", periods=4, freq="h", tz="Europe/Berlin")
    assert season_phases(hours, "h", 24).tolist() == [0, 1, 3, 4]
    # two-month steps: the phase counts steps, not months
    bimonthly = pd.date_range("2024-01-01", periods=4, freq="2MS")
    assert np.diff(season_phases(bimonthly, "2MS", 6)).tolist() == [1, 1, 1]
    assert season_phases([0, 7, 14, 21], 7, 3).tolist() == [0, 1, 2, 0]
    weekdays = pd.date_range("2021-03-01", periods=6, freq="B")  # Monday to Monday
    phases = season_phases(weekdays, "B", 5)
    assert phases[0] == phases[5] and len(set(phases[:5])) == 5
    with pytest.raises(ConfigError, match="no calendar period"):
        season_phases(pd.date_range("2024-01-01", periods=3, freq="SMS"), "SMS", 2)
