import warnings

import numpy as np
import pandas as pd
import pytest

from rnncast import ConfigError, DataError
from rnncast.data.frame import validate_frame
from rnncast.data.quality import (
    data_report,
    find_outliers,
    nanmedian_rows,
    resample,
)


def _irregular() -> pd.DataFrame:
    """One series at 10-minute steps: two rows share a step, short and long gaps."""
    stamps = pd.to_datetime(
        [
            "2024-01-01 00:00",
            "2024-01-01 00:03",  # same step as 00:00 -> merged
            "2024-01-01 00:10",
            # 00:20 empty: a gap of 1 step
            "2024-01-01 00:30",
            # 00:40, 00:50, 01:00 empty: a gap of 3 steps
            "2024-01-01 01:10",
        ]
    )
    return pd.DataFrame(
        {"unique_id": "s", "ds": stamps, "y": [1.0, 3.0, 4.0, 8.0, 9.0]}
    )


def test_resample_aggregates_fills_short_gaps_and_reports_long_ones():
    frame, report = resample(_irregular(), "10min", max_gap=1)
    assert list(frame["ds"]) == list(
        pd.date_range("2024-01-01 00:00", "2024-01-01 01:10", freq="10min")
    )
    y = frame["y"].to_numpy()
    assert y[0] == 2.0  # mean of 1 and 3
    assert y[2] == 6.0  # the 1-step gap, interpolated between 4 and 8
    assert np.isnan(y[4:7]).all()  # the 3-step gap stays missing
    row = report.table.iloc[0]
    assert (row["rows"], row["bins"], row["merged"]) == (5, 8, 1)
    assert (row["filled"], row["unfilled"], row["long_gaps"]) == (1, 3, 1)
    assert row["longest_gap"] == 3
    assert "3 left missing in 1 longer gap(s)" in report.summary()


def test_resample_sum_of_an_empty_step_is_missing_not_zero():
    frame, _ = resample(_irregular(), "10min", aggregation="sum")
    assert frame["y"].iloc[0] == 4.0
    assert frame["y"].isna().sum() == 4


def test_resample_integer_time():
    frame = pd.DataFrame({"unique_id": "s", "ds": [0, 1, 4, 9], "y": [1.0, 2, 3, 4]})
    out, report = resample(frame, 2, aggregation="last", max_gap=5)
    assert list(out["ds"]) == [0, 2, 4, 6, 8]
    np.testing.assert_allclose(out["y"], [2.0, 2.5, 3.0, 3.5, 4.0])
    assert report.totals()["filled"] == 2


def test_resampled_data_fits_with_gaps_masked():
    frame, _ = resample(_irregular(), "10min")
    series = validate_frame(frame, missing="mask")
    assert series.masked == {"s": 4}
    with pytest.raises(DataError, match="missing='mask'"):
        validate_frame(frame)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"aggregation": "mode"}, ConfigError, "unknown aggregation"),
        ({"max_gap": -1}, ConfigError, "max_gap"),
        ({"freq": "fortnightly"}, DataError, "unknown frequency"),
        ({"freq": 5}, ConfigError, "pandas alias"),
    ],
)
def test_resample_refuses_bad_settings(kwargs, error, message):
    kwargs = {"freq": "10min", **kwargs}
    with pytest.raises(error, match=message):
        resample(_irregular(), **kwargs)


def test_mask_keeps_gaps_and_drops_only_the_leading_ones():
    frame = pd.DataFrame(
        {"unique_id": "s", "ds": range(6), "y": [np.nan, 1.0, np.nan, np.inf, 4, 5]}
    )
    series = validate_frame(frame, missing="mask")
    np.testing.assert_array_equal(series.values, [1.0, np.nan, np.nan, 4, 5])
    assert series.first_ds == [1]
    assert series.masked == {"s": 2}
    assert series.filled == {"s": 1}
    with pytest.raises(DataError, match="cannot be combined"):
        validate_frame(frame, missing="mask", fill="ffill")


def test_outliers_finds_an_injected_spike_and_little_else(air):
    clean = find_outliers(validate_frame(air), 12)
    assert len(clean) <= 1  # the real data: March 1960 dips below its neighbours
    spiked = air.copy()
    spiked.loc[70, "y"] += 300  # ~2.5 standard deviations of the whole series
    found = find_outliers(validate_frame(spiked), 12)
    # only the spike is new: its neighbours, whose predictions it spoils, are not
    assert set(found["ds"]) == set(clean["ds"]) | {air.loc[70, "ds"]}
    spike = found[found["ds"] == air.loc[70, "ds"]].iloc[0]
    assert spike["expected"] == pytest.approx(air.loc[70, "y"], rel=0.1)
    assert spike["deviations"] > 5


def test_outliers_without_seasonality_use_both_sides():
    y = np.sin(np.arange(200) / 10)
    y[100] += 1.0
    frame = pd.DataFrame({"unique_id": "s", "ds": range(200), "y": y})
    found = find_outliers(validate_frame(frame), 1)
    assert list(found["ds"]) == [100]


def test_data_report_lines_name_what_was_done(air):
    damaged = air.copy()
    damaged.loc[[10, 11, 50], "y"] = np.nan
    damaged.loc[80, "y"] *= 3
    series = validate_frame(damaged, missing="mask")
    lines = data_report(series, 12).lines()
    assert any("3 missing value(s) kept as gaps" in line for line in lines)
    assert any("the largest: series 'AirPassengers' at 1955-09-01" in x for x in lines)
    assert not any("gaps" in line for line in data_report(validate_frame(air)).lines())


def test_row_median_is_numpys_nanmedian_with_gaps_and_infinities():
    rng = np.random.default_rng(5)
    stack = rng.normal(size=(4, 2000)) * 10.0 ** rng.integers(-3, 300, size=(4, 2000))
    stack[rng.random(stack.shape) < 0.3] = np.nan  # columns with 0 to 4 values
    stack[rng.random(stack.shape) < 0.02] = np.inf
    stack[rng.random(stack.shape) < 0.02] = -np.inf
    for rows in (stack, stack[:3], stack[:1]):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            expected = np.nanmedian(rows, axis=0)
        got = nanmedian_rows(rows)
        np.testing.assert_array_equal(got, expected)
    assert np.isnan(nanmedian_rows(stack)).sum() > 0  # all-NaN columns were there


def test_outliers_of_many_series_at_once_are_those_of_each_series_alone():
    from rnncast.datasets import load_tourism_monthly

    frame = load_tourism_monthly("train")
    frame = frame[frame["unique_id"].isin(frame["unique_id"].unique()[:40])].copy()
    rng = np.random.default_rng(1)
    spikes = rng.choice(len(frame), 60, replace=False)
    frame.iloc[spikes, frame.columns.get_loc("y")] *= 8.0
    together = find_outliers(validate_frame(frame), season_length=12)
    alone = [
        find_outliers(validate_frame(g), season_length=12)
        for _, g in frame.groupby("unique_id", sort=True)
    ]
    alone = pd.concat([a for a in alone if len(a)], ignore_index=True)
    assert len(together) >= 40  # most spikes, at every series' start and end too
    pd.testing.assert_frame_equal(together, alone)
