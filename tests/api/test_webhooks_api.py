"""Webhooks through HTTP: signed deliveries to a real receiver on 127.0.0.1 (allow-listed),
retries with backoff, the delivery log, refused targets and admin-only management.

The search engine plays no part in a delivery, so these run on the embedded engine over a
one-asset catalog rather than on the sample catalog.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import Field

from discovery.api.app import create_app
from discovery.api.auth import create_key
from discovery.config import Settings
from discovery.domain import Asset, Tag
from discovery.services.context import Context
from discovery.store.index.documents import asset_to_doc

SECRET = "s3cr3t-for-the-receiver-0123"


class LoopbackSettings(Settings):
    """Settings with the webhook fields the lead adds to `Settings` (defaults overridden)."""

    webhook_allow_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    webhook_retry_seconds: float = 0.05
    webhook_max_attempts: int = 3
    webhook_timeout_seconds: float = 3.0


@dataclass
class Receiver:
    """A tiny HTTP server that records every POST and answers with scripted statuses."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.calls) >= n, f"{len(self.calls)} deliveries arrived, expected {n}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(rec.delay)
            rec.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(rec.statuses.pop(0) if rec.statuses else 200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


@dataclass
class Api:
    client: TestClient
    ctx: Context
    keys: dict[str, str]

    def key(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}

    def subscribe(self, url: str, events: list[str]) -> dict[str, object]:
        body = {"url": url, "secret": SECRET, "events": events}
        response = self.client.post("/api/webhooks", json=body, headers=self.key("admin"))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def decide(self, decision: str = "accept") -> None:
        body = [{"target": {"type": "asset", "id": "a1"}, "tag": "leather", "decision": decision}]
        response = self.client.post("/api/review/decisions", json=body, headers=self.key("reviewer"))
        assert response.json()["results"][0]["ok"], response.text

    def deliveries(self, webhook_id: object) -> list[dict[str, object]]:
        response = self.client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=self.key("admin"))
        return list(response.json()["deliveries"])


def _api(settings: Settings) -> Iterator[Api]:
    app = create_app(settings)
    with TestClient(app) as client:
        ctx: Context = app.state.ctx
        keys = {role: create_key(ctx.records, role=role) for role in ("viewer", "reviewer", "editor", "admin")}
        tag = Tag("leather", source="clip", status="suggested", confidence=0.55, model="tiny@1")
        asset = Asset(id="a1", sha256="0" * 64, filename="bag.jpg", media_type="image/jpeg", tags=[tag])
        ctx.records.upsert_assets([asset])
        ctx.backend.upsert([asset_to_doc(asset)], refresh=True)
        yield Api(client, ctx, keys)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from _api(LoopbackSettings(data_dir=tmp_path / "var", backend="embedded"))


@pytest.fixture(scope="module")
def strict_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from _api(Settings(data_dir=tmp_path_factory.mktemp("strict") / "var", backend="embedded"))


def _wait_state(api: Api, webhook_id: object, state: str, timeout: float = 10.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = api.deliveries(webhook_id)
        if log and log[0]["state"] == state:
            return log[0]
        time.sleep(0.05)
    raise AssertionError(f"delivery never reached {state!r}: {api.deliveries(webhook_id)}")


def test_subscriber_receives_a_signed_review_decision(api: Api, receiver: Receiver) -> None:
    hook = api.subscribe(receiver.url, ["review.decision"])
    api.decide("accept")
    receiver.wait_for(1)
    headers, body = receiver.calls[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-discovery-signature"], expected)
    assert abs(int(headers["x-discovery-timestamp"]) - time.time()) < 60
    event = json.loads(body)
    assert event["event"] == "review.decision" and headers["x-discovery-event"] == "review.decision"
    assert event["data"] == {"target": "asset:a1", "tag": "leather", "decision": "accept"}
    logged = _wait_state(api, hook["id"], "delivered")
    assert (logged["attempts"], logged["status_code"]) == (1, 200)


def test_only_subscribed_events_are_delivered(api: Api, receiver: Receiver) -> None:
    api.subscribe(receiver.url, ["job.finished"])
    api.decide("accept")
    time.sleep(0.3)
    assert receiver.calls == []


def test_a_finished_import_is_announced_once_with_its_counts(api: Api, receiver: Receiver) -> None:
    api.subscribe(receiver.url, ["job.finished"])
    rows = b"\n".join(json.dumps({"sku": f"W-{i}", "name": f"Wool sock {i}"}).encode() for i in range(3))
    job = api.client.post(
        "/api/ingest/products", files={"file": ("socks.jsonl", rows, "application/json")}, headers=api.key("editor")
    ).json()
    deadline = time.monotonic() + 120  # the first import loads the models
    while api.client.get(f"/api/jobs/{job['id']}", headers=api.key("editor")).json()["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.1)
    receiver.wait_for(1)
    time.sleep(0.3)  # a second announcement would have arrived by now
    assert len(receiver.calls) == 1
    event = json.loads(receiver.calls[0][1])
    assert event["event"] == "job.finished"
    assert event["data"]["id"] == job["id"] and event["data"]["state"] == "succeeded"
    assert event["data"]["kind"] == job["kind"]
    assert isinstance(event["data"]["counts"], dict) and event["data"]["counts"]


def test_failing_receiver_is_retried_with_the_same_signed_body(api: Api, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    hook = api.subscribe(receiver.url, ["review.decision"])
    api.decide("accept")
    receiver.wait_for(3)
    assert len({body for _, body in receiver.calls}) == 1, "every retry carries the same event"
    logged = _wait_state(api, hook["id"], "delivered")
    assert logged["attempts"] == 3


def test_receiver_that_keeps_failing_is_given_up_after_the_last_attempt(api: Api, receiver: Receiver) -> None:
    receiver.statuses = [500] * 10
    hook = api.subscribe(receiver.url, ["review.decision"])
    api.decide("accept")
    logged = _wait_state(api, hook["id"], "failed")
    assert (logged["attempts"], logged["status_code"], logged["error"]) == (3, 500, "HTTP 500")
    time.sleep(0.3)
    assert len(receiver.calls) == 3


def test_a_slow_receiver_never_slows_the_request(api: Api, receiver: Receiver) -> None:
    receiver.delay = 1.5
    api.subscribe(receiver.url, ["review.decision"])
    started = time.perf_counter()
    api.decide("accept")
    assert time.perf_counter() - started < 1.0
    receiver.wait_for(1)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://224.0.0.1/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_internal_and_non_http_targets_are_refused_without_the_allow_list(strict_api: Api, url: str) -> None:
    body = {"url": url, "secret": SECRET, "events": ["asset.changed"]}
    response = strict_api.client.post("/api/webhooks", json=body, headers=strict_api.key("admin"))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "url"


def test_only_admins_manage_webhooks_and_secrets_are_never_shown(api: Api, receiver: Receiver) -> None:
    body = {"url": receiver.url, "secret": SECRET, "events": ["asset.changed"]}
    assert api.client.post("/api/webhooks", json=body, headers=api.key("editor")).status_code == 403
    assert api.client.get("/api/webhooks", headers=api.key("editor")).status_code == 403
    bad = api.client.post("/api/webhooks", json={**body, "events": ["nope"]}, headers=api.key("admin"))
    assert bad.status_code == 400 and bad.json()["field"] == "events"
    hook = api.subscribe(receiver.url, ["asset.changed"])
    listed = api.client.get("/api/webhooks", headers=api.key("admin"))
    assert SECRET not in listed.text and [h["id"] for h in listed.json()["webhooks"]] == [hook["id"]]
    assert api.client.delete(f"/api/webhooks/{hook['id']}", headers=api.key("editor")).status_code == 403
    assert api.client.delete(f"/api/webhooks/{hook['id']}", headers=api.key("admin")).status_code == 204
    assert api.client.get("/api/webhooks", headers=api.key("admin")).json()["webhooks"] == []
    assert api.client.delete(f"/api/webhooks/{hook['id']}", headers=api.key("admin")).status_code == 404
