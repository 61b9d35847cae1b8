"""Rows and files of a test's own, sent through the API of the shared session catalog (its
catalog is shared with other tests, so a test that changes records brings its own)."""

from __future__ import annotations

import hashlib
import io
import json
import time
from typing import Any

from PIL import Image

from tests.api.conftest import Catalog


def editor(catalog: Catalog) -> dict[str, str]:
    return {"X-API-Key": catalog.keys["editor"]}


def png(name: str) -> bytes:
    """A picture of its own per file name (the same bytes twice would be one asset)."""
    digest = hashlib.sha256(name.encode()).digest()
    out = io.BytesIO()
    Image.new("RGB", (96, 96), (digest[0], digest[1], digest[2])).save(out, "PNG")
    return out.getvalue()


def wait_job(catalog: Catalog, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    for _ in range(600):
        job = catalog.client.get(f"/api/jobs/{job_id}", headers=editor(catalog)).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def import_rows(catalog: Catalog, rows: list[dict[str, object]], **form: str) -> dict[str, Any]:
    # A brand of their own and made-up words: the session's catalog is shared with other tests.
    body = "".join(json.dumps({"brand": "Quillonworks", **r}) + "\n" for r in rows).encode()
    files = {"file": ("p.jsonl", body, "application/json")}
    return wait_job(
        catalog, catalog.client.post("/api/ingest/products", files=files, data=form, headers=editor(catalog))
    )


def upload(catalog: Catalog, names: list[str], **form: str) -> dict[str, Any]:
    files = [("files", (n, png(n), "image/png")) for n in names]
    return wait_job(catalog, catalog.client.post("/api/ingest/assets", files=files, data=form, headers=editor(catalog)))
