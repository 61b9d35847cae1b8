"""Hostile request values that must be refused with a 4xx before they cost anything:
deeply nested cursors, webhook targets hidden in IPv6 transition addresses."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.config import Settings


@pytest.fixture(scope="module")
def bare_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app on an empty embedded catalog: enough for what is refused before any lookup."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("requests") / "var", backend="embedded")
    with TestClient(create_app(settings)) as client:
        yield client


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 3000 + b"]" * 3000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b"[" * 2900,
        b'{"after": [' + b"[" * 9 + b"1" + b"]" * 9 + b"]}",
        b'{"after": ["' + b"x" * 10_000 + b'"]}',
    ],
    ids=["3000-brackets", "3000-objects", "unclosed", "nine-deep", "long"],
)
def test_a_hostile_cursor_answers_4xx_naming_the_cursor(bare_client: TestClient, raw: bytes) -> None:
    answer = bare_client.get("/api/search", params={"q": "shirt", "cursor": _cursor(raw)})
    # 400 from the cursor codec; 422 where the route's length bound refuses it first.
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["field"] == "cursor"
