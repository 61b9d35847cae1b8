"""Who the caller is: the key's name and role, for the UI's "signed in as"."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter

from discovery.api.auth import ROLES
from discovery.api.deps import CallerDep, CtxDep
from discovery.services.actors import key_name

router = APIRouter(prefix="/api", tags=["keys"])

# What each role may do, as the UI explains it when a page needs more.
ROLE_RIGHTS: dict[str, str] = {
    "public": "search the shopper's view (accepted tags, assets cleared for the channel)",
    "viewer": "search and read everything, internal fields included",
    "reviewer": "also accept, reject and undo suggested tags",
    "editor": "also import products and assets and edit them",
    "admin": "also manage API keys and webhooks, and undo anyone's decisions",
}


@router.get("/me")
def whoami(ctx: CtxDep, caller: CallerDep) -> Mapping[str, object]:
    """The calling key: `name` (null without a key or for an unnamed key), `role`, `key_id`,
    `signed_in` (whether a key was presented), and what each role may do (`roles`)."""
    return {
        "signed_in": caller.key_id is not None,
        "key_id": caller.key_id,
        "name": key_name(ctx, caller.key_id),
        "role": caller.role,
        "roles": [{"role": role, "may": ROLE_RIGHTS.get(role, "")} for role in ROLES],
    }
