"""SKUs hold whatever characters a PIM gave them: one with `/`, `%`, `#`, `?`, a space or
non-ASCII letters imports, is found by search, and is addressable, percent-encoded as the UI
encodes it (`encodeURIComponent`), by the product view, the workflow status and the channel
view. On both engines."""

from __future__ import annotations

import csv
import io
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.config import Settings, TextSettings

ODD_SKUS = ["AB/12/XL", "50%OFF", "C#1", "with space", "Ünï-码-7", "q?x=1&y", "trailing/"]
KEY = "odd-sku-admin-key-0123456789abcdef"
ENGINES = [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)]


def encoded(sku: str) -> str:
    """As the UI's `encodeURIComponent` writes it."""
    return urllib.parse.quote(sku, safe="-_.!~*'()")


@pytest.fixture(scope="module", params=ENGINES)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp(f"odd-{request.param}")
    settings = Settings(data_dir=tmp / "var", backend=request.param, admin_key=KEY, text=TextSettings(enabled=False))
    if request.param == "opensearch":
        settings = settings.model_copy(update={
            "opensearch_url": request.getfixturevalue("opensearch_url"), "index_prefix": f"odd-{uuid.uuid4().hex[:10]}"
        })
    app = create_app(settings)
    with TestClient(app, headers={"X-API-Key": KEY}) as c:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["sku", "name", "brand", "price", "categories"])
        for i, sku in enumerate(ODD_SKUS):
            writer.writerow([sku, f"Oddity kettle {i}", "Oddco", "10.00", "Home/Kitchen"])
        answer = c.post("/api/ingest/products", files={"file": ("odd.csv", out.getvalue().encode(), "text/csv")})
        assert answer.status_code == 202, answer.text
        job: Any = _wait(c, answer.json()["id"])
        assert job["state"] == "succeeded" and job["counts"]["rejected"] == 0, job
        yield c
        if request.param == "opensearch":
            app.state.ctx.backend.drop()


def _wait(c: TestClient, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, object] = c.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_skus_with_any_character_are_found_by_search(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "oddity", "type": "product", "mode": "keyword", "size": 50})
    assert sorted(h["id"] for h in hits.json()["hits"]) == sorted(ODD_SKUS)


@pytest.mark.parametrize("sku", ODD_SKUS)
def test_a_product_is_addressable_by_its_percent_encoded_sku(client: TestClient, sku: str) -> None:
    answer = client.get(f"/api/products/{encoded(sku)}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["sku"] == sku


@pytest.mark.parametrize("sku", ODD_SKUS)
def test_the_channel_view_and_the_workflow_reach_an_odd_sku(client: TestClient, sku: str) -> None:
    view = client.get(f"/api/channels/web/products/{encoded(sku)}")
    assert view.status_code == 200, view.text
    assert view.json()["sku"] == sku
    moved = client.post(f"/api/products/{encoded(sku)}/status", json={"status": "in_review"})
    assert moved.status_code == 200, moved.text
    assert client.get(f"/api/products/{encoded(sku)}").json()["status"] == "in_review"


def test_an_unknown_sku_with_a_slash_is_a_clear_404(client: TestClient) -> None:
    answer = client.get(f"/api/products/{encoded('NO/SUCH/SKU')}")
    assert answer.status_code == 404
    assert "NO/SUCH/SKU" in answer.json()["detail"]
