"""API keys and roles. Keys are stored as sha256 hashes; the plain key is shown once."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from discovery.store.records import Records

Role = Literal["public", "viewer", "reviewer", "editor", "admin"]
ROLES: tuple[Role, ...] = ("public", "viewer", "reviewer", "editor", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(records: Records, *, role: Role, name: str | None = None) -> str:
    """Make a key for a role; returns the plain key (it is not stored)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key_id = secrets.token_hex(4)
    key = f"dk_{key_id}_{secrets.token_urlsafe(24)}"
    records.add_key(key_id=key_id, key_hash=hash_key(key), role=role, name=name)
    return key


def at_least(role: Role, needed: Role) -> bool:
    return RANK[role] >= RANK[needed]
