"""The Celery app on Redis: one task, `discovery.run_chunk`, whose body is `execute_chunk`.

Delivery settings, and why:
- `acks_late` + `task_reject_on_worker_lost`: a message is acknowledged only after its chunk
  ran, so a worker killed mid-chunk leaves the message to be delivered again;
- `worker_prefetch_multiplier=1`: a worker holds no more chunks than it runs, so a killed
  worker strands as few messages as possible;
- the broker's visibility timeout (1 h) is far longer than any chunk (a chunk is a few
  seconds to a minute; `JobTuning.lease_s` detects a dead holder much sooner) and than any
  retry countdown (`JobTuning.retry_cap_s`, 60 s), so Redis never hands a message that is
  still being worked on, or waiting for its retry, to a second worker;
- retries are Celery retries with the countdown `execute_chunk` computed (exponential,
  capped, jittered) and counted in the records, so a Redis restart does not reset them.
The records, not these settings, guarantee each chunk's effect is counted once: duplicates
that slip through anyway find the chunk held or done and do nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import redis
from celery import Celery, Task
from kombu.transport import redis as kombu_redis

from discovery.config import Settings
from indexer.jobs.executor import execute_chunk
from indexer.jobs.model import JobEnv, JobKinds
from indexer.jobs.retry import backoff, is_transient

log = logging.getLogger(__name__)

QUEUE = "discovery.jobs"
RUN_CHUNK = "discovery.run_chunk"
EPOCH_KEY = "discovery:jobs:epoch:"  # + queue; lives and dies with the queue (same Redis db)
VISIBILITY_TIMEOUT_S = 3600


class _QoS(kombu_redis.QoS):
    """kombu 5.7's Redis QoS, made to survive a Redis restart. When the connection is lost,
    acknowledging, rejecting or handing back a message of the old connection raises
    AttributeError (the channel has lost its connection), which stops the whole worker.
    Those messages lived in the Redis that went away; nothing is lost by dropping them:
    the reconciler re-sends whatever the records say is unfinished."""

    def restore_unacked(self, client: object = None) -> None:
        try:
            super().restore_unacked(client)
        except AttributeError as exc:
            log.warning("could not hand unacked messages back to Redis (%r); the reconciler will", exc)
            self._delivered.clear()

    def ack(self, delivery_tag: object) -> None:
        try:
            super().ack(delivery_tag)
        except AttributeError as exc:
            log.warning("could not acknowledge a message of a lost connection (%r)", exc)
            kombu_redis.virtual.QoS.ack(self, delivery_tag)

    def reject(self, delivery_tag: object, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue=requeue)
        except AttributeError as exc:
            log.warning("could not reject a message of a lost connection (%r)", exc)
            kombu_redis.virtual.QoS.reject(self, delivery_tag, requeue=False)


class _Channel(kombu_redis.Channel):
    QoS = _QoS


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport, surviving a Redis restart (see `_QoS`)."""

    Channel = _Channel


class _TaskHost:
    """What the task needs in a worker process, made on first use in that process (after
    the prefork pool forked), never in the parent."""

    def __init__(self, env_factory: Callable[[], JobEnv] | None, kinds: JobKinds) -> None:
        self._factory = env_factory
        self.kinds = kinds
        self._env: JobEnv | None = None
        self._lock = threading.Lock()

    def env(self) -> JobEnv:
        with self._lock:
            if self._env is None:
                if self._factory is None:
                    raise RuntimeError("this Celery app only sends jobs; start a worker to run them")
                self._env = self._factory()
            return self._env


class CeleryDispatcher:
    """Sends chunk messages through Celery. Its queue identity is an epoch key stored in the
    broker's Redis: a Redis restarted without persistence has lost both the key and the
    messages, so chunks sent under an older epoch are known to be lost."""

    def __init__(self, app: Celery, redis_url: str, *, queue: str = QUEUE) -> None:
        self._app = app
        self._queue = queue
        self._key = EPOCH_KEY + queue
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)

    def current_queue(self) -> str:
        epoch = self._redis.get(self._key)
        if epoch is None:
            self._redis.set(self._key, uuid.uuid4().hex, nx=True)
            epoch = self._redis.get(self._key)
        text = epoch.decode() if isinstance(epoch, bytes) else str(epoch or "")
        return f"redis:{text}"

    def send(self, job_id: str, chunk_no: int, *, delay: float = 0.0) -> None:
        self._app.send_task(RUN_CHUNK, args=(job_id, chunk_no), queue=self._queue, countdown=delay or None)

    def is_live(self, queue_id: str) -> bool:
        if not queue_id.startswith("redis:"):
            return True  # an in-process queue: judged by its heartbeat, not here
        return queue_id == self.current_queue()

    def close(self) -> None:
        self._redis.close()


def make_celery(
    settings: Settings,
    *,
    kinds: JobKinds,
    env_factory: Callable[[], JobEnv] | None = None,
    queue: str = QUEUE,
) -> tuple[Celery, CeleryDispatcher]:
    """A Celery app bound to `settings.redis_url`, with the chunk task registered, and the
    dispatcher that sends through it. `env_factory` is needed only where tasks run (a worker).
    `queue` names the Redis queue (tests give each run its own)."""
    if not settings.redis_url:
        raise ValueError("Celery needs DISCOVERY_REDIS_URL; without it jobs run in-process")
    app = Celery("discovery", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport=f"{__name__}:RedisTransport",
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    host = _TaskHost(env_factory, kinds)
    dispatcher = CeleryDispatcher(app, settings.redis_url, queue=queue)

    @app.task(name=RUN_CHUNK, bind=True)
    def run_chunk(task: Task, job_id: str, chunk_no: int) -> str:
        try:
            ran = execute_chunk(host.env(), host.kinds, dispatcher, job_id, chunk_no)
        except Exception as exc:
            # Outside the chunk (claiming it, recording it): the records database is away.
            if not is_transient(exc):
                raise
            delay = backoff(task.request.retries + 1, base=1.0, cap=60.0)
            raise task.retry(exc=exc, countdown=delay, max_retries=None) from exc
        if ran.state == "retry":
            raise task.retry(countdown=ran.retry_in, max_retries=None)
        return ran.state

    return app, dispatcher
