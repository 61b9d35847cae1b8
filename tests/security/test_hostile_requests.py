"""Hostile request values that must be refused with a 4xx before they cost anything:
deeply nested cursors, webhook targets hidden in IPv6 transition addresses."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.config import Settings
from discovery.services.webhook_targets import address_refusal

ADMIN = f"requests-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def bare_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app on an empty embedded catalog: enough for what is refused before any lookup."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("requests") / "var", backend="embedded", admin_key=ADMIN)
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


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:a9fe:a9fe::", "link-local (6to4 for 169.254.169.254)"),
        ("2002:7f00:1::1", "loopback (6to4 for 127.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "link-local (NAT64 for 169.254.169.254)"),
        ("64:ff9b:1::a00:7", "private (NAT64 for 10.0.0.7)"),
        ("::169.254.169.254", "link-local (IPv4-compatible for 169.254.169.254)"),
        ("::ffff:0:a9fe:a9fe", "link-local (IPv4-translated for 169.254.169.254)"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2001:0:a9fe:a9fe::1", "link-local (Teredo for 169.254.169.254)"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private (Teredo for 10.0.0.1)"),
        ("2002:808:808::1", None),  # 6to4 for 8.8.8.8: public
        ("2606:4700::1111", None),
    ],
)
def test_ipv6_transition_forms_are_unwrapped_before_the_address_check(address: str, reason: str | None) -> None:
    assert address_refusal(address) == reason


@pytest.mark.parametrize("host", ["[2002:a9fe:a9fe::]", "[64:ff9b::a9fe:a9fe]", "[::169.254.169.254]"])
def test_a_webhook_to_an_ipv6_form_of_the_metadata_address_is_refused(bare_client: TestClient, host: str) -> None:
    body = {"url": f"http://{host}/h", "secret": "s" * 32, "events": ["asset.changed"]}
    answer = bare_client.post("/api/webhooks", json=body, headers={"X-API-Key": ADMIN})
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "url" and "169.254.169.254" in answer.json()["detail"]
