"""docs/RELIABILITY.md names, for every finding, the tests that keep it true: each must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_the_reliability_report_names_exists() -> None:
    report = (ROOT / "docs" / "RELIABILITY.md").read_text()
    rows = [line for line in report.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 17, "one row per finding of the hardening issue"
    files = list((ROOT / "tests").rglob("test_*.py"))
    defined = {m for path in files for m in re.findall(r"def (test_\w+)", path.read_text())}
    for row in rows:
        named = set(re.findall(r"\b(test_\w+)\b", row.split("|")[-2]))
        assert named, f"row without a test: {row[:60]}"
        modules = {path.stem for path in files}
        missing = named - defined - modules
        assert not missing, f"the report names tests that do not exist: {sorted(missing)}"
