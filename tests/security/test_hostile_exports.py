"""Hostile product exports uploaded through the API: a 100 MB field (on one line, and
quoted across many) and JSON nested 100,000 deep are each rejected with a reason and a
line, and the rows around them are still imported, with memory bounded while reading."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.api.auth import create_key
from discovery.config import Settings
from discovery.domain import JSONObject
from discovery.services import jobs
from discovery.services.context import Context
from indexer.products.readers import open_rows
from indexer.products.report import Reject

FIELD_MB = 100
DEEP = 100_000


@pytest.fixture(scope="module")
def importer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ctx = Context.open(Settings(data_dir=tmp_path_factory.mktemp("exports") / "var", backend="embedded"))
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            yield client, {"X-API-Key": create_key(ctx.records, role="editor")}
            jobs.close_jobs(ctx, wait=True)
    finally:
        ctx.close()


def _huge_field_csv(path: Path, *, multi_line: bool) -> Path:
    """GOOD-1, a row whose quoted description is 100 MB, GOOD-2; written in 1 MB pieces."""
    piece = (b"y" * 1023 + b"\n") * 1024 if multi_line else b"x" * (1 << 20)
    with path.open("wb") as out:
        out.write(b'sku,name,description\nGOOD-1,First,fine\nBIG-1,Big,"')
        for _ in range(FIELD_MB):
            out.write(piece)
        out.write(b'"\nGOOD-2,Second,fine\n')
    return path


def _deep(path: Path, *, array: bool) -> Path:
    good = [json.dumps({"sku": f"GOOD-{i}", "name": f"Good {i}"}) for i in (1, 2)]
    deep = '{"sku": "DEEP-1", "name": "x", "s": "]}\\"[{", "attributes": {"a": ' + "[" * DEEP + "]" * DEEP + "}}"
    rows = [good[0], deep, good[1]]
    path.write_text("[" + ",\n".join(rows) + "]\n" if array else "\n".join(rows) + "\n")
    return path


def _import(client: TestClient, headers: dict[str, str], path: Path) -> JSONObject:
    with path.open("rb") as fh:
        response = client.post("/api/ingest/products", files={"file": (path.name, fh, "text/plain")}, headers=headers)
    assert response.status_code == 202, response.text
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    return jobs.wait_for_job(ctx, str(response.json()["id"]), timeout=300)


def _rejects(job: JSONObject) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], job["rejects"])


def _imported(client: TestClient, sku: str) -> bool:
    return client.get(f"/api/products/{sku}").status_code == 200


@pytest.mark.parametrize("multi_line", [False, True], ids=["one_line", "quoted_across_lines"])
def test_a_100_mb_field_is_rejected_with_a_reason_and_the_rest_imported(
    importer: tuple[TestClient, dict[str, str]], tmp_path: Path, multi_line: bool
) -> None:
    client, editor = importer
    job = _import(client, editor, _huge_field_csv(tmp_path / "huge.csv", multi_line=multi_line))
    assert job["state"] == "succeeded", job
    rejects = _rejects(job)
    assert [r["line"] for r in rejects] == [3], rejects
    assert "larger than" in rejects[0]["reason"] or "longer than" in rejects[0]["reason"]
    assert _imported(client, "GOOD-1") and _imported(client, "GOOD-2")
    assert not _imported(client, "BIG-1")


@pytest.mark.parametrize("array", [False, True], ids=["json_lines", "json_array"])
def test_json_nested_100000_deep_is_rejected_with_a_reason_and_the_rest_imported(
    importer: tuple[TestClient, dict[str, str]], tmp_path: Path, array: bool
) -> None:
    client, editor = importer
    job = _import(client, editor, _deep(tmp_path / ("deep.json" if array else "deep.jsonl"), array=array))
    assert job["state"] == "succeeded", job
    [reject] = _rejects(job)
    assert reject["line"] == 2 and "nested deeper than" in reject["reason"]
    assert _imported(client, "GOOD-1") and _imported(client, "GOOD-2")
    assert not _imported(client, "DEEP-1")


def test_reading_a_100_mb_field_keeps_memory_bounded(tmp_path: Path) -> None:
    path = _huge_field_csv(tmp_path / "huge.csv", multi_line=True)
    tracemalloc.start()
    try:
        rows, stream = open_rows(path)
        with stream:
            read = list(rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.line if isinstance(r, Reject) else r[0] for r in read] == [2, 3, FIELD_MB * 1024 + 4]
    # The limit on one record (8 MiB) bounds what is held, never the field's 100 MB.
    assert peak < 64 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
