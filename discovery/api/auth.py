"""API keys and roles. Keys are stored as sha256 hashes; the plain key is shown once.

A key travels in `X-API-Key`, or as `Authorization: Bearer <key>` (what HTTP clients and
gateways send by habit). Both are declared in the OpenAPI document, so /docs' "Authorize"
sends them.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from fastapi.security import APIKeyHeader, HTTPBearer

from discovery.errors import Unauthorized
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


# auto_error=False: a missing key is the anonymous role, decided by the caller dependency.
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="an API key from `discovery keys create --role ROLE`"
)
BEARER = HTTPBearer(auto_error=False, description="the same API key as `Authorization: Bearer <key>`")


def same_secret(given: str, expected: str) -> bool:
    """A constant-time comparison of a presented secret with ours. Bytes, not `str`:
    `compare_digest` refuses a string with non-ASCII characters, which any header or cookie
    may carry (a 500 instead of a 401)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def presented_key(x_api_key: str | None, authorization: str | None) -> str | None:
    """The key a request carries, or None for none. An `Authorization` header that is not
    `Bearer <key>`, or a bearer key that differs from `X-API-Key`, is refused rather than
    read as anonymous."""
    if not authorization:
        return x_api_key or None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <API key>' (or send the key as X-API-Key)")
    if x_api_key and not same_secret(x_api_key, token):
        raise Unauthorized("X-API-Key and Authorization: Bearer carry different keys")
    return token
