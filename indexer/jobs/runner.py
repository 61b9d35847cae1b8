"""The one entry point for starting jobs in a process: Celery when Redis is configured,
in-process threads otherwise. The API, the CLI and tests all start jobs through it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from discovery.domain import JSONObject
from discovery.errors import NotFound
from discovery.store.job_records import PLAN_CHUNK, JobStore, now_utc
from indexer.jobs.dispatch import Dispatcher, dispatch
from indexer.jobs.model import JobEnv, JobKind, JobKinds, JobTuning
from indexer.jobs.threads import ThreadRunner

if TYPE_CHECKING:  # Celery and its Redis client load only where Redis is configured
    from indexer.jobs.celery_app import CeleryDispatcher

FINISHED = ("succeeded", "failed", "cancelled")


def submit_job(
    store: JobStore,
    dispatcher: Dispatcher,
    kind: JobKind,
    *,
    params: JSONObject,
    created_by: str | None = None,
    tuning: JobTuning | None = None,
) -> str:
    """Create a queued job with its plan chunk and send the plan."""
    params = {**params, "ordered": bool(kind.ordered), "tuning": (tuning or JobTuning()).to_json()}
    job_id = store.create_job(kind.name, params=params, created_by=created_by, plan={"label": "plan"})
    dispatch(store, dispatcher, job_id, [PLAN_CHUNK])
    return job_id


class IndexCheckSchedule:
    """Starts a `check_index` job when none ran for `every` seconds (at start: now). Called
    after each reconciler pass; several workers may race, and a second check is harmless."""

    def __init__(self, store: JobStore, dispatcher: Dispatcher, kinds: JobKinds, *, every: float) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._kind = kinds.get("check_index")
        self._every = every

    def __call__(self) -> None:
        if self._kind is None:
            return
        last = self._store.latest_job(self._kind.name)
        if last is not None:
            state, created = last
            if state in ("queued", "running") or (now_utc() - created).total_seconds() < self._every:
                return
        submit_job(self._store, self._dispatcher, self._kind, params={}, created_by="reconciler")


class JobRunner:
    """Creates jobs in the records and sends their first chunk (the plan)."""

    def __init__(
        self,
        env: JobEnv,
        *,
        kinds: JobKinds,
        reconcile_every: float = 10.0,
        queue: str | None = None,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        """`dispatcher`: send jobs there (a server's job worker process) instead of to
        Celery or to threads of this process."""
        settings = env.settings
        self.env = env
        self.kinds = kinds
        self.store = JobStore(env.records.engine)
        self._threads: ThreadRunner | None = None
        self._celery: CeleryDispatcher | None = None
        self._other = dispatcher
        if dispatcher is not None:
            pass
        elif settings.redis_url:
            from indexer.jobs.celery_app import QUEUE, make_celery

            _app, self._celery = make_celery(settings, kinds=kinds, queue=queue or QUEUE)
        else:
            self._threads = ThreadRunner(
                env, kinds=kinds, workers=settings.workers, reconcile_every=reconcile_every
            ).start()

    @property
    def dispatcher(self) -> Dispatcher:
        if self._other is not None:
            return self._other
        if self._threads is not None:
            return self._threads
        assert self._celery is not None
        return self._celery

    @property
    def in_process(self) -> bool:
        return self._threads is not None

    def submit(
        self, kind: str, *, params: JSONObject, created_by: str | None = None, tuning: JobTuning | None = None
    ) -> str:
        """Create a queued job and send its plan. Returns the job id at once; a broker that
        is down delays the job (the reconciler sends it later), it does not lose it."""
        if kind not in self.kinds:
            raise ValueError(f"unknown job kind {kind!r}")
        return submit_job(
            self.store, self.dispatcher, self.kinds[kind], params=params, created_by=created_by, tuning=tuning
        )

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job: chunks not started never start, running ones stop
        at their next item. False when the job had already finished."""
        if self.store.job_params(job_id) is None:
            raise NotFound(f"no job {job_id}")
        return self.store.cancel(job_id)

    def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        poll: float = 0.2,
        on_progress: Callable[[JSONObject], None] | None = None,
    ) -> JSONObject:
        """Follow a job until it finishes (the CLI's progress bar); raises TimeoutError."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.env.records.get_job(job_id)
            if job is None:
                raise NotFound(f"no job {job_id}")
            if on_progress is not None:
                on_progress(job)
            if job["state"] in FINISHED:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job['state']} after {timeout}s")
            time.sleep(poll)

    def close(self, *, wait: bool = True) -> None:
        if self._threads is not None:
            self._threads.close(wait=wait)
        if self._celery is not None:
            self._celery.close()
