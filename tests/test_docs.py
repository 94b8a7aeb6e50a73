"""docs/math.md cites lines of the reference cells; keep the citations true."""

import functools
import re
from pathlib import Path

from rnncast import Forecaster

ROOT = Path(__file__).resolve().parents[1]


def test_cited_lines_hold_the_cited_code():
    doc = (ROOT / "docs" / "math.md").read_text()
    source = (ROOT / "src" / "rnncast" / "reference" / "cells.py").read_text()
    source = source.splitlines()
    citations = re.findall(r"line (\d+) `([^`]+)`", doc)
    assert len(citations) >= 6
    for number, code in citations:
        assert code in source[int(number) - 1], (number, code)


def test_the_readme_python_quick_start_runs(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)  # it saves a model folder
    exec(compile(blocks[0], "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "theta" in printed and "snaive" in printed  # the leaderboard
    assert (tmp_path / "model_dir" / "config.json").is_file()


def test_the_readme_covariates_example_runs():
    readme = (ROOT / "README.md").read_text()
    block = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)[1]
    # the example's calls as written, on a training budget a test can afford
    names = {"Forecaster": functools.partial(Forecaster, max_steps=20, patience=2)}
    exec(compile(block, "README.md", "exec"), names)
    forecast, futr = names["forecast"], names["next_day"]
    assert list(forecast["ds"]) == list(futr["ds"]) and forecast["yhat"].notna().all()


def test_links_between_the_documents_lead_somewhere():
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "benchmarks/README.md"]
    pages += sorted((ROOT / "docs").glob("*.md"))
    for page in pages:
        for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if not link.startswith("http"):
                assert (page.parent / link).exists(), (page.name, link)
