"""Webhooks: admins subscribe a URL and a secret to events; each event is POSTed there as
JSON signed with HMAC-SHA256, on background threads, with capped exponential retries, and
every delivery is logged in the records.

`emit(ctx, event, payload)` is what the rest of the service calls: it only queues, so the
request that caused the event never waits for (or fails because of) a receiver.

Receivers verify `X-Discovery-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body
under their secret; the body carries the event id and `created_at` (so a replay is
recognisable), `X-Discovery-Timestamp` the time of this attempt in Unix seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from discovery.config import PLACEHOLDER_SECRETS
from discovery.domain import JSONObject, JSONValue, utcnow
from discovery.errors import InvalidQuery, NotFound
from discovery.services.context import Context
from discovery.services.webhook_targets import TargetRefused, check_target, post_pinned
from discovery.store.webhook_records import WebhookRecords

EVENTS: tuple[str, ...] = ("product.changed", "asset.changed", "review.decision", "job.finished")
SIGNATURE_HEADER = "X-Discovery-Signature"
TIMESTAMP_HEADER = "X-Discovery-Timestamp"
MIN_SECRET = 16
MAX_BACKOFF = 300.0  # seconds; no retry waits longer than this

log = logging.getLogger("discovery.webhooks")


@dataclass(frozen=True, slots=True)
class _Fanout:
    """An emitted event, still to be matched with its subscribers."""

    event: str
    envelope: JSONObject


@dataclass(slots=True)
class _Attempt:
    """One event on its way to one subscriber."""

    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    event: str
    body: bytes
    attempts: int = 0


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempt: int, *, base: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): doubling, capped."""
    return float(min(base * 2 ** (attempt - 1), MAX_BACKOFF))


def _number(ctx: Context, name: str, default: float) -> float:
    value = getattr(ctx.settings, name, default)
    return float(value) if isinstance(value, int | float) else default


def allow_hosts(ctx: Context) -> list[str]:
    """Hosts webhooks may reach even at loopback, link-local or private addresses."""
    return list(ctx.settings.webhook_allow_hosts)


def _records(ctx: Context) -> WebhookRecords:
    return WebhookRecords(ctx.records.engine)


# --- subscriptions ----------------------------------------------------------------------


def subscribe(ctx: Context, *, url: str, secret: str, events: Sequence[str], actor: str) -> JSONObject:
    """A new subscriber; the URL must be http(s) and public, or its host allow-listed."""
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise InvalidQuery(f"events must be some of {', '.join(EVENTS)}", field="events")
    if len(secret) < MIN_SECRET or secret.lower() in PLACEHOLDER_SECRETS:
        raise InvalidQuery(f"secret must be at least {MIN_SECRET} characters and not a placeholder", field="secret")
    try:
        check_target(url, allow_hosts=allow_hosts(ctx))
    except TargetRefused as exc:
        raise InvalidQuery(str(exc), field="url") from exc
    sub = _records(ctx).add(url=url, secret=secret, events=list(dict.fromkeys(events)), actor=actor)
    ctx.records.audit(actor=actor, action="webhook.create", target=f"webhook:{sub.id}", detail=sub.public_json())
    return sub.public_json()


def list_subscriptions(ctx: Context) -> JSONObject:
    return {"webhooks": [s.public_json() for s in _records(ctx).all()]}


def unsubscribe(ctx: Context, webhook_id: str, *, actor: str) -> None:
    if not _records(ctx).remove(webhook_id):
        raise NotFound(f"no webhook {webhook_id!r}")
    ctx.records.audit(actor=actor, action="webhook.delete", target=f"webhook:{webhook_id}", detail={})


def deliveries(ctx: Context, webhook_id: str, *, limit: int = 100) -> JSONObject:
    if _records(ctx).get(webhook_id) is None:
        raise NotFound(f"no webhook {webhook_id!r}")
    return {"deliveries": list[JSONValue](_records(ctx).deliveries(webhook_id, limit=limit))}


# --- events -----------------------------------------------------------------------------


def emit(ctx: Context, event: str, payload: JSONObject) -> None:
    """Queue `event` for every subscriber and return at once. Never raises for delivery
    problems: they are logged and retried on the background threads."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    envelope: JSONObject = {"id": uuid.uuid4().hex, "event": event, "created_at": utcnow().isoformat(), "data": payload}
    try:
        ctx.webhooks.start(partial(_handle, ctx), workers=2, abandon=partial(_abandon, ctx))
        ctx.webhooks.put(_Fanout(event, envelope))
    except Exception:  # noqa: BLE001 - a webhook problem must never fail the request that emitted it
        log.exception("could not queue webhook event %s", event)


def announce_job(ctx: Context, job_id: str, state: str) -> None:
    """`job.finished` for a job that just ended: its id, kind, final state and counts."""
    job = ctx.records.get_job(job_id) or {}
    payload: JSONObject = {"id": job_id, "kind": job.get("kind"), "state": state, "counts": job.get("counts")}
    emit(ctx, "job.finished", payload)


def _handle(ctx: Context, item: object) -> float | None:
    if isinstance(item, _Fanout):
        _fan_out(ctx, item)
        return None
    if isinstance(item, _Attempt):
        return _attempt(ctx, item)
    raise TypeError(f"not a webhook item: {item!r}")


def _fan_out(ctx: Context, item: _Fanout) -> None:
    body = json.dumps(item.envelope, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    records = _records(ctx)
    for sub in records.for_event(item.event):
        delivery_id = records.start_delivery(webhook_id=sub.id, event=item.event, event_id=str(item.envelope["id"]))
        ctx.webhooks.put(_Attempt(delivery_id, sub.id, sub.url, sub.secret, item.event, body))


def _attempt(ctx: Context, item: _Attempt) -> float | None:
    """One try; returns the delay before the next one, or None when done (either way)."""
    records = _records(ctx)
    if records.get(item.webhook_id) is None:
        return None  # unsubscribed meanwhile: its log is gone, nothing to tell
    item.attempts += 1
    try:
        target = check_target(item.url, allow_hosts=allow_hosts(ctx))
    except TargetRefused as exc:
        records.record_attempt(
            item.delivery_id, state="refused", attempts=item.attempts, status_code=None, error=str(exc)
        )
        return None
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "discovery-webhooks/1",
        "X-Discovery-Event": item.event,
        "X-Discovery-Delivery": item.delivery_id,
        TIMESTAMP_HEADER: str(int(time.time())),
        SIGNATURE_HEADER: sign(item.secret, item.body),
    }
    status: int | None = None
    try:
        status = post_pinned(target, item.body, headers, timeout=_number(ctx, "webhook_timeout_seconds", 5.0))
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        records.record_attempt(
            item.delivery_id, state="delivered", attempts=item.attempts, status_code=status, error=None
        )
        return None
    retryable = status is None or status >= 500 or status in (408, 429)
    max_attempts = int(_number(ctx, "webhook_max_attempts", 5))
    state = "pending" if retryable and item.attempts < max_attempts else "failed"
    records.record_attempt(item.delivery_id, state=state, attempts=item.attempts, status_code=status, error=error)
    if state == "failed":
        log.warning("webhook delivery %s failed after %d attempts: %s", item.delivery_id, item.attempts, error)
        return None
    return backoff(item.attempts, base=_number(ctx, "webhook_retry_seconds", 2.0))


def _abandon(ctx: Context, item: object) -> None:
    if isinstance(item, _Attempt):
        _records(ctx).record_attempt(
            item.delivery_id,
            state="abandoned",
            attempts=item.attempts,
            status_code=None,
            error="the service stopped before this delivery succeeded",
        )
    elif isinstance(item, _Fanout):
        log.warning("webhook event %s (%s) dropped at shutdown", item.envelope["id"], item.event)
