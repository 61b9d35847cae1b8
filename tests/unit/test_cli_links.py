"""The CLI's job summary lists what linking did."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from discovery import cli


def test_the_cli_summary_lists_links_by_how_suggested_and_ambiguous(monkeypatch: pytest.MonkeyPatch) -> None:
    written = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=written, width=200))
    cli._print_links({
        "counts": {"linked_filename_rule": 2, "suggested": 1, "ambiguous": 1},
        "linked": [{"file": "uix-0001-red_main.png", "sku": "UIX-0001", "how": "filename_rule"}],
        "suggested": [{"file": "wb02-green-0.jpg", "sku": "WB02", "reason": "WB02's export names its images"}],
        "ambiguous": [{"file": "mb02-red.jpg", "candidates": ["24-MB02", "25-MB02"], "reason": "MB02 matches 2 SKUs"}],
    })  # fmt: skip
    out = written.getvalue()
    assert "linked_filename_rule" in out and "'suggested': 1" in out
    assert "suggested wb02-green-0.jpg -> WB02" in out
    assert "ambiguous mb02-red.jpg -> 24-MB02, 25-MB02" in out
