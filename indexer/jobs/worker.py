"""`discovery worker`: a Celery worker process, plus the reconciler in a thread beside it."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

from celery import Celery

from discovery.config import Settings
from discovery.store.database import make_engine
from discovery.store.job_records import JobStore
from indexer.jobs.celery_app import QUEUE, make_celery
from indexer.jobs.model import JobEnv, JobKinds
from indexer.jobs.reconcile import ReconcilerLoop
from indexer.jobs.runner import IndexCheckSchedule

log = logging.getLogger(__name__)


def default_pool(settings: Settings) -> str:
    """The embedded index has one writer per index, so an embedded worker runs its chunks on
    threads in one process; with OpenSearch, processes use every core."""
    return "threads" if settings.backend == "embedded" else "prefork"


def run_worker(
    settings: Settings,
    *,
    env_factory: Callable[[], JobEnv],
    kinds: JobKinds,
    concurrency: int | None = None,
    pool: str | None = None,
    reconcile_every: float = 30.0,
    index_check_every: float | None = 6 * 3600.0,
    loglevel: str = "INFO",
    queue: str = QUEUE,
) -> None:
    """Run a worker until it is stopped. Blocks.

    The reconciler runs at once (recovering what a killed worker or a restarted Redis left)
    and then every `reconcile_every` seconds, in this process's main process only: prefork
    children build their own stores (`env_factory`) on their first chunk. A `check_index`
    job (records against index against files) starts now and every `index_check_every`
    seconds (None: never)."""
    app, dispatcher = make_celery(settings, kinds=kinds, env_factory=env_factory, queue=queue)
    engine = make_engine(settings.records_url)
    store = JobStore(engine)
    check = IndexCheckSchedule(store, dispatcher, kinds, every=index_check_every) if index_check_every else None

    def after_pass() -> None:
        try:
            if check is not None:
                check()
        finally:
            # Connections closed after every pass: a prefork child never inherits an open one.
            engine.dispose()

    loop = ReconcilerLoop(store, dispatcher, every=reconcile_every, after_pass=after_pass)
    loop.start()
    name = f"discovery-{os.getpid()}@{socket.gethostname()}"
    argv = [
        "worker",
        f"--concurrency={concurrency or settings.workers}",
        f"--pool={pool or default_pool(settings)}",
        f"--loglevel={loglevel}",
        f"--queues={queue}",
        f"--hostname={name}",
        "--without-gossip",
        "--without-mingle",
    ]
    log.info("starting worker %s: %s", name, " ".join(argv))
    try:
        app.worker_main(argv)
    finally:
        loop.stop()
        dispatcher.close()
        engine.dispose()


def answering_workers(settings: Settings, *, host: str | None = None, timeout: float = 5.0) -> list[str]:
    """The names of the workers that answer a Celery ping through `settings.redis_url` within
    `timeout` seconds; with `host`, only those running there (`run_worker` names a worker
    `discovery-<pid>@<host>`). The compose worker's healthcheck."""
    if not settings.redis_url:
        raise ValueError("DISCOVERY_REDIS_URL is not set: jobs run in-process, there is no worker to ping")
    app = Celery("discovery-ping", broker=settings.redis_url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    try:
        replies = app.control.ping(timeout=timeout)
    finally:
        app.close()
    names = [name for reply in replies for name in reply]
    return [name for name in names if host is None or name.endswith(f"@{host}")]
