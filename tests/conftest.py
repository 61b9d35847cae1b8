"""Shared fixtures: isolated settings, and the real services the integration tests claim.

A test that needs OpenSearch, Redis or PostgreSQL takes the matching fixture. When a
service is unreachable the test is skipped on a developer's machine, and fails under
`make test` / CI (`DISCOVERY_TEST_REQUIRE_SERVICES=1`): a missing service is never a
silent pass there. The session also fails if any test marked for a service was skipped.
"""

from __future__ import annotations

import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from discovery.config import Settings

if TYPE_CHECKING:
    from discovery.store.records import Records

SERVICE_MARKERS = ("opensearch", "redis", "postgres", "browser")

# The tests pin the tiny random CLIP: the default (pretrained ViT-B-32) would try the hub. Set in
# the environment so servers and workers the tests start as processes inherit it.
os.environ["DISCOVERY_CLIP_MODEL"] = "tiny"
os.environ["DISCOVERY_CLIP_PRETRAINED"] = ""


class TestServices(BaseSettings):
    """Where the test run finds its services (set by scripts/services via make test)."""

    __test__ = False
    model_config = SettingsConfigDict(env_prefix="DISCOVERY_TEST_", extra="ignore")

    require_services: bool = Field(False, description="fail, not skip, when a service is missing")
    opensearch_url: str = Field("http://127.0.0.1:9200", description="OpenSearch under test")
    redis_url: str = Field("redis://127.0.0.1:6379/15", description="Redis under test")
    postgres_url: str = Field(
        "postgresql://discovery:discovery@127.0.0.1:5432/discovery_test", description="PostgreSQL under test"
    )
    scale_rows: int = Field(5_000, ge=100, description="rows of the node-loss imports in tests/scale (make test-scale)")
    scale_redis_db: int = Field(13, ge=0, le=15, description="Redis database of the scale tests' job queue")
    kill_rows: int = Field(10_000, ge=500, description="rows of the import whose Celery worker is killed -9")


TEST_SERVICES = TestServices()


def _missing(what: str, why: str) -> None:
    message = f"{what} is not reachable ({why}); start it with `scripts/services start`"
    if TEST_SERVICES.require_services:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an isolated embedded instance under a temporary data dir."""
    return Settings(data_dir=tmp_path / "var", backend="embedded")


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    url = TEST_SERVICES.opensearch_url
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback test service
            resp.read()
    except OSError as exc:
        _missing(f"OpenSearch at {url}", str(exc))
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = TEST_SERVICES.redis_url
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        _missing(f"Redis at {url}", str(exc))
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = TEST_SERVICES.postgres_url
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        _missing(f"PostgreSQL at {url}", str(exc))
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    """An empty records database, on SQLite and on a PostgreSQL database of the test's own."""
    from discovery.store.records import Records

    if request.param == "sqlite":
        rec = Records.open(f"sqlite:///{tmp_path / 'records.sqlite3'}")
        yield rec
        rec.close()
        return
    import psycopg

    base = request.getfixturevalue("postgres_url")
    name = f"records_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    rec = Records.open(base.rsplit("/", 1)[0] + "/" + name)
    yield rec
    rec.close()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def unique_prefix() -> str:
    """An index prefix no other test uses, so OpenSearch tests never share indices."""
    return f"t{uuid.uuid4().hex[:10]}"


_skipped_service_tests: list[str] = []
_ran_service_tests: dict[str, int] = dict.fromkeys(SERVICE_MARKERS, 0)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and any(m in report.keywords for m in SERVICE_MARKERS):
        _skipped_service_tests.append(report.nodeid)
    elif report.when == "call":
        for marker in SERVICE_MARKERS:
            if marker in report.keywords:
                _ran_service_tests[marker] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if TEST_SERVICES.require_services and _skipped_service_tests:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    ran = ", ".join(f"{n} {marker}" for marker, n in _ran_service_tests.items())
    terminalreporter.write_line(f"service tests run: {ran}; skipped: {len(_skipped_service_tests)}")
    if _skipped_service_tests:
        verdict = "FAILED" if TEST_SERVICES.require_services else "warning"
        terminalreporter.write_line(
            f"{verdict}: {len(_skipped_service_tests)} service test(s) skipped: "
            + ", ".join(_skipped_service_tests[:10])
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that takes a service fixture carries that service's marker, so skips are counted.
    for item in items:
        # Tests parametrised over the engines carry the marker of the one they run on.
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "opensearch" in [v for v in params.values() if isinstance(v, str)]:
            item.add_marker(pytest.mark.opensearch)
        names = getattr(item, "fixturenames", ())
        for marker, fixture in (("opensearch", "opensearch_url"), ("redis", "redis_url"), ("postgres", "postgres_url")):
            if fixture in names:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


