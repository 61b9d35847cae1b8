"""Decoders and renderers under hostile files: a PDF that inflates to gigabytes, a tiny
PNG of tens of megapixels. What is measured is the server's cost (time, resident memory),
through a real server process and its public HTTP API."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from discovery.api.app import create_app
from discovery.config import Settings
from tests.security import hostile_files as hf
from tests.security.live_server import LiveServer, live_server, rss_mb

RENDITION_SECONDS = 10.0
RSS_GROWTH_MB = 300.0


@pytest.fixture(scope="module")
def inflating_pdf() -> bytes:
    return hf.inflating_pdf(1024)


def _ingest(server: LiveServer, name: str, data: bytes) -> str:
    """The asset id of one PDF ingested through the API as an editor would."""
    with server.client(key=server.admin_key) as http:
        accepted = http.post("/api/ingest/assets", files=[("files", (name, data, "application/pdf"))])
        assert accepted.status_code == 202, accepted.text
        job = server.wait_job(accepted.json()["id"])
        assert job["counts"]["indexed"] == 1, job
        # The job worker's commit reaches the server's search within a second.
        for _ in range(50):
            hits = http.get("/api/search", params={"type": "asset", "size": 10}).json()["hits"]
            found = [h["id"] for h in hits if h["filename"] == name]
            if found:
                return str(found[0])
            time.sleep(0.1)
    raise AssertionError(f"{name} was indexed but never found by search")


def test_inflating_pdf_rendition_answers_fast_and_leaves_server_memory_alone(
    tmp_path: Path, inflating_pdf: bytes
) -> None:
    with live_server(tmp_path / "var") as server:
        plain_id = _ingest(server, "lookbook.pdf", hf.plain_pdf("Lookbook"))  # loads the models
        before_ingest = rss_mb(server.pid)
        hostile_id = _ingest(server, "inflating.pdf", inflating_pdf)
        before = rss_mb(server.pid)
        with server.client() as anonymous:  # the finding: an anonymous caller
            started = time.monotonic()
            hostile = anonymous.get(f"/api/assets/{hostile_id}/renditions/web")
            seconds = time.monotonic() - started
            after = rss_mb(server.pid)
            plain = anonymous.get(f"/api/assets/{plain_id}/renditions/web")
    print(
        f"\ninflating PDF ({len(inflating_pdf) / 1024:.0f} KB, inflates to 1 GiB): rendition answered "
        f"{hostile.status_code} in {seconds:.2f} s ({hostile.json().get('detail')}); server RSS "
        f"{before_ingest:.0f} MB before its ingest, {before:.0f} MB before the request, {after:.0f} MB after "
        f"(ingest +{before - before_ingest:.0f} MB, request +{after - before:.0f} MB)"
    )
    assert 400 <= hostile.status_code < 600
    assert hostile.headers["content-type"].startswith("application/problem+json")
    assert "PDF refused" in hostile.json()["detail"] and "limit" in hostile.json()["detail"]
    assert seconds < RENDITION_SECONDS
    assert after - before < RSS_GROWTH_MB
    assert before - before_ingest < RSS_GROWTH_MB
    assert plain.status_code == 200 and plain.headers["content-type"] == "image/webp"


@pytest.fixture(scope="module")
def bare_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app on an empty embedded catalog: enough for what is refused before any lookup."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("decoders") / "var", backend="embedded")
    with TestClient(create_app(settings)) as client:
        yield client


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 200).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_image_search_refuses_a_small_png_of_many_megapixels(bare_client: TestClient) -> None:
    hostile = _png((7000, 7000))  # 49 MP in a few tens of KB
    started = time.monotonic()
    refused = bare_client.post("/api/search/image", files={"file": ("big.png", hostile, "image/png")})
    seconds = time.monotonic() - started
    print(f"\n49 MP PNG ({len(hostile) / 1024:.0f} KB): image search answered {refused.status_code} in {seconds:.3f} s")
    assert refused.status_code == 413, refused.text
    assert refused.json()["field"] == "file" and "49.0 MP" in refused.json()["detail"]
    assert seconds < 1.0


def test_image_search_still_takes_a_large_jpeg_decoded_reduced(bare_client: TestClient) -> None:
    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), (90, 120, 200)).save(out, "JPEG", quality=70)  # 24 MP: decoded at 1/8
    answer = bare_client.post("/api/search/image", files={"file": ("photo.jpg", out.getvalue(), "image/jpeg")})
    assert answer.status_code == 200, answer.text
