"""docs/math.md cites lines of the reference cells; keep the citations true."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cited_lines_hold_the_cited_code():
    doc = (ROOT / "docs" / "math.md").read_text()
    source = (ROOT / "src" / "rnncast" / "reference" / "cells.py").read_text()
    source = source.splitlines()
    citations = re.findall(r"line (\d+) `([^`]+)`", doc)
    assert len(citations) >= 6
    for number, code in citations:
        assert code in source[int(number) - 1], (number, code)
