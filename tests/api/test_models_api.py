"""`/api/models`: which generation searches use, and a CLIP switch started over HTTP and
followed through the jobs API; bad input is refused naming the field."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from discovery.api.app import create_app
from discovery.api.auth import create_key
from discovery.config import Settings


def _png(rgb: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), rgb).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(Settings(data_dir=tmp_path / "var", backend="embedded"))
    with TestClient(app) as http:
        ctx = app.state.ctx
        keys = {role: create_key(ctx.records, role=role) for role in ("reviewer", "editor")}
        yield http, keys


def _wait(http: TestClient, job_id: str, key: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, object] = http.get(f"/api/jobs/{job_id}", headers={"X-API-Key": key}).json()
        if job["state"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_a_clip_switch_over_http_is_a_job_and_models_show_the_new_generation(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, keys = client
    editor = {"X-API-Key": keys["editor"]}
    files = [("files", (f"c{i}.png", _png(rgb), "image/png")) for i, rgb in enumerate([(200, 0, 0), (0, 0, 200)])]
    ingest = http.post("/api/ingest/assets", files=files, headers=editor)
    assert ingest.status_code == 202
    assert _wait(http, ingest.json()["id"], keys["editor"])["state"] == "succeeded"

    started = http.post("/api/models/clip", json={"model": "tiny-b"}, headers=editor)
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == f"/api/jobs/{started.json()['id']}"
    job = _wait(http, started.json()["id"], keys["editor"])
    assert job["state"] == "succeeded" and job["kind"] == "use_clip_model" and job["progress"] == 1.0

    shown = http.get("/api/models", headers=editor).json()
    active = shown["generations"]["image_vector"]["active"]
    assert active.startswith("tiny-b@") and shown["generations"]["image_vector"]["pending"] is None
    assert [v for v in shown["vectors"] if v["field"] == "image_vector"] == [
        {"field": "image_vector", "model": active, "count": 2}
    ]


def test_an_unknown_model_is_refused_naming_the_field(client: tuple[TestClient, dict[str, str]]) -> None:
    http, keys = client
    answer = http.post("/api/models/clip", json={"model": "NoSuchNet-9"}, headers={"X-API-Key": keys["editor"]})
    assert answer.status_code == 400
    assert answer.json()["field"] == "model" and "NoSuchNet-9" in answer.json()["detail"]


def test_switching_to_the_active_model_is_a_conflict(client: tuple[TestClient, dict[str, str]]) -> None:
    http, keys = client
    answer = http.post("/api/models/clip", json={"model": "tiny"}, headers={"X-API-Key": keys["editor"]})
    assert answer.status_code == 409 and "active image model already" in answer.json()["detail"]


def test_a_reviewer_may_not_switch_models(client: tuple[TestClient, dict[str, str]]) -> None:
    http, keys = client
    answer = http.post("/api/models/clip", json={"model": "tiny-b"}, headers={"X-API-Key": keys["reviewer"]})
    assert answer.status_code == 403
