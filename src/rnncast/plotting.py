"""Forecast plots: history, actuals and each model's forecast, one panel per series."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt
import pandas as pd

from rnncast.io import atomic_path

__all__ = ["plot_forecasts"]


def plot_forecasts(
    path: str | os.PathLike[str],
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    models: list[str],
    actuals: pd.DataFrame | None = None,
    max_series: int = 6,
    history_points: int | None = None,
    title: str | None = None,
) -> None:
    """Write a PNG with one panel per series (the first ``max_series``).

    Parameters
    ----------
    path : path
        Output file; written atomically.
    history : DataFrame
        ``unique_id, ds, y``: the data the models saw.
    forecasts : DataFrame
        ``unique_id, ds`` and one column per name in ``models``.
    actuals : DataFrame, optional
        ``unique_id, ds, y`` of the forecast period, drawn in black.
    history_points : int, optional
        Draw only the last this many history points of each series.
    """
    ids = list(dict.fromkeys(forecasts["unique_id"]))[:max_series]
    fig, axes = plt.subplots(
        len(ids), 1, figsize=(10, 3.2 * len(ids)), squeeze=False, layout="constrained"
    )
    for ax, uid in zip(axes[:, 0], ids, strict=True):
        past = history[history["unique_id"] == uid]
        if history_points is not None:
            past = past.tail(history_points)
        ax.plot(past["ds"], past["y"], color="0.45", lw=1.2, label="history")
        if actuals is not None:
            actual = actuals[actuals["unique_id"] == uid]
            ax.plot(actual["ds"], actual["y"], color="black", lw=1.8, label="actual")
        future = forecasts[forecasts["unique_id"] == uid]
        for model in models:
            ax.plot(future["ds"], future[model], lw=1.6, label=model)
        ax.set_title(str(uid), loc="left")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small", ncols=min(len(models) + 2, 6))
    if title:
        fig.suptitle(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
