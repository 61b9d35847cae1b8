"""The security tests' catalogs: one per engine (embedded, and OpenSearch when it is up),
the sample catalog plus hostile uploads; see `security_support`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.security_support import ENGINES, SecuredCatalog, built_catalog, drop_all, open_catalog


@pytest.fixture(scope="session")
def _drop_secured_catalogs() -> Iterator[None]:
    yield
    drop_all()


@pytest.fixture(scope="module", params=ENGINES)
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _drop_secured_catalogs: None
) -> Iterator[SecuredCatalog]:
    with open_catalog(built_catalog(request.param, tmp_path_factory, request)) as catalog:
        yield catalog
