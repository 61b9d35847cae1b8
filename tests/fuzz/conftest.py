"""The fuzzed app: the security tests' catalog of each engine (sample catalog plus hostile
uploads, built once per session), with schemathesis loaded from its OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from schemathesis.python import asgi

from tests.security.security_support import ENGINES, SecuredCatalog, built_catalog, drop_all, open_catalog


@dataclass
class Fuzzed:
    catalog: SecuredCatalog
    schema: schemathesis.BaseSchema
    known: dict[str, str]  # path parameter -> a real value


@pytest.fixture(scope="session")
def _drop_fuzzed_catalogs() -> Iterator[None]:
    yield
    drop_all()


def _known(catalog: SecuredCatalog) -> dict[str, str]:
    client, editor = catalog.client, catalog.as_role("editor")
    asset = client.get("/api/search", params={"type": "asset", "size": 1}).json()["hits"][0]["id"]
    sku = client.get("/api/search", params={"size": 1}).json()["hits"][0]["id"]
    job = client.get("/api/jobs", params={"limit": 1}, headers=editor).json()["items"][0]["id"]
    collection = client.post("/api/collections", json={"name": "fuzzed"}, headers=editor).json()["id"]
    return {"asset_id": asset, "sku": sku, "job_id": job, "collection_id": str(collection), "channel": "web",
            "name": "thumbnail"}  # fmt: skip


@pytest.fixture(scope="module", params=ENGINES)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _drop_fuzzed_catalogs: None
) -> Iterator[Fuzzed]:
    with open_catalog(built_catalog(request.param, tmp_path_factory, request)) as catalog:
        # Load the models once before the clock starts (the first search loads them).
        catalog.client.get("/api/search", params={"q": "warm up", "type": "all"})
        app = catalog.client.app
        try:
            yield Fuzzed(catalog, schemathesis.openapi.from_asgi("/openapi.json", app), _known(catalog))
        finally:
            asgi.shutdown_lifespans()  # schemathesis started the app's lifespan; end it before the context closes
