"""Who did something, as people read it: an actor is stored as `key:<id>` (stable, what
ownership checks compare) and shown by the key's name when it has one."""

from __future__ import annotations

from collections.abc import Iterable

from discovery.domain import JSONValue
from discovery.services.context import Context

# The DISCOVERY_ADMIN_KEY setting's key has no record (and so no name) of its own.
BOOTSTRAP_KEY_ID = "bootstrap"
BOOTSTRAP_NAME = "admin key (DISCOVERY_ADMIN_KEY)"


def actor_names(ctx: Context, actors: Iterable[object]) -> dict[str, str]:
    """`key:<id>` -> the key's name, for the actors whose key has a name."""
    ids = {a.removeprefix("key:") for a in actors if isinstance(a, str) and a.startswith("key:")}
    names = {f"key:{key_id}": name for key_id, name in ctx.records.key_names(ids - {BOOTSTRAP_KEY_ID}).items()}
    if BOOTSTRAP_KEY_ID in ids:
        names[f"key:{BOOTSTRAP_KEY_ID}"] = BOOTSTRAP_NAME
    return names


def key_name(ctx: Context, key_id: str | None) -> str | None:
    """The name of one key (None for no key or an unnamed one)."""
    if key_id is None:
        return None
    return actor_names(ctx, [f"key:{key_id}"]).get(f"key:{key_id}")


def name_items(ctx: Context, items: Iterable[JSONValue], field: str) -> None:
    """Show each item's `field` (an actor) by name; the stored actor moves to `<field>_key`."""
    rows = [i for i in items if isinstance(i, dict)]
    names = actor_names(ctx, (row.get(field) for row in rows))
    for row in rows:
        actor = row.get(field)
        if isinstance(actor, str) and actor in names:
            row[f"{field}_key"], row[field] = actor, names[actor]
