"""Fixtures of the scale tests (`make test-scale`): the local OpenSearch cluster that
`scripts/services cluster start 3` runs, and the scale stack's environment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.conftest import TEST_SERVICES, _missing
from tests.scale.scale_support import cluster_health, cluster_urls


@pytest.fixture(scope="session")
def opensearch_cluster() -> list[str]:
    """The node URLs of a running local cluster (at least 2 nodes answering: a node another
    scale test killed may still be on its way back)."""
    try:
        urls = cluster_urls()
        nodes = int(cluster_health(urls[0])["number_of_nodes"]) if urls else 0
    except (OSError, httpx.HTTPError, ValueError) as exc:
        _missing("the local OpenSearch cluster", f"{exc}; start it with `scripts/services cluster start 3`")
    if nodes < 2:
        _missing("an OpenSearch cluster", f"{nodes} node(s); run `scripts/services cluster start 3`")
    return urls


@pytest.fixture
def scale_redis_url(redis_url: str) -> str:
    """A Redis database of the scale tests' own: their workers take the default job queue,
    which no other test's worker shares there."""
    return redis_url.rsplit("/", 1)[0] + f"/{TEST_SERVICES.scale_redis_db}"


@pytest.fixture
def scale_db(postgres_url: str) -> Iterator[str]:
    """A records database of this test's own on the shared PostgreSQL."""
    name = f"scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
