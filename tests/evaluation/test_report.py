"""The HTML report: self-contained, and checked in a real headless browser."""

import io
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, TINY_ARGS
from rnncast.cli import main
from rnncast.evaluation.backtest import backtest
from rnncast.evaluation.report import render_report, write_report

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def result():
    from rnncast.datasets import load_air_passengers

    air = load_air_passengers()
    panel = pd.concat(
        [air, air.assign(unique_id="<b>sqrt & co</b>", y=np.sqrt(air["y"]))],
        ignore_index=True,
    )
    return backtest(
        panel,
        ["lstm", "snaive", "drift"],
        horizon=6,
        n_windows=2,
        neural_params={**TINY, "lookback": 24},
    )


def test_report_is_one_self_contained_file(result):
    page = render_report(result, title="test report")
    assert '<table id="leaderboard">' in page
    assert (
        len(
            re.findall(
                r"<tr(?: class=\"best\")?><td",
                page.split('id="leaderboard"')[1].split("</table>")[0],
            )
        )
        == 3
    )
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page
    assert (
        "<b>sqrt" not in page and "&lt;b&gt;sqrt &amp; co&lt;/b&gt;" in page
    )  # escaped
    assert page.count('class="series-plot') == 2
    assert "Training" in page and "Timings" in page
    assert "Accuracy by horizon step" in page


def test_write_report_is_atomic_and_utf8(result, tmp_path):
    write_report(tmp_path / "r.html", render_report(result, title="débit, test"))
    assert "débit, test" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "the report test needs Chromium: apt-get install chromium (.ci/run does)"
        )
    return path


def test_report_in_a_headless_browser(result, tmp_path):
    from matplotlib.image import imread
    from playwright.sync_api import sync_playwright

    report = tmp_path / "report.html"
    write_report(report, render_report(result))
    problems, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            tmp_path / "profile",  # a fresh, empty --user-data-dir
            executable_path=_chromium(),
            args=BROWSER_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        page = browser.new_page()
        page.on(
            "console",
            lambda m: m.type in ("error", "warning") and problems.append(m.text),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        rows = page.locator("#leaderboard tbody tr").count()
        visible = page.locator(".series-plot.shown").get_attribute("data-index")
        shot = page.locator("#series-plots").screenshot()
        page.select_option("#series-select", "1")
        after = page.locator(".series-plot.shown").get_attribute("data-index")
        browser.close()
    assert problems == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert rows == 3
    assert (visible, after) == ("0", "1")
    pixels = imread(io.BytesIO(shot))[..., :3]
    not_white = (pixels < 0.95).any(axis=-1).mean()
    assert pixels.shape[0] > 200 and not_white > 0.02


def test_report_command(tmp_path, capsys):
    out = tmp_path / "report.html"
    code = main(
        [
            "report",
            "air_passengers",
            "--models",
            "lstm,snaive",
            "--horizon",
            "6",
            "--windows",
            "2",
            *TINY_ARGS,
            "-o",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    assert "Leaderboard" in capsys.readouterr().out
    page = out.read_text()
    assert "rnncast backtest: air_passengers" in page and 'id="leaderboard"' in page


def test_backtest_can_also_write_the_report(tmp_path):
    out = tmp_path / "r.html"
    assert (
        main(
            [
                "backtest",
                "air_passengers",
                "--models",
                "naive",
                "--horizon",
                "6",
                "--windows",
                "1",
                "--report",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    assert 'id="leaderboard"' in out.read_text()
