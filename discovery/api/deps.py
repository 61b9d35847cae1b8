"""Dependencies shared by the routers: the service context and the calling key's role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Request, Security
from starlette.concurrency import run_in_threadpool

from discovery.api.auth import API_KEY_HEADER, BEARER, RANK, Role, at_least, hash_key, presented_key, same_secret
from discovery.errors import Forbidden, Unauthorized
from discovery.services.actors import BOOTSTRAP_KEY_ID
from discovery.services.context import Context

# The dependencies are `async`: a sync one is run on the thread pool, a hop that cost more
# than the work here. Only a key lookup touches the database, and it goes to the pool.


async def get_ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


CtxDep = Annotated[Context, Depends(get_ctx)]


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    key_id: str | None = None

    @property
    def public(self) -> bool:
        """Shopper-facing view: only accepted tags, only allowed unexpired assets, no internals."""
        return self.role == "public"

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}" if self.key_id else "anonymous"


# The UI's copy of its key for what the browser fetches by itself (`<img src>`, a download
# link), which carries no header: sent only to /api/assets/ and never cross-site (the UI
# sets it `SameSite=Strict`, percent-encoded), and read only by the file and rendition routes
# (`FileCallerDep`).
READ_KEY_COOKIE = "discovery_read_key"


# The start-up's warm-up searches (`api/warm_routes.py`) go through the app in process and
# carry this header with a token only this process knows, for as long as the warm-up runs:
# where reads need a key they are answered as an anonymous reader's, not refused (a server
# that refused its own warm-up never said ready).
WARM_UP_HEADER = "X-Discovery-Warm-Up"


async def get_caller(
    ctx: CtxDep,
    request: Request,
    x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[object, Security(BEARER)] = None,  # declares the scheme; read below
) -> Caller:
    token = getattr(request.app.state, "warm_up_token", None)
    if token and same_secret(request.headers.get(WARM_UP_HEADER, ""), token):
        return Caller(role=ctx.settings.anonymous_role)
    return await _caller(ctx, presented_key(x_api_key, request.headers.get("authorization")))


async def get_file_caller(
    ctx: CtxDep,
    request: Request,
    x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[object, Security(BEARER)] = None,
) -> Caller:
    """The caller of a file or rendition: as `get_caller`, or by the UI's read-key cookie
    when the request carries no key (an image the browser loads itself)."""
    key = presented_key(x_api_key, request.headers.get("authorization"))
    return await _caller(ctx, key or unquote(request.cookies.get(READ_KEY_COOKIE) or "") or None)


async def _caller(ctx: Context, x_api_key: str | None) -> Caller:
    settings = ctx.settings
    if not x_api_key:
        if settings.read_key_required:
            raise Unauthorized("an API key is required (X-API-Key header)")
        return Caller(role=settings.anonymous_role)
    if settings.admin_key and same_secret(x_api_key, settings.admin_key):
        return Caller(role="admin", key_id=BOOTSTRAP_KEY_ID)
    role = await run_in_threadpool(ctx.records.role_for_key_hash, hash_key(x_api_key))
    if role is None or role not in RANK:
        raise Unauthorized("unknown or revoked API key")
    key_id = x_api_key.split("_")[1] if x_api_key.count("_") >= 2 else None
    return Caller(role=role, key_id=key_id)


CallerDep = Annotated[Caller, Depends(get_caller)]
FileCallerDep = Annotated[Caller, Depends(get_file_caller)]


def require(needed: Role):  # type: ignore[no-untyped-def]
    """A dependency that admits callers of at least `needed` role."""

    async def check(caller: CallerDep) -> Caller:
        if caller.role == "public" or not at_least(caller.role, needed):
            raise Forbidden(f"this needs a {needed} key; yours is {caller.role}")
        return caller

    return Depends(check)


def usage_actor(caller: Caller, request: Request, session: str | None = None) -> str:
    """Who a usage event is counted for: the key (and the session its holder names, e.g. a
    storefront's shopper) or, without a key, the client address (`anon:`, which does not
    move popularity unless DISCOVERY_ANALYTICS_COUNT_ANONYMOUS is set)."""
    if caller.key_id:
        return f"key:{caller.key_id}/{session}" if session else f"key:{caller.key_id}"
    return f"anon:{request.client.host if request.client else 'unknown'}"
