"""Property-based tests: bad input either works or raises rnncast's own error.

Never a raw traceback from numpy/torch/pandas, never NaN forecasts returned silently.
"""

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnncast import Forecaster, RnncastError, backtest
from rnncast.data.frame import validate_frame
from rnncast.data.inputs import to_long_frame

# CI runs 60 examples per test; RNNCAST_FUZZ_EXAMPLES=2000 runs the fuzz mode.
SETTINGS = settings(
    max_examples=int(os.environ.get("RNNCAST_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e300, max_value=1e300),
    st.sampled_from([0.0, 1e-300, -1e-300, 1e300, 7.0]),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(max_size=3),
    st.none(),
)
ids = st.one_of(st.sampled_from(["a", "b", "é", "株", "AAPL"]), st.integers(0, 3))


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=0, max_value=40))
    kind = draw(st.sampled_from(["daily", "int", "tz", "mixed_tz", "strings", "gappy"]))
    if kind == "int":
        ds = list(range(n))
    elif kind == "strings":
        ds = [draw(st.text(max_size=5)) for _ in range(n)]
    else:
        stamps = list(pd.date_range("2020-01-01", periods=n, freq="D"))
        if kind == "tz":
            stamps = [s.tz_localize("UTC") for s in stamps]
        if kind == "mixed_tz" and n > 1:
            stamps[0] = stamps[0].tz_localize("Europe/Paris")
        if kind == "gappy" and n > 3:
            del stamps[n // 2]
            stamps.append(stamps[-1] + pd.Timedelta(days=1))
        ds = stamps
    constant = draw(st.booleans())
    y = [7.0] * n if constant else [draw(values) for _ in range(n)]
    uid = [draw(ids) for _ in range(n)] if draw(st.booleans()) else ["s"] * n
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def _check_forecast(frame):
    assert np.isfinite(frame["yhat"].to_numpy(dtype=float)).all()


@SETTINGS
@given(frame=frames(), fill=st.sampled_from([None, "interpolate", "ffill", "mask"]))
def test_validation_works_or_raises_our_error(frame, fill):
    mask = fill == "mask"
    try:
        data = validate_frame(
            to_long_frame(frame),
            fill=None if mask else fill,
            missing="mask" if mask else "error",
        )
    except RnncastError:
        return
    kept = data.values[~np.isnan(data.values)] if mask else data.values
    assert np.isfinite(kept).all()
    assert np.isfinite(data.values[data.offsets[:-1]]).all()  # series start observed


@SETTINGS
@given(frame=frames(), fill=st.sampled_from([None, "interpolate", "mask"]))
def test_fit_predict_works_or_raises_our_error(frame, fill):
    how = {"missing": "mask"} if fill == "mask" else {"fill": fill}
    model = Forecaster(horizon=2, lookback=3, hidden=(2,), epochs=1, **how)
    try:
        forecast = model.fit(frame).predict()
    except RnncastError:
        return
    _check_forecast(forecast)


@SETTINGS
@given(frame=frames())
def test_backtest_works_or_raises_our_error(frame):
    try:
        result = backtest(frame, ["naive", "drift"], horizon=2, n_windows=1)
    except RnncastError:
        return
    assert np.isfinite(result.forecasts[["naive", "drift"]].to_numpy(dtype=float)).all()


@SETTINGS
@given(
    frame=frames(),
    freq=st.sampled_from(["D", "12h", "W", 2, "bogus"]),
    aggregation=st.sampled_from(["mean", "sum", "last"]),
    max_gap=st.integers(0, 3),
)
def test_resample_fit_works_or_raises_our_error(frame, freq, aggregation, max_gap):
    model = Forecaster(
        horizon=2,
        lookback=3,
        hidden=(2,),
        epochs=1,
        missing="mask",
        resample=freq,
        aggregation=aggregation,
        max_gap=max_gap,
    )
    try:
        forecast = model.fit(frame).predict()
    except RnncastError:
        return
    _check_forecast(forecast)
    assert model.data_report_.resample is not None


@SETTINGS
@given(text=st.text(max_size=200))
def test_cli_file_reading_works_or_raises_our_error(tmp_path_factory, text):
    from rnncast.data.inputs import read_table

    path = tmp_path_factory.mktemp("fuzz") / "data.csv"
    path.write_text(text)
    try:
        frame = read_table(path)
        validate_frame(to_long_frame(frame))
    except RnncastError:
        pass


@SETTINGS
@given(
    garbage=st.binary(max_size=300),
    which=st.sampled_from(["config.json", "weights.safetensors"]),
)
def test_damaged_model_files_are_refused(tmp_path_factory, garbage, which):
    from rnncast.datasets import load_air_passengers

    folder = tmp_path_factory.mktemp("model") / "m"
    Forecaster(horizon=2, hidden=(2,), epochs=1).fit(load_air_passengers()).save(folder)
    (folder / which).write_bytes(garbage)
    with pytest.raises(RnncastError):
        Forecaster.load(folder)
