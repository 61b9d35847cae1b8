"""The FastAPI application: routers, the UI, problem+json errors, security headers.

The service context (stores, models, thread pool) is built in the lifespan and held on
`app.state`, never in module globals.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from discovery.api import docs, local_link, problems
from discovery.api.body_limit import BodyLimit
from discovery.api.metrics import Metrics
from discovery.api.rate_limit import RateLimiter
from discovery.api.routes import (
    analytics,
    assets,
    channels,
    collections,
    health,
    ingest,
    keys,
    links,
    me,
    models,
    products,
    review,
    search,
    webhooks,
)
from discovery.api.timing import HeadersAndTiming
from discovery.api.warm_routes import send_warm_searches
from discovery.config import Settings, get_settings
from discovery.services import owed_docs
from discovery.services.context import Context
from discovery.services.job_process import JobProcess
from discovery.services.jobs import close_jobs, hand_jobs_to
from discovery.services.warmup import Warmup


def ui_dir() -> Path | None:
    """The UI's folder: the `search_ui` package data as installed from the wheel (or found on
    the path), else the checkout's `search_ui/` beside `discovery/`. An editable install maps
    the package through a placeholder path that is no folder (importlib.resources.files fails
    on it in 3.11), so only real folders count, and the checkout is the fallback."""
    spec = importlib.util.find_spec("search_ui")
    locations = [Path(p) for p in (spec.submodule_search_locations or [])] if spec is not None else []
    for folder in [*locations, Path(__file__).resolve().parents[2] / "search_ui"]:
        if (folder / "index.html").is_file():
            return folder
    return None


# Review writes' threads, beside the `api_threads` that searches queue for: one for small
# writes (they take SQLite's one write lock in turn anyway; a second thread only handed the
# GIL back and forth while holding it: 187 against 229 requests/s with 20 clients deciding
# and searching, search p99 136 against 54 ms), one for bulk writes, so that a thousand-item
# decision never holds up a reviewer's keypress.
WRITE_LANE_THREADS = 1
BULK_LANE_THREADS = 1
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
}


def create_app(
    settings: Settings | None = None, *, ctx: Context | None = None, serve_url: str | None = None
) -> FastAPI:
    """Build the app. Pass `ctx` to share an already open context (tests, the demo).
    `serve_url` (`discovery serve`): this app is the data dir's server at that URL; it runs
    jobs in a worker process it supervises (without Redis) and announces itself to local
    commands (`local_link`)."""
    settings = settings or (ctx.settings if ctx else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = ctx is None
        app.state.ctx = ctx or Context.open(settings)
        worker = None
        if serve_url is not None:
            if not settings.redis_url:
                worker = JobProcess(settings).start()
                hand_jobs_to(app.state.ctx, worker.dispatcher)
            local_link.announce(app.state.ctx.records, settings.data_dir, serve_url)
        # The first kNN queries after a restart should not all wait for (or run without)
        # the HNSW graphs: their builds start now, in the background (`/readyz` lists them).
        app.state.ctx.backend.warm_up()
        # Index documents a crash left owed are written now, and decisions' from here on.
        owed_docs.start(app.state.ctx)
        # Likewise the models: `/readyz` says ready once they answered a query each.
        loop = asyncio.get_running_loop()
        requests = partial(send_warm_searches, app, loop, settings.api_threads)
        app.state.warmup = Warmup(app.state.ctx, requests=requests).start()
        # Requests run on the thread pool; dozens of them at once only fight over the GIL
        # and the cores. At 70% of saturation during an import, 40 threads (AnyIO's
        # default) fell 39 s behind in 5 minutes, 4 kept the schedule (p99 4 s).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        # Review writes (decisions, bulk, undo) have threads of their own: a few records
        # writes each, their index documents written later in batches (`owed_docs`).
        app.state.write_lane = anyio.CapacityLimiter(WRITE_LANE_THREADS)
        app.state.bulk_lane = anyio.CapacityLimiter(BULK_LANE_THREADS)
        try:
            yield
        finally:
            app.state.warmup.close()
            if serve_url is not None:
                local_link.withdraw(settings.data_dir)
            close_jobs(app.state.ctx, wait=False)
            if worker is not None:
                worker.close()
            if own:
                app.state.ctx.close()

    app = FastAPI(
        title="Discovery",
        version="0.1.0",
        description="Product-content discovery: products and assets behind one search API.",
        lifespan=lifespan,
        # Our own /docs and /redoc (discovery/api/docs.py): FastAPI's load from a CDN that
        # the CSP below blocks.
        docs_url=None,
        redoc_url=None,
    )
    if ctx is not None:
        app.state.ctx = ctx
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_mb * 1024 * 1024)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type"],
        )

    app.state.metrics = Metrics()
    app.state.event_limiter = RateLimiter(per_minute=settings.analytics_events_per_minute)
    app.add_middleware(HeadersAndTiming, headers=SECURITY_HEADERS, metrics=app.state.metrics)

    for module in (
        health, search, products, assets, links, review, ingest, channels, collections, analytics, webhooks, keys, me,
        models,
    ):
        app.include_router(module.router)
    docs.install(app, csp=SECURITY_HEADERS["Content-Security-Policy"])
    ui = ui_dir()
    if ui is not None:
        app.mount("/", StaticFiles(directory=ui, html=True), name="ui")
    return app
