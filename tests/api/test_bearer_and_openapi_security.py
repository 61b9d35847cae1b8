"""How a key travels: `X-API-Key`, or `Authorization: Bearer <key>` as the same key; any other
Authorization header is refused, never read as anonymous. The OpenAPI document declares both,
so /docs' "Authorize" sends them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.api.auth import create_key
from discovery.config import Settings

REVIEWER_ONLY = "/api/review/queue"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def reviewer_key(client: TestClient) -> str:
    return create_key(client.app.state.ctx.records, role="reviewer")  # type: ignore[attr-defined]


def test_bearer_key_is_the_same_key_as_x_api_key(client: TestClient, reviewer_key: str) -> None:
    assert client.get(REVIEWER_ONLY).status_code == 403  # anonymous is a viewer
    assert client.get(REVIEWER_ONLY, headers={"X-API-Key": reviewer_key}).status_code == 200
    assert client.get(REVIEWER_ONLY, headers={"Authorization": f"Bearer {reviewer_key}"}).status_code == 200
    both = {"Authorization": f"bearer {reviewer_key}", "X-API-Key": reviewer_key}
    assert client.get(REVIEWER_ONLY, headers=both).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Basic dXNlcjpwYXNz", "must be 'Bearer <API key>'"),
        ("Bearer", "must be 'Bearer <API key>'"),
        ("Bearer dk_00000000_unknown", "unknown or revoked API key"),
    ],
)
def test_other_authorization_headers_are_refused_not_anonymous(
    client: TestClient, authorization: str, detail: str
) -> None:
    # /api/search is open to anonymous callers: a wrong header must still not fall back to that.
    response = client.get("/api/search?q=x&mode=keyword", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]


def test_bearer_and_x_api_key_that_differ_are_refused(client: TestClient, reviewer_key: str) -> None:
    headers = {"Authorization": "Bearer dk_00000000_other", "X-API-Key": reviewer_key}
    response = client.get(REVIEWER_ONLY, headers=headers)
    assert response.status_code == 401
    assert "different keys" in response.json()["detail"]


def test_openapi_declares_the_api_key_and_bearer_schemes_on_keyed_operations(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    assert schemes["HTTPBearer"]["type"] == "http" and schemes["HTTPBearer"]["scheme"] == "bearer"
    assert {"APIKeyHeader": []} in document["paths"][REVIEWER_ONLY]["get"]["security"]
    assert {"HTTPBearer": []} in document["paths"][REVIEWER_ONLY]["get"]["security"]


def test_docs_pages_load_only_files_the_app_serves(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn" not in html.lower() and "<script>" not in html
    assert client.get("/docs").headers["content-security-policy"].count("script-src 'self';") == 1
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert client.get(f"/docs/assets/{asset}").status_code == 200
