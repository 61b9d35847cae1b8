"""The CLI's job summary lists what linking did, and its link-rule options reach the import."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

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


@pytest.mark.parametrize("handed", [False, True], ids=["here", "handed-to-a-server"])
def test_the_link_rule_options_reach_an_asset_ingest_run_here_or_handed_over(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, handed: bool
) -> None:
    from discovery.services import ingest

    calls: list[tuple[str, dict[str, object]]] = []

    def here(settings: object, paths: list[Path], **options: object) -> dict[str, object]:
        calls.append(("here", options))
        return {"state": "succeeded", "counts": {}}

    def via(url: str, key: str | None, paths: list[Path], **options: object) -> dict[str, object]:
        calls.append((f"via {url} {key}", options))
        return {"state": "succeeded", "counts": {}}

    monkeypatch.setattr(ingest, "ingest_asset_paths", here)
    monkeypatch.setattr(ingest, "ingest_asset_paths_via", via)
    monkeypatch.setattr(cli, "_server", lambda url, key: ("http://127.0.0.1:1", "k") if handed else None)
    monkeypatch.setenv("DISCOVERY_DATA_DIR", str(tmp_path / "var"))
    cli.get_settings.cache_clear()
    picture = tmp_path / "a.png"
    picture.write_bytes(b"not read: the service is replaced")
    args = ["ingest", "assets", str(picture), "--collection", "Shoot", "--link-rule", "none", "--link-pattern", "x"]
    answer = CliRunner().invoke(cli.app, args)
    cli.get_settings.cache_clear()
    assert answer.exit_code == 0, answer.output
    ((where, options),) = calls
    assert where == ("via http://127.0.0.1:1 k" if handed else "here")
    assert {k: options[k] for k in ("collection", "link_rule", "link_pattern", "manifest")} == {
        "collection": "Shoot", "link_rule": "none", "link_pattern": "x", "manifest": None,
    }  # fmt: skip
    assert options["progress"] is not None
