import numpy as np
import pandas as pd
import pytest

from rnncast.data.frame import validate_frame
from rnncast.data.inputs import read_table, to_long_frame
from rnncast.data.series import future_timestamps, season_length_from_freq
from rnncast.exceptions import DataError


def _frame(values, *, uid="a", start="2020-01-01", freq="MS"):
    return pd.DataFrame(
        {
            "unique_id": uid,
            "ds": pd.date_range(start, periods=len(values), freq=freq),
            "y": values,
        }
    )


def test_long_frame_becomes_flat_values_with_offsets(air_panel):
    data = validate_frame(to_long_frame(air_panel))
    assert data.ids == ["AirPassengers", "recent", "sqrt"]
    assert list(data.lengths) == [144, 100, 144]
    assert data.offsets[-1] == len(data.values) == 388
    np.testing.assert_array_equal(data.series(1), air_panel["y"].to_numpy()[-100:])
    assert data.freq == "MS"
    assert data.last_ds[0] == pd.Timestamp("1960-12-01")


def test_unsorted_rows_are_sorted_and_caller_frame_untouched(air):
    shuffled = air.sample(frac=1.0, random_state=0)
    before = shuffled.copy()
    data = validate_frame(to_long_frame(shuffled))
    np.testing.assert_array_equal(data.values, air["y"].to_numpy())
    pd.testing.assert_frame_equal(shuffled, before)


def test_series_and_array_inputs_are_single_series(air):
    series = air.set_index("ds")["y"]
    from_series = validate_frame(to_long_frame(series))
    assert from_series.freq == "MS" and from_series.n_series == 1
    from_array = validate_frame(to_long_frame(air["y"].to_numpy()))
    assert from_array.freq == 1 and from_array.last_ds == [143]


def test_frame_without_id_column_is_one_series(air):
    data = validate_frame(to_long_frame(air[["ds", "y"]]))
    assert data.ids == ["series"]


def test_custom_column_names(air):
    renamed = air.rename(columns={"unique_id": "ticker", "ds": "date", "y": "close"})
    frame = to_long_frame(renamed, id_col="ticker", time_col="date", target_col="close")
    assert validate_frame(frame).ids == ["AirPassengers"]


def test_missing_column_names_the_columns_and_the_fix(air):
    with pytest.raises(
        DataError, match=r"missing column\(s\) \['value'\].*--target-col"
    ):
        to_long_frame(air, target_col="value")


def test_non_numeric_target_names_series_and_value(air):
    bad = air.astype({"y": object})
    bad.loc[5, "y"] = "n/a"
    with pytest.raises(
        DataError, match=r"series 'AirPassengers' has 'n/a' at 1949-06-01"
    ):
        validate_frame(to_long_frame(bad))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_missing_or_infinite_target_without_fill_is_an_error(air, bad):
    broken = air.copy()
    broken.loc[10, "y"] = bad
    with pytest.raises(
        DataError,
        match=r"series 'AirPassengers' has 1 missing or infinite.*1949-11-01.*fill=",
    ):
        validate_frame(to_long_frame(broken))


def test_fill_policies():
    y = [np.nan, np.nan, 1.0, np.nan, 3.0, np.inf]
    frame = _frame(y)
    interpolated = validate_frame(frame, fill="interpolate")
    np.testing.assert_array_equal(interpolated.values, [1.0, 2.0, 3.0, 3.0])
    assert interpolated.first_ds == [pd.Timestamp("2020-03-01")]
    assert interpolated.filled == {"a": 4}
    np.testing.assert_array_equal(
        validate_frame(frame, fill="ffill").values, [1, 1, 3, 3]
    )
    with pytest.raises(DataError, match=r"after its first observation.*2020-04-01"):
        validate_frame(frame, fill="drop-leading")
    leading_only = validate_frame(_frame([np.nan, 1.0, 2.0]), fill="drop-leading")
    np.testing.assert_array_equal(leading_only.values, [1.0, 2.0])


def test_all_missing_series_is_an_error_even_with_fill():
    with pytest.raises(DataError, match="1 series have no finite value: 'a'"):
        validate_frame(_frame([np.nan] * 4), fill="ffill")


def test_duplicate_timestamps_name_series_and_time(air):
    duplicated = pd.concat([air, air.iloc[[3]]])
    with pytest.raises(
        DataError, match=r"series 'AirPassengers' has duplicate timestamps: 1949-04-01"
    ):
        validate_frame(to_long_frame(duplicated))


def test_missing_timestamp_is_reported_as_irregular(air):
    gappy = air.drop(index=20)
    with pytest.raises(
        DataError, match=r"irregular timestamps.*should be 1950-09-01 but is 1950-10-01"
    ):
        validate_frame(to_long_frame(gappy))


def test_off_grid_timestamps_are_irregular():
    frame = _frame(np.arange(10.0), freq="D")
    frame.loc[5, "ds"] += pd.Timedelta(hours=3)
    with pytest.raises(DataError, match="irregular timestamps"):
        validate_frame(frame)


def test_integer_time_steps(air):
    frame = pd.DataFrame(
        {"unique_id": "x", "ds": np.arange(0, 20, 2), "y": np.arange(10.0)}
    )
    data = validate_frame(frame)
    assert data.freq == 2
    assert list(future_timestamps(data.last_ds[0], data.freq, 3)) == [20, 22, 24]


def test_timezone_aware_timestamps_are_kept():
    frame = _frame(np.arange(30.0), start="2024-03-01", freq="h")
    frame["ds"] = frame["ds"].dt.tz_localize("Europe/Paris")
    data = validate_frame(frame)
    assert data.last_ds[0].tz is not None
    assert future_timestamps(data.last_ds[0], data.freq, 1)[0].tz is not None


def test_string_dates_are_parsed():
    frame = _frame(np.arange(12.0)).astype({"ds": str})
    assert validate_frame(frame).freq == "MS"


def test_empty_data_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no rows"):
        validate_frame(pd.DataFrame({"unique_id": [], "ds": [], "y": []}))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_table(empty)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_parquet_and_csv_read_the_same(air, tmp_path):
    air.to_parquet(tmp_path / "a.parquet")
    air.to_csv(tmp_path / "a.csv", index=False)
    a = validate_frame(to_long_frame(tmp_path / "a.parquet"))
    b = validate_frame(to_long_frame(str(tmp_path / "a.csv")))
    np.testing.assert_array_equal(a.values, b.values)
    assert a.last_ds == b.last_ds


def test_unknown_frequency_is_an_error(air):
    with pytest.raises(DataError, match="unknown frequency 'fortnightly'"):
        validate_frame(to_long_frame(air), freq="fortnightly")


def test_to_frame_round_trips(air_panel):
    data = validate_frame(to_long_frame(air_panel))
    again = validate_frame(data.to_frame())
    np.testing.assert_array_equal(again.values, data.values)
    assert again.first_ds == data.first_ds


@pytest.mark.parametrize(
    ("freq", "season"),
    [
        ("MS", 12),
        ("QS", 4),
        ("W-SUN", 52),
        ("D", 7),
        ("h", 24),
        ("30min", 48),
        ("YS", 1),
        (1, 1),
    ],
    ids=str,
)
def test_season_length_from_freq(freq, season):
    assert season_length_from_freq(freq) == season


def test_values_never_share_memory_with_the_callers_frame(air):
    frame = to_long_frame(air)  # already sorted: the fast path that skips sorting
    data = validate_frame(frame)
    assert not np.shares_memory(data.values, frame["y"].to_numpy())
    data.values[0] = -1.0
    assert frame["y"].iloc[0] == air["y"].iloc[0]


def test_polars_frames_are_read_like_pandas(air_panel):
    import polars

    from rnncast import Forecaster

    settings = {"horizon": 3, "hidden": (4,), "epochs": 1}
    frame = polars.from_pandas(air_panel)
    pd.testing.assert_frame_equal(to_long_frame(frame), to_long_frame(air_panel))
    a = Forecaster(**settings).fit(air_panel).predict()
    b = Forecaster(**settings).fit(frame).predict()
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    series = polars.Series("sales", air_panel["y"].to_numpy()[:30])
    assert to_long_frame(series)["unique_id"].iloc[0] == "sales"
