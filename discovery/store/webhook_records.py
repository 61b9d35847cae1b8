"""Webhook subscriptions and the log of every delivery to them.

The secret is kept as given: deliveries are signed with it, so it cannot be hashed. It is
never read back out through the API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from discovery.domain import JSONObject
from discovery.store import tables as t

webhooks = Table(
    "webhooks",
    t.metadata,
    Column("id", String(32), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("events", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200)),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    t.metadata,
    Column("id", String(32), primary_key=True),
    Column("webhook_id", String(32), nullable=False),
    Column("event", String(64), nullable=False),
    Column("event_id", String(32), nullable=False),
    # pending | delivered | failed (gave up) | refused (target not allowed) | abandoned (shutdown)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("status_code", Integer),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at"),
)


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    secret: str
    events: tuple[str, ...]
    created_at: datetime
    created_by: str | None

    def public_json(self) -> JSONObject:
        """What the API shows: everything but the secret."""
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "created_at": _aware(self.created_at).isoformat(),
            "created_by": self.created_by,
        }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, *, url: str, secret: str, events: list[str], actor: str | None) -> Subscription:
        sub = Subscription(uuid.uuid4().hex, url, secret, tuple(events), _now(), actor)
        with self.engine.begin() as conn:
            conn.execute(
                insert(webhooks).values(
                    id=sub.id, url=url, secret=secret, events=events, created_at=sub.created_at, created_by=actor
                )
            )
        return sub

    def all(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(webhooks).order_by(webhooks.c.created_at, webhooks.c.id)).all()
        return [Subscription(r.id, r.url, r.secret, tuple(r.events), r.created_at, r.created_by) for r in rows]

    def get(self, webhook_id: str) -> Subscription | None:
        return next((s for s in self.all() if s.id == webhook_id), None)

    def for_event(self, event: str) -> list[Subscription]:
        return [s for s in self.all() if event in s.events]

    def remove(self, webhook_id: str) -> bool:
        """Delete a subscription and its delivery log; False when there was none."""
        with self.engine.begin() as conn:
            gone = conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id)).rowcount
            conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id))
        return bool(gone)

    def start_delivery(self, *, webhook_id: str, event: str, event_id: str) -> str:
        delivery_id = uuid.uuid4().hex
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(webhook_deliveries).values(
                    id=delivery_id,
                    webhook_id=webhook_id,
                    event=event,
                    event_id=event_id,
                    state="pending",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        return delivery_id

    def record_attempt(
        self, delivery_id: str, *, state: str, attempts: int, status_code: int | None, error: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id)
                .values(state=state, attempts=attempts, status_code=status_code, error=error, updated_at=_now())
            )

    def deliveries(self, webhook_id: str, *, limit: int = 100) -> list[JSONObject]:
        """The newest deliveries to a subscriber first."""
        stmt = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == webhook_id)
            .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        out: list[JSONObject] = []
        for row in rows:
            item: JSONObject = {k: v for k, v in row.items() if not isinstance(v, datetime)}
            item["created_at"] = _aware(row["created_at"]).isoformat()
            item["updated_at"] = _aware(row["updated_at"]).isoformat()
            out.append(item)
        return out
