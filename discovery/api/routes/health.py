"""Liveness, readiness and the model in use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from discovery.api.deps import Caller, CtxDep, require

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, ctx: CtxDep) -> JSONResponse:
    """Each dependency and whether it answers; 503 names the failing ones, or what is
    still warming: the text model and the CLIP text encoder load at start and answer one
    query first, so the first search after ready costs what the next ones do."""
    checks: dict[str, str] = {}
    failing: list[str] = []
    warmup = getattr(request.app.state, "warmup", None)
    models = warmup.pending if warmup is not None else []
    for name, why in (warmup.failed if warmup is not None else {}).items():
        checks[name] = why
        failing.append(name)
    for name, probe in (("records", ctx.records.ping), ("index", ctx.backend.ping)):
        why = probe()
        checks[name] = "ok" if why is None else why
        if why is not None:
            failing.append(name)
    if ctx.settings.redis_url:
        why = _redis_ping(ctx.settings.redis_url)
        checks["redis"] = "ok" if why is None else why
        if why is not None:
            failing.append("redis")
    clip = ctx.clip_status()
    ready = not failing and not models
    body = {
        "status": "ready" if ready else "warming" if not failing else "unready",
        "failing": failing,
        "checks": checks,
        "backend": ctx.settings.backend,
        # Being prepared: models (not ready until done) and index structures (searches
        # answer meanwhile, without them).
        "warming": [*models, *ctx.backend.warming()],
        "clip": clip,
        "notice": _clip_notice(clip),
    }
    return JSONResponse(body, status_code=200 if ready else 503)


def _clip_notice(clip: dict[str, object]) -> str | None:
    if clip.get("fallback"):
        return (
            f"CLIP {clip['configured']} could not be loaded, so the tiny test model with random weights runs "
            "instead: image similarity and tags are not meaningful (why: /readyz, clip.fallback)"
        )
    if clip.get("tiny"):
        return "CLIP runs the tiny test model with random weights: image similarity and tags are not meaningful"
    return None


def _redis_ping(url: str) -> str | None:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # readiness reports any failure by name
        return f"{type(exc).__name__}: {exc}"
    return None


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, ctx: CtxDep) -> PlainTextResponse:
    """Prometheus text format: latencies, job counts by state, index size."""
    jobs = {(("state", state),): float(n) for state, n in ctx.records.job_counts().items()}
    try:
        docs = float(ctx.backend.count())
    except Exception:  # a down engine must not take /metrics with it
        docs = float("nan")
    gauges = {
        "discovery_jobs": ("jobs by state", jobs),
        "discovery_index_documents": (
            "documents in the current index version",
            {(("engine", ctx.backend.name),): docs},
        ),
        "discovery_products": ("product records", {(): float(ctx.records.count_products())}),
        "discovery_background_waited_seconds": (
            "time in-process jobs spent stepping aside for requests (a counter)",
            {(): round(ctx.foreground.waited_s, 3)},
        ),
        "discovery_background_waits": (
            "steps of in-process jobs that found requests in flight (a counter)",
            {(): float(ctx.foreground.waits)},
        ),
    }
    text = request.app.state.metrics.render(gauges)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


@router.post("/api/admin/reindex")
def admin_reindex(ctx: CtxDep, _caller: Annotated[Caller, require("admin")]) -> dict[str, object]:
    """Rebuild the index from the records inside the serving process (the embedded engine
    allows one writer, which the server holds); searches keep answering during it."""
    from discovery.services.reindex import reindex

    return dict(reindex(ctx))
