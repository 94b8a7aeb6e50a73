import numpy as np
import pandas as pd
import pytest

from rnncast.data.scaling import lagged_maes
from rnncast.evaluation.metrics import (
    coverage,
    evaluate,
    interval_width,
    mae,
    mape,
    mase,
    mse,
    msis,
    pinball,
    rmse,
    smape,
    step_scores,
)
from rnncast.exceptions import DataError
from rnncast.intervals import level_quantiles

Y = np.array([10.0, 20.0, 30.0, 40.0])
YHAT = np.array([12.0, 18.0, 33.0, 40.0])


def test_values_against_hand_computation():
    # errors 2, -2, 3, 0
    assert mse(Y, YHAT) == pytest.approx((4 + 4 + 9 + 0) / 4)
    assert mae(Y, YHAT) == pytest.approx(7 / 4)
    assert rmse(Y, YHAT) == pytest.approx(np.sqrt(17 / 4))
    assert mape(Y, YHAT) == pytest.approx(100 * (2 / 10 + 2 / 20 + 3 / 30 + 0) / 4)
    assert smape(Y, YHAT) == pytest.approx(200 * (2 / 22 + 2 / 38 + 3 / 63 + 0) / 4)


def test_mase_against_hand_computation():
    train = np.array([1.0, 3.0, 2.0, 6.0, 5.0])
    # seasonal differences with m=2: |2-1|, |6-3|, |5-2| -> mean 7/3
    assert mase(Y, YHAT, train, season_length=2) == pytest.approx((7 / 4) / (7 / 3))
    # m=1: |2|, |1|, |4|, |1| -> mean 2
    assert mase(Y, YHAT, train, season_length=1) == pytest.approx((7 / 4) / 2)


def test_mape_leaves_out_zero_actuals_and_is_nan_when_all_zero():
    assert mape([0.0, 10.0], [5.0, 11.0]) == pytest.approx(10.0)
    assert np.isnan(mape([0.0, 0.0], [1.0, 2.0]))


def test_smape_counts_both_zero_as_perfect():
    assert smape([0.0, 10.0], [0.0, 10.0]) == 0.0
    assert smape([0.0], [5.0]) == pytest.approx(200.0)


def test_mase_edge_cases():
    assert mase([1.0], [2.0], [3.0, 3.0, 3.0], 1) == np.inf
    assert mase([3.0], [3.0], [3.0, 3.0, 3.0], 1) == 0.0
    with pytest.raises(DataError, match="longer than season_length=12"):
        mase([1.0], [1.0], np.arange(12.0), 12)


def test_shape_mismatch_and_empty_input():
    with pytest.raises(DataError, match="shape"):
        mae([1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="empty"):
        mae([], [])


def test_evaluate_matches_a_per_series_loop():
    rng = np.random.default_rng(0)
    ds = pd.date_range("2020-01-01", periods=20, freq="D")
    train = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": uid, "ds": ds[:16], "y": rng.normal(size=16) + 5}
            )
            for uid in "ab"
        ]
    )
    actuals = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": ds[16:], "y": rng.normal(size=4) + 5})
            for uid in "ab"
        ]
    )
    forecasts = actuals[["unique_id", "ds"]].assign(m1=rng.normal(size=8) + 5)
    scores = evaluate(forecasts, actuals, train, models=["m1"], season_length=7)
    for uid in "ab":
        row = scores[scores["unique_id"] == uid].iloc[0]
        y = actuals[actuals["unique_id"] == uid]["y"].to_numpy()
        yhat = forecasts[forecasts["unique_id"] == uid]["m1"].to_numpy()
        history = train[train["unique_id"] == uid]["y"].to_numpy()
        assert row["mae"] == mae(y, yhat)
        assert row["mase"] == mase(y, yhat, history, 7)
        assert row["smape"] == smape(y, yhat)


def _scored_one_by_one(forecasts, actuals, train, levels, season_length):
    """Rows of evaluate() for model "m", from the metric functions series by series."""
    joined = forecasts.merge(actuals, on=["unique_id", "ds"])
    lower_q, upper_q = level_quantiles(levels)
    rows = []
    with np.errstate(over="ignore", invalid="ignore"):
        for uid, group in joined.groupby("unique_id", sort=False):
            y, yhat = group["y"].to_numpy(), group["m"].to_numpy()
            history = train.loc[train["unique_id"] == uid, "y"].to_numpy()
            row = {
                "unique_id": uid,
                "model": "m",
                "mse": mse(y, yhat),
                "mae": mae(y, yhat),
                "rmse": rmse(y, yhat),
                "mape": mape(y, yhat),
                "smape": smape(y, yhat),
                "mase": mase(y, yhat, history, season_length),
            }
            losses = [pinball(y, yhat, 0.5)]
            for level, q_lo, q_hi in zip(levels, lower_q, upper_q, strict=True):
                lo = group[f"m-lo-{level}"].to_numpy()
                hi = group[f"m-hi-{level}"].to_numpy()
                row[f"coverage_{level}"] = coverage(y, lo, hi)
                row[f"width_{level}"] = interval_width(lo, hi)
                row[f"msis_{level}"] = msis(y, lo, hi, history, season_length, level)
                losses += [pinball(y, lo, q_lo), pinball(y, hi, q_hi)]
            row["pinball"] = _per_scale(float(np.mean(losses)), history, season_length)
            rows.append(row)
    return pd.DataFrame(rows)


def _per_scale(error: float, history: np.ndarray, m: int) -> float:
    """``error`` over the in-sample seasonal-naive MAE (inf over 0, 0 if both 0)."""
    offsets = np.array([0, len(history)])
    scale = float(lagged_maes(history, offsets, offsets[1:], m)[0])
    if scale == 0:
        return 0.0 if error == 0 else np.inf
    return error / scale


@pytest.mark.parametrize("ragged", [False, True], ids=["equal-horizons", "ragged"])
def test_evaluate_scores_all_series_at_once_as_series_by_series(ragged):
    # evaluate() scores (series, horizon) tables; every number must be the one
    # the metric functions give series by series, with zero actuals (MAPE leaves
    # them out), a series whose seasonal scale is 0 (MASE inf), a missing forecast,
    # interval columns, and series scored on different numbers of steps.
    rng = np.random.default_rng(3)
    ds = pd.date_range("2020-01-01", periods=36, freq="D")
    uids = [f"s{i}" for i in range(30)]
    train = pd.DataFrame(
        {
            "unique_id": np.repeat(uids, 30),
            "ds": np.tile(ds[:30], 30),
            "y": rng.normal(size=900) * 10,
        }
    )
    train.loc[train["unique_id"] == "s0", "y"] = 3.0
    actuals = pd.DataFrame(
        {
            "unique_id": np.repeat(uids, 6),
            "ds": np.tile(ds[30:], 30),
            "y": rng.normal(size=180) * 10,
        }
    )
    actuals.loc[rng.random(180) < 0.2, "y"] = 0.0
    actuals.loc[actuals["unique_id"] == "s1", "y"] = 0.0
    forecasts = actuals[["unique_id", "ds"]].assign(
        m=actuals["y"] + rng.normal(size=180)
    )
    forecasts.loc[14, "m"] = np.nan  # in series s2
    for level in (80, 95):
        forecasts[f"m-lo-{level}"] = forecasts["m"] - level / 40
        forecasts[f"m-hi-{level}"] = forecasts["m"] + level / 40
    if ragged:  # s3 scored on 4 steps, s5 and s8 on 5, the rest on 6
        forecasts = forecasts.drop(index=[22, 23, 35, 53])
    scores = evaluate(
        forecasts, actuals, train, models=["m"], season_length=7, levels=(80, 95)
    )
    expected = _scored_one_by_one(forecasts, actuals, train, (80, 95), 7)
    pd.testing.assert_frame_equal(scores, expected, check_exact=True)
    assert np.isinf(scores["mase"]).tolist()[:3] == [True, False, False]
    assert scores["mape"].isna().tolist()[:3] == [False, True, True]


def test_step_scores_by_hand():
    """Two series, two steps, one model with an 80 % interval, scored by hand."""
    ds = pd.date_range("2021-01-01", periods=6, freq="D")
    train = pd.DataFrame(
        {
            "unique_id": ["a"] * 4 + ["b"] * 4,
            "ds": list(ds[:4]) * 2,
            "y": [1.0, 2.0, 4.0, 7.0, 10.0, 10.0, 12.0, 10.0],
        }
    )  # lag-1 scales: a (1 + 2 + 3) / 3 = 2, b (0 + 2 + 2) / 3 = 4 / 3
    actuals = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b"],
            "ds": list(ds[4:]) * 2,
            "y": [8.0, 9, 10, 14],
        }
    )
    forecasts = actuals[["unique_id", "ds"]].assign(
        m=[7.0, 10.0, 12.0, 11.0], **{"m-lo-80": [6.0, 9.5, 11.0, 9.0]}
    )
    forecasts["m-hi-80"] = [9.0, 11.0, 13.0, 12.0]
    # the rows in any order: steps come from the timestamps
    steps = step_scores(
        forecasts.iloc[::-1],
        actuals,
        train,
        models=["m"],
        season_length=1,
        levels=(80,),
    )
    assert list(steps["step"]) == [1, 2]
    errors = np.array([[1.0, 2.0], [1.0, 3.0]])  # steps 1, 2 (rows); series a, b
    assert list(steps["mae"]) == pytest.approx([1.5, 2.0])
    assert list(steps["mase"]) == pytest.approx(
        [(1 / 2 + 2 * 3 / 4) / 2, (1 / 2 + 3 * 3 / 4) / 2]
    )
    smape_terms = 200 * errors / np.array([[15.0, 22.0], [19.0, 25.0]])
    assert list(steps["smape"]) == pytest.approx(list(smape_terms.mean(axis=1)))
    # step 1: a 8 in [6, 9], b 10 outside [11, 13]; step 2: a 9 outside [9.5, 11],
    # b 14 outside [9, 12]
    assert list(steps["coverage_80"]) == [0.5, 0.0]


def test_step_scores_average_to_evaluate():
    """The mean over steps of each step metric is evaluate's mean over series."""
    rng = np.random.default_rng(1)
    ds = pd.date_range("2020-01-01", periods=30, freq="D")
    frames = [
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": rng.normal(size=30) + 9})
        for uid in "abc"
    ]
    data = pd.concat(frames, ignore_index=True)
    train = data[data["ds"] < ds[24]]
    actuals = data[data["ds"] >= ds[24]]
    forecasts = actuals[["unique_id", "ds"]].assign(
        m1=rng.normal(size=18) + 9, m2=rng.normal(size=18) + 9
    )
    kwargs = {"models": ["m1", "m2"], "season_length": 7}
    steps = step_scores(forecasts, actuals, train, **kwargs)
    scores = evaluate(forecasts, actuals, train, **kwargs)
    assert len(steps) == 2 * 6
    for model in ("m1", "m2"):
        per_step = steps[steps["model"] == model]
        assert list(per_step["step"]) == list(range(1, 7))
        for metric in ("mae", "smape", "mase"):
            assert per_step[metric].mean() == pytest.approx(
                scores.loc[scores["model"] == model, metric].mean()
            )


def test_step_scores_need_the_actuals():
    ds = pd.date_range("2021-01-01", periods=6, freq="D")
    train = pd.DataFrame({"unique_id": "a", "ds": ds[:4], "y": [1.0, 2, 3, 4]})
    actuals = pd.DataFrame({"unique_id": "a", "ds": ds[4:5], "y": [5.0]})
    forecasts = pd.DataFrame({"unique_id": "a", "ds": ds[4:], "m": [5.0, 6.0]})
    with pytest.raises(DataError, match="no actual value"):
        step_scores(forecasts, actuals, train, models=["m"], season_length=1)
