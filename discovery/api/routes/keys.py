"""API keys (admin): create with a role and a name, list, revoke. A revoked key answers
401 from its next request on (every request looks its key up; nothing is cached)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from discovery.api.auth import ROLES, Role, create_key
from discovery.api.deps import Caller, CtxDep, require
from discovery.errors import NotFound

router = APIRouter(prefix="/api/admin/keys", tags=["keys"])
AdminDep = Annotated[Caller, require("admin")]


class KeyIn(BaseModel):
    role: Role = Field(description=", ".join(ROLES))
    name: str | None = Field(None, min_length=1, max_length=200, description="who holds it, e.g. alice")


@router.get("")
def list_keys(ctx: CtxDep, _caller: AdminDep) -> Mapping[str, object]:
    """Every key with its id, name, role, creation time and whether it is revoked (never the key)."""
    return {"items": ctx.records.list_keys()}


@router.post("", status_code=201)
def create(body: KeyIn, ctx: CtxDep, _caller: AdminDep) -> Mapping[str, object]:
    """Create a key; the answer carries it once (only its hash is stored)."""
    key = create_key(ctx.records, role=body.role, name=body.name)
    return {"id": key.split("_")[1], "key": key, "role": body.role, "name": body.name}


@router.delete("/{key_id}", status_code=204)
def revoke(key_id: str, ctx: CtxDep, _caller: AdminDep) -> Response:
    """Revoke a key; it answers 401 from its next request on."""
    if not ctx.records.revoke_key(key_id):
        raise NotFound(f"no API key {key_id!r}")
    return Response(status_code=204)
