"""A self-contained HTML report of a backtest: one file, no network needed to view it.

Everything is inline: the CSS, a few lines of JavaScript for the series selector, and
every picture as a base64 PNG. :func:`render_report` returns the HTML string;
:func:`write_report` writes it atomically.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import datetime, timezone
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from rnncast.data.series import format_time
from rnncast.evaluation.backtest import BacktestResult
from rnncast.evaluation.plotting import draw_backtest_series
from rnncast.io import atomic_path
from rnncast.version import __version__

__all__ = ["render_report", "write_report"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1f2430; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { margin-top: 2.2rem; font-size: 1.2rem; }
.meta { color: #5b6270; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #e3e6eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f5f8; }
tr.best td { font-weight: 600; background: #eef7ee; }
td.neural::after { content: " \\25CF"; color: #3a7bd5; font-size: .7rem; }
img { max-width: 100%; }
.series-plot { display: none; } .series-plot.shown { display: block; }
select { font-size: 1rem; padding: .2rem .4rem; }
.note { color: #5b6270; font-size: .85rem; }
"""

_SCRIPT = """
document.getElementById('series-select').addEventListener('change', function (event) {
  document.querySelectorAll('.series-plot').forEach(function (plot) {
    plot.classList.toggle('shown', plot.dataset.index === event.target.value);
  });
});
"""


def render_report(
    result: BacktestResult,
    *,
    title: str = "rnncast backtest report",
    max_series: int = 12,
) -> str:
    """Return the report of ``result`` as one self-contained HTML string.

    Sections: data summary, leaderboard, intervals (with levels), MASE by
    horizon step, each series' history, actuals and every model's forecasts (the
    first ``max_series`` series, chosen with a selector), training and validation
    loss curves of the networks, timings, fallbacks.
    """
    ids = list(dict.fromkeys(result.forecasts["unique_id"]))[:max_series]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">rnncast {__version__}, written '
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>",
        "<h2>Data</h2>",
        _summary_table(result.summary),
        "<h2>Leaderboard</h2>",
        '<p class="note">Means over series and windows, best first; OWA is relative to '
        "the reference model (below 1 is better). \u25cf marks the recurrent networks: "
        "with the defaults, lstm, gru and rnn mix the network's forecast with the "
        "Theta method's, and lstm+none... is the network alone.</p>",
        _leaderboard_table(result.leaderboard, set(result.training)),
    ]
    levels = result.summary.get("levels") or []
    if levels:
        parts += [
            "<h2>Prediction intervals</h2>",
            '<p class="note">Coverage: share of actuals inside the interval (aim: '
            "the level). Width: mean interval width in the data's units. MSIS: "
            "the M4 interval score, scaled like MASE (lower is better). Pinball: "
            "mean quantile loss over the point forecast and every bound, scaled "
            "like MASE. Bands are drawn on the forecasts below.</p>",
            _interval_table(result.leaderboard, levels),
        ]
    if len(result.steps):
        parts += [
            "<h2>Accuracy by horizon step</h2>",
            '<p class="note">MASE of each forecast step (1 = the first value after '
            "the cutoff), over series and windows; the mean over the steps is the "
            "leaderboard's MASE. Where the lines cross, models gain and lose "
            "their lead in different parts of the horizon.</p>",
            _image(
                _step_figure(
                    result.steps,
                    list(result.leaderboard["model"]),
                    set(result.training),
                )
            ),
        ]
    parts += [
        "<h2>Forecasts</h2>",
        _series_section(result, ids),
    ]
    if result.training:
        parts += ["<h2>Training</h2>", _image(_loss_figure(result))]
    parts += ["<h2>Timings</h2>", _image(_timing_figure(result.leaderboard))]
    if len(result.fallbacks):
        parts += ["<h2>Fallbacks</h2>", _fallback_table(result.fallbacks)]
    parts += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts)


def write_report(path: str | os.PathLike[str], report: str) -> None:
    """Write the HTML string ``report`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(report, encoding="utf-8")


def _summary_table(summary: dict[str, Any]) -> str:
    rows = [
        ("series", summary.get("series")),
        ("values", summary.get("values")),
        (
            "length (min / median / max)",
            f"{summary.get('min_length')} / {summary.get('median_length'):g} / "
            f"{summary.get('max_length')}",
        ),
        ("frequency", summary.get("freq")),
        ("season length", summary.get("season_length")),
        ("values filled (gaps)", summary.get("filled")),
        (
            "backtest",
            f"{summary.get('windows')} windows x horizon {summary.get('horizon')}",
        ),
    ]
    body = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(value))}</td></tr>"
        for name, value in rows
    )
    return f'<table id="summary"><tbody>{body}</tbody></table>'


def _leaderboard_table(board: pd.DataFrame, networks: set[str]) -> str:
    """Return the leaderboard as an HTML table; ``networks`` (trained models) marked."""
    columns = [
        ("model", "model"),
        ("mse", "MSE"),
        ("mae", "MAE"),
        ("rmse", "RMSE"),
        ("mape", "MAPE %"),
        ("smape", "sMAPE %"),
        ("mase", "MASE"),
        ("owa", "OWA"),
        ("fit_seconds", "fit s"),
        ("predict_seconds", "predict s"),
        ("fallbacks", "fallbacks"),
    ]
    if "covariates" in board and (board["covariates"] != "-").any():
        columns.append(("covariates", "covariates seen"))
    head = "".join(f"<th>{label}</th>" for _, label in columns)
    rows = []
    for position, row in enumerate(board.itertuples()):
        cells = []
        for key, _ in columns:
            value = getattr(row, key)
            if key == "model":
                neural = ' class="neural"' if value in networks else ""
                cells.append(f"<td{neural}>{html.escape(str(value))}</td>")
            elif key == "fallbacks":
                cells.append(f"<td>{int(value)}</td>")
            elif key == "covariates":
                cells.append(f"<td>{html.escape(str(value))}</td>")
            else:
                cells.append(f"<td>{value:.4g}</td>")
        best = ' class="best"' if position == 0 else ""
        rows.append(f"<tr{best}>{''.join(cells)}</tr>")
    return (
        f'<table id="leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _interval_table(board: pd.DataFrame, levels: list[float]) -> str:
    columns = [("model", "model")]
    for lv in levels:
        columns += [
            (f"coverage_{lv}", f"coverage {lv} %"),
            (f"width_{lv}", f"width {lv} %"),
            (f"msis_{lv}", f"MSIS {lv} %"),
        ]
    columns.append(("pinball", "pinball"))
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    rows = []
    for row in board.to_dict("records"):
        cells = [f"<td>{html.escape(str(row['model']))}</td>"]
        for key, _ in columns[1:]:
            value = row[key]
            shown = (
                f"{100 * value:.1f} %" if key.startswith("coverage") else f"{value:.4g}"
            )
            cells.append(f"<td>{shown}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table id="intervals"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _series_section(result: BacktestResult, ids: list[Any]) -> str:
    options = "".join(
        f'<option value="{k}">{html.escape(str(uid))}</option>'
        for k, uid in enumerate(ids)
    )
    total = result.forecasts["unique_id"].nunique()
    shown = f" (the first {len(ids)} of {total})" if total > len(ids) else ""
    plots = "".join(
        f'<div class="series-plot{" shown" if k == 0 else ""}" data-index="{k}">'
        f"{_image(_series_figure(result, uid))}</div>"
        for k, uid in enumerate(ids)
    )
    return (
        f'<p><label for="series-select">Series{shown}:</label> '
        f'<select id="series-select">{options}</select></p>'
        f'<div id="series-plots">{plots}</div>'
    )


def _series_figure(result: BacktestResult, uid: Any) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    models = list(result.leaderboard["model"])
    draw_backtest_series(
        ax, result.history, result.forecasts, uid, models, result.season_length
    )
    return fig


def _loss_figure(result: BacktestResult) -> plt.Figure:
    models = list(result.training)
    fig, axes = plt.subplots(
        1,
        len(models),
        figsize=(3.6 * len(models) + 1, 3.2),
        squeeze=False,
        layout="constrained",
    )
    for ax, model in zip(axes[0], models, strict=True):
        for w, history in enumerate(result.training[model]):
            epochs = [r.epoch for r in history]
            line = ax.plot(
                epochs,
                [r.train_loss for r in history],
                lw=1.2,
                label=f"train, fit {w + 1}",
            )
            val = [r.val_loss for r in history]
            if all(v is not None for v in val):
                ax.plot(
                    epochs,
                    val,
                    lw=1.2,
                    ls="--",
                    color=line[0].get_color(),
                    label=f"validation, fit {w + 1}",
                )
        ax.set_yscale("log")
        ax.set_title(model.upper(), loc="left")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("loss (scaled units)")
    axes[0, -1].legend(fontsize="x-small")
    return fig


def _step_figure(
    steps: pd.DataFrame, models: list[str], networks: set[str]
) -> plt.Figure:
    """MASE at each horizon step, one line per model (networks solid)."""
    fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
    for model in models:
        rows = steps[steps["model"] == model]
        ax.plot(
            rows["step"],
            rows["mase"],
            marker="o",
            ms=3,
            lw=1.4,
            ls="-" if model in networks else "--",
            label=model,
        )
    ax.set_xlabel("horizon step")
    ax.set_ylabel("MASE")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    return fig


def _timing_figure(board: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(board) + 1.2), layout="constrained")
    ordered = board.sort_values("fit_seconds")
    ax.barh(ordered["model"], ordered["fit_seconds"], label="fit")
    ax.barh(
        ordered["model"],
        ordered["predict_seconds"],
        left=ordered["fit_seconds"],
        label="predict",
    )
    ax.set_xlabel("seconds, all windows")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return fig


def _fallback_table(fallbacks: pd.DataFrame) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(r.model))}</td><td>{html.escape(str(r.unique_id))}</td>"
        f"<td>{html.escape(format_time(r.cutoff))}</td><td>{html.escape(str(r.reason))}</td>"
        "</tr>"
        for r in fallbacks.itertuples()
    )
    return (
        '<table id="fallbacks"><thead><tr><th>model</th><th>series</th>'
        "<th>cutoff</th><th>reason: forecast used instead</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _image(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'
