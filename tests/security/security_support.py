"""One catalog per engine for the security and fuzz tests: the generated sample catalog
plus hostile files uploaded through the API as an editor would, built once per session
(it is the slow part) and opened by each test module with its own app and keys.

Modules must not hold an app open on the same data at once (the embedded index has one
writer), so `open_catalog` closes its app and waits for its jobs before it returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.api.auth import ROLES, create_key
from discovery.config import Settings
from discovery.domain import JSONObject
from discovery.services import jobs
from discovery.services.context import Context
from discovery.services.demo import load_demo
from tests.api.conftest import Catalog
from tests.security import hostile_files as hf

ENGINES = [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)]
JOB_TIMEOUT = 180.0


class Answer(Protocol):
    """What the test client returns (whichever httpx it is built on)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Any: ...  # a case-insensitive mapping
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


def job_rejects(job: JSONObject) -> dict[str, str]:
    """A job's rejects as file (or `line N`) -> reason."""
    rejects = job.get("rejects")
    out: dict[str, str] = {}
    for reject in rejects if isinstance(rejects, list) else []:
        if isinstance(reject, dict):
            where = reject.get("file") or f"line {reject.get('line')}"
            out[str(where)] = str(reject.get("reason"))
    return out


@dataclass
class Hostile:
    """What was uploaded and what it must come back as."""

    asset_ids: dict[str, str] = field(default_factory=dict)  # file name -> asset id
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)  # asset id -> key -> exact text
    products: dict[str, dict[str, str]] = field(default_factory=dict)  # sku -> field -> exact text
    markup_job: JSONObject = field(default_factory=dict)  # the job that was handed SVG/HTML


@dataclass
class Built:
    engine: str
    settings: Settings
    info: JSONObject
    hostile: Hostile


@dataclass
class SecuredCatalog(Catalog):
    engine: str = "embedded"
    hostile: Hostile = field(default_factory=Hostile)

    def as_role(self, role: str | None) -> dict[str, str]:
        """Headers of a caller: `None` is anonymous (no key)."""
        return {"X-API-Key": self.keys[role]} if role else {}


_BUILT: dict[str, Built] = {}
_CREATED: list[Settings] = []  # every OpenSearch catalog begun, dropped at the end even if its build failed


def _settings(engine: str, root: Path, request: pytest.FixtureRequest) -> Settings:
    if engine == "opensearch":
        url = request.getfixturevalue("opensearch_url")  # skips (or fails) first when OpenSearch is down
        prefix = f"sec{uuid.uuid4().hex[:10]}"
        return Settings(data_dir=root / "var", backend="opensearch", opensearch_url=url, index_prefix=prefix)
    return Settings(data_dir=root / "var", backend="embedded")


def built_catalog(engine: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Built:
    """The engine's catalog, built on first use in this session."""
    if engine not in _BUILT:
        settings = _settings(engine, tmp_path_factory.mktemp(f"secure-{engine}"), request)
        _CREATED.append(settings)
        info = load_demo(settings, products=24, seed=5)
        _BUILT[engine] = Built(engine, settings, dict(info), _upload_hostile(settings))
    return _BUILT[engine]


def drop_all() -> None:
    """Session end: delete the OpenSearch indices the catalogs made (they outlive the test)."""
    while _CREATED:
        settings = _CREATED.pop()
        if settings.backend == "opensearch":
            ctx = Context.open(settings)
            try:
                ctx.backend.drop()  # type: ignore[attr-defined]
            finally:
                ctx.close()
    _BUILT.clear()


def _upload_hostile(settings: Settings) -> Hostile:
    hostile = Hostile()
    ctx = Context.open(settings)
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            editor = {"X-API-Key": create_key(ctx.records, role="editor")}
            images = hf.hostile_images()
            csv_bytes, hostile.products = hf.hostile_products_csv(images[0].name)
            _ingest(ctx, client, editor, "/api/ingest/products", {"file": ("hostile.csv", csv_bytes, "text/csv")})
            files = [("files", (i.name, i.data, "image/jpeg")) for i in images]
            _ingest(ctx, client, editor, "/api/ingest/assets", files)
            markup = [("files", (name, data, "image/jpeg")) for name, data in hf.MARKUP_FILES.items()]
            markup.append(("files", ("markup.zip", hf.zip_of(hf.MARKUP_FILES), "application/zip")))
            hostile.markup_job = _ingest(ctx, client, editor, "/api/ingest/assets", markup)
            by_name = {a.filename: a.id for batch in ctx.records.iter_assets() for a in batch}
            for image in images:
                asset_id = by_name[image.name]
                hostile.asset_ids[image.name] = asset_id
                hostile.metadata[asset_id] = image.expected
            jobs.close_jobs(ctx, wait=True)
        ctx.backend.refresh()
    finally:
        ctx.close()
    return hostile


def _ingest(ctx: Context, client: TestClient, headers: dict[str, str], path: str, files: object) -> JSONObject:
    response = client.post(path, files=files, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 202, response.text
    job = jobs.wait_for_job(ctx, str(response.json()["id"]), timeout=JOB_TIMEOUT)
    assert job["state"] == "succeeded", job
    return job


@contextmanager
def open_catalog(built: Built) -> Iterator[SecuredCatalog]:
    """An app over the built catalog with a key per role; closed, jobs finished, on exit."""
    ctx = Context.open(built.settings)
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            keys = {str(role): create_key(ctx.records, role=role) for role in ROLES}
            yield SecuredCatalog(
                client=client, settings=built.settings, info=dict(built.info), keys=keys,
                engine=built.engine, hostile=built.hostile,
            )  # fmt: skip
            jobs.close_jobs(ctx, wait=True)
    finally:
        ctx.close()
