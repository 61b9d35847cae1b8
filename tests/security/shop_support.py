"""A small shop per engine for the public-view and access tests: products in every
workflow status, assets with expired, channel-restricted and free rights, imported through
the API as an editor would, with a key per role (and named keys) over a real app.

Unlike the shared `secured` catalog, a shop belongs to one test module, which may change it
(withdraw products, revoke keys) without disturbing any other module.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from discovery.api.app import create_app
from discovery.api.auth import ROLES, create_key
from discovery.config import Settings, TextSettings
from discovery.domain import JSONObject
from discovery.services import jobs
from discovery.services.context import Context

ENGINES = [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)]
HEADER = ["sku", "parent_sku", "name", "price", "currency", "status"]
# sku -> (name, status); an empty status takes the import default (approved).
PRODUCTS: dict[str, tuple[str, str]] = {
    "FULL-050": ("Ember hoodie", "approved"),
    "PUB-1": ("Ember jacket", ""),
    "PUB-2": ("Ember boots", "approved"),
    "DRAFT-1": ("Ember cap", "draft"),
    "REVIEW-1": ("Ember scarf", "in_review"),
}
# file -> (sku, expires_at, channels, colour)
ASSETS: dict[str, tuple[str, str, str, tuple[int, int, int]]] = {
    "free.png": ("PUB-2", "", "", (200, 30, 30)),
    "expired.png": ("PUB-2", "2020-01-31", "", (30, 200, 30)),
    "print-only.png": ("PUB-2", "", "print", (30, 30, 200)),
    "web-only.png": ("PUB-2", "", "web", (200, 200, 30)),
    "of-draft.png": ("DRAFT-1", "", "", (30, 200, 200)),
}
# Channels with no requirements, so every listed product is ready for them (feed tests).
CHANNELS_YAML = """
channels:
  web:
    label: Web
    required: [name]
    images: {min: 0}
  print:
    label: Print
    required: [name]
    images: {min: 0}
"""
JOB_TIMEOUT = 180.0


@dataclass
class Shop:
    engine: str
    client: TestClient
    ctx: Context
    keys: dict[str, str]
    assets: dict[str, str] = field(default_factory=dict)  # file name -> asset id

    def as_role(self, role: str | None) -> dict[str, str]:
        """Headers of a caller: `None` is anonymous (no key)."""
        return {"X-API-Key": self.keys[role]} if role else {}

    def import_products(self, rows: list[list[str]], *, mode: str = "partial") -> JSONObject:
        return self.upload("/api/ingest/products", {"file": ("products.csv", products_csv(rows), "text/csv")}, mode)

    def upload(self, path: str, files: object, mode: str | None = None) -> JSONObject:
        data = {"mode": mode} if mode else None
        answer = self.client.post(path, files=files, data=data, headers=self.as_role("editor"))  # type: ignore[arg-type]
        assert answer.status_code == 202, answer.text
        job = jobs.wait_for_job(self.ctx, str(answer.json()["id"]), timeout=JOB_TIMEOUT)
        assert job["state"] == "succeeded", job
        self.ctx.backend.refresh()
        return job


def products_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def catalog_rows() -> list[list[str]]:
    return [[sku, "", name, "10", "EUR", status] for sku, (name, status) in PRODUCTS.items()]


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (96, 64), colour)
    for x in range(0, 96, 8):  # some structure, so the image is not one flat colour
        for y in range(64):
            image.putpixel((x, y), (255 - colour[0], 255 - colour[1], 255 - colour[2]))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def settings_for(engine: str, root: Path, request: pytest.FixtureRequest) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    (root / "var").mkdir(exist_ok=True)
    (root / "var" / "channels.yaml").write_text(CHANNELS_YAML, encoding="utf-8")
    common = {"data_dir": root / "var", "text": TextSettings(enabled=False)}
    if engine == "opensearch":
        url = request.getfixturevalue("opensearch_url")
        prefix = f"shop{uuid.uuid4().hex[:10]}"  # as `unique_prefix`, for a module-scoped shop
        return Settings(backend="opensearch", opensearch_url=url, index_prefix=prefix, **common)  # type: ignore[arg-type]
    return Settings(backend="embedded", **common)  # type: ignore[arg-type]


@contextmanager
def open_shop(settings: Settings, engine: str) -> Iterator[Shop]:
    """The shop, built through the API; closed (and its OpenSearch indices dropped) on exit."""
    ctx = Context.open(settings)
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            keys = {str(role): create_key(ctx.records, role=role, name=f"{role}-holder") for role in ROLES}
            keys["reviewer2"] = create_key(ctx.records, role="reviewer", name="bob")
            shop = Shop(engine=engine, client=client, ctx=ctx, keys=keys)
            shop.import_products(catalog_rows())
            manifest = "sku,file,license,credit,expires_at,channels\n" + "".join(
                f"{sku},{name},,,{expires},{channels}\n" for name, (sku, expires, channels, _) in ASSETS.items()
            )
            files = [("files", (name, png(colour), "image/png")) for name, (_, _, _, colour) in ASSETS.items()]
            files.append(("manifest", ("manifest.csv", manifest.encode(), "text/csv")))
            shop.upload("/api/ingest/assets", files)
            shop.assets = {a.filename: a.id for batch in ctx.records.iter_assets() for a in batch}
            yield shop
            jobs.close_jobs(ctx, wait=True)
    finally:
        if engine == "opensearch":
            ctx.backend.drop()  # type: ignore[attr-defined]
        ctx.close()
