"""Forecast plots: history, actuals and each model's forecast, one panel per series."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rnncast.io import atomic_path

if TYPE_CHECKING:
    from rnncast.explain import GateTrace

__all__ = [
    "draw_backtest_series",
    "plot_backtest",
    "plot_forecasts",
    "plot_gates",
    "plot_gradient_decay",
]


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
        ``unique_id, ds`` and one column per name in ``models``; interval columns
        ``{model}-lo-{level}`` / ``{model}-hi-{level}`` are drawn as bands.
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
            line = ax.plot(future["ds"], future[model], lw=1.6, label=model)[0]
            draw_bands(ax, future, model, line.get_color())
        ax.set_title(str(uid), loc="left")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small", ncols=min(len(models) + 2, 6))
    if title:
        fig.suptitle(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def plot_gates(path: str | os.PathLike[str], trace: GateTrace) -> None:
    """Write a PNG: the input window and forecast on top, each gate as a heat map.

    One heat map per (layer, gate): units on the vertical axis, time on the
    horizontal axis aligned with the series above. Sigmoid gates are drawn on
    [0, 1]; the cell and hidden states on a symmetric scale around 0.
    """
    gates = list(trace.gates.items())
    fig, axes = plt.subplots(
        len(gates) + 1,
        1,
        figsize=(10, 2.4 + 1.6 * len(gates)),
        sharex=True,
        layout="constrained",
        height_ratios=[1.6] + [1.0] * len(gates),
    )
    top = axes[0]
    top.plot(trace.ds, trace.inputs, color="black", lw=1.4, label="input window")
    top.plot(
        trace.forecast["ds"], trace.forecast["yhat"], lw=1.6, ls="--", label="forecast"
    )
    top.set_title(f"{trace.series}: gate activations over the input window", loc="left")
    top.legend(loc="upper left", fontsize="small")
    top.grid(alpha=0.3)
    edges = _edges(trace.ds)
    for ax, ((layer, gate), values) in zip(axes[1:], gates, strict=True):
        is_gate = gate.split()[-1] in {"f", "i", "o", "r", "z", "f'", "i'"}
        if is_gate:
            limits, cmap = (0.0, 1.0), "viridis"
        else:
            bound = float(max(abs(values).max(), 1e-9))
            limits, cmap = (-bound, bound), "RdBu_r"
        mesh = ax.pcolormesh(
            edges,
            range(values.shape[1] + 1),
            values.T,
            cmap=cmap,
            vmin=limits[0],
            vmax=limits[1],
        )
        ax.set_ylabel(f"L{layer} {gate}\nunit", fontsize="small")
        fig.colorbar(mesh, ax=ax, pad=0.01, fraction=0.03)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def plot_gradient_decay(path: str | os.PathLike[str], decay: pd.DataFrame) -> None:
    """Write a PNG of the relative Jacobian norm against the lag, log scale.

    ``decay`` has the columns of :func:`rnncast.explain.vanishing_gradients`: one
    panel for the initial weights and one for the trained weights, a line per cell.
    """
    states = list(dict.fromkeys(decay["weights"]))
    fig, axes = plt.subplots(
        1,
        len(states),
        figsize=(5.2 * len(states), 4),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    for ax, state in zip(axes[0], states, strict=True):
        part = decay[(decay["weights"] == state) & (decay["lag"] >= 1)]
        for cell, curve in part.groupby("cell", sort=False):
            ax.semilogy(
                curve["lag"], curve["hidden_relative"], lw=1.6, label=cell.upper()
            )
        ax.axhline(1e-3, color="0.5", ls=":", lw=1)
        ax.set_title(f"{state} weights", loc="left")
        ax.set_xlabel("lag T - t")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    axes[0, 0].set_ylabel("||dh_T/dh_t|| / value at lag 1")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _edges(ds: pd.Index) -> list[object]:
    """Cell edges for pcolormesh: one more than the timestamps, centred on them."""
    if isinstance(ds, pd.DatetimeIndex):
        numbers = mdates.date2num(ds.to_pydatetime())
    else:
        numbers = np.asarray(ds, dtype=float)
    step = numbers[1] - numbers[0] if len(numbers) > 1 else 1.0
    edges = np.concatenate([numbers - step / 2, [numbers[-1] + step / 2]])
    if isinstance(ds, pd.DatetimeIndex):
        return list(mdates.num2date(edges))
    return list(edges)


def draw_bands(
    ax: plt.Axes, forecasts: pd.DataFrame, model: str, colour: str, label: bool = True
) -> None:
    """Shade every prediction interval of ``model`` in ``forecasts``, wider lighter."""
    prefix = f"{model}-lo-"
    levels = sorted(
        (c.removeprefix(prefix) for c in forecasts.columns if c.startswith(prefix)),
        key=float,
    )
    for k, level in enumerate(reversed(levels)):  # widest first, palest
        ax.fill_between(
            forecasts["ds"],
            forecasts[f"{model}-lo-{level}"],
            forecasts[f"{model}-hi-{level}"],
            color=colour,
            alpha=0.12 + 0.1 * k,
            lw=0,
            label=f"{model} {level} %" if label and len(levels) < 3 else None,
        )


def plot_backtest(
    path: str | os.PathLike[str],
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    models: list[str],
    max_series: int = 4,
    season_length: int = 12,
) -> None:
    """Write a PNG of each model's backtest forecasts over the actuals.

    One panel per series (the first ``max_series``), drawn by
    :func:`draw_backtest_series`.
    """
    ids = list(dict.fromkeys(forecasts["unique_id"]))[:max_series]
    fig, axes = plt.subplots(
        len(ids), 1, figsize=(10, 3.4 * len(ids)), squeeze=False, layout="constrained"
    )
    for ax, uid in zip(axes[:, 0], ids, strict=True):
        draw_backtest_series(ax, history, forecasts, uid, models, season_length)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def draw_backtest_series(
    ax: plt.Axes,
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    uid: object,
    models: list[str],
    season_length: int,
    seasons_before: int = 3,
) -> None:
    """Draw one series' actuals and every window's forecast of each model on ``ax``.

    The actuals start ``seasons_before`` seasons (at least 3 years of months)
    before the first cutoff; each window's forecast is a separate segment in the
    model's colour, and dotted lines mark the cutoffs.
    """
    future = forecasts[forecasts["unique_id"] == uid]
    past = history[history["unique_id"] == uid]
    first_cutoff = future["cutoff"].min()
    before = past[past["ds"] <= first_cutoff].tail(
        seasons_before * max(season_length, 12)
    )
    shown = past[
        (past["ds"] >= before["ds"].min()) & (past["ds"] <= future["ds"].max())
    ]
    ax.plot(shown["ds"], shown["y"], color="black", lw=1.4, label="actual")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, model in enumerate(models):
        for j, (_, window) in enumerate(future.groupby("cutoff")):
            ax.plot(
                window["ds"],
                window[model],
                color=colours[k % len(colours)],
                lw=1.3,
                label=model if j == 0 else None,
            )
            draw_bands(ax, window, model, colours[k % len(colours)], label=j == 0)
    for cutoff in future["cutoff"].unique():
        ax.axvline(cutoff, color="0.6", ls=":", lw=0.9)
    ax.set_title(f"{uid}: rolling-origin forecasts (dotted: cutoffs)", loc="left")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small", ncols=min(len(models) + 1, 5))
