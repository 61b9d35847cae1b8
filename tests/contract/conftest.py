"""The contract suite's engines: every test here runs on the embedded engine and on a
real OpenSearch node (skipped, or failed under `make test`, when OpenSearch is down).

`backend` is an empty engine per test (for writes); `catalog` is one engine per module
loaded with the fixture catalog (for reads), so OpenSearch indices are not rebuilt for
every read-only test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_catalog import Catalog, Oracle, catalog_docs
from keyword_catalog import keyword_docs
from service_catalog import Service

from discovery.config import SearchSettings, Settings
from discovery.services import jobs
from discovery.services.context import Context
from discovery.store.index.base import SearchBackend
from indexer.sample import generate_catalog

ENGINES = [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)]


def make_backend(engine: str, request: pytest.FixtureRequest, path: Path, prefix: str) -> SearchBackend:
    if engine == "embedded":
        from discovery.store.index.embedded import EmbeddedBackend

        return EmbeddedBackend(path, SearchSettings())
    url = request.getfixturevalue("opensearch_url")  # skips (or fails) first when OpenSearch is down
    from discovery.store.index.opensearch import OpenSearchBackend

    return OpenSearchBackend(url=url, prefix=prefix, search=SearchSettings())


def release(engine: SearchBackend) -> None:
    """Close the engine; an OpenSearch engine first deletes its indices (they outlive the test)."""
    drop = getattr(engine, "drop", None)
    if drop is not None:
        drop()
    engine.close()


@pytest.fixture(params=ENGINES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    prefix = request.getfixturevalue("unique_prefix")
    engine = make_backend(request.param, request, tmp_path / "idx", prefix)
    engine.ensure_ready()
    yield engine
    release(engine)


@pytest.fixture(scope="module", params=ENGINES)
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    engine = make_backend(request.param, request, tmp_path_factory.mktemp("catalog") / "idx", prefix)
    engine.ensure_ready()
    docs = catalog_docs()
    report = engine.upsert(docs, refresh=True)
    assert not report.failed, report.failed
    yield Catalog(engine, Oracle(docs))
    release(engine)


@pytest.fixture(scope="module", params=ENGINES)
def keyword_catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """One engine per module loaded with `keyword_catalog` (spellings, plurals, typos)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    engine = make_backend(request.param, request, tmp_path_factory.mktemp("keywords") / "idx", prefix)
    engine.ensure_ready()
    docs = keyword_docs()
    report = engine.upsert(docs, refresh=True)
    assert not report.failed, report.failed
    yield Catalog(engine, Oracle(docs))
    release(engine)
# -- the service over a sample catalog (search service, text model, both engines) ---------

SAMPLE_PRODUCTS, SAMPLE_SEED = 120, 7


@pytest.fixture(scope="module", params=ENGINES)
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("service")
    if request.param == "opensearch":
        url = request.getfixturevalue("opensearch_url")
        settings = Settings(
            data_dir=tmp / "var", backend="opensearch", opensearch_url=url, index_prefix=f"t{uuid.uuid4().hex[:10]}"
        )
    else:
        settings = Settings(data_dir=tmp / "var", backend="embedded")
    info = generate_catalog(tmp / "sample", products=SAMPLE_PRODUCTS, seed=SAMPLE_SEED, images=False)
    assert info.products_jsonl is not None
    ctx = Context.open(settings)
    try:
        job = jobs.wait_for_job(ctx, jobs.start_product_import(ctx, source=info.products_jsonl, filename="p.jsonl"))
        assert job["state"] == "succeeded", job
        ctx.backend.refresh()
        yield Service(ctx, SAMPLE_SEED, SAMPLE_PRODUCTS)
    finally:
        jobs.close_jobs(ctx)
        drop = getattr(ctx.backend, "drop", None)  # OpenSearch indices outlive the test
        if drop is not None:
            drop()
        ctx.close()
