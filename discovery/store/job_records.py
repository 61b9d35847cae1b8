"""Job chunks in the records database: claims with leases, outcomes, and the job's totals.

The records database, not the broker, is the truth about a job: each chunk row says whether
its work is done, who holds it and until when, and what it counted. A broker restart or a
killed worker loses messages, never outcomes; the reconciler re-sends what the rows say is
unfinished. Every state change is a conditional UPDATE, so two workers racing for one chunk,
or a late worker finishing a chunk someone else took over, cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Connection, Engine, and_, delete, func, insert, or_, select, update

from discovery.domain import JSONObject, JSONValue
from discovery.store import tables as t

PLAN_CHUNK = 0  # chunk 0 of every chunked job splits the input into the other chunks
ACTIVE_JOB_STATES = ("queued", "running")
OPEN_CHUNK_STATES = ("pending", "running", "retrying")
COUNT_KEYS = ("received", "indexed", "rejected", "duplicates")
REPORT_CAP = 1000  # rejects / dead letters copied into the job row; counts stay exact


def now_utc() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything written here is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


@dataclass(frozen=True, slots=True)
class ChunkClaim:
    """A chunk this worker now holds, with what it needs to run it."""

    job_id: str
    chunk_no: int
    kind: str
    params: JSONObject
    payload: JSONObject
    attempts: int  # including this one
    owner: str
    job_cancelled: bool


@dataclass(frozen=True, slots=True)
class OpenChunk:
    """An unfinished chunk as the reconciler sees it."""

    job_id: str
    chunk_no: int
    state: str
    lease_expires_at: datetime | None
    queue_id: str | None
    enqueued_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    state: str  # done | failed | cancelled
    counts: dict[str, int]
    rejects: list[JSONObject]
    dead_letters: list[JSONObject]
    error: str | None = None
    links: list[JSONObject] = field(default_factory=list)  # what linking did (ChunkResult.links)


class JobStore:
    """SQL for chunked jobs. Shares the records engine (and so its database) with `Records`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- creation -------------------------------------------------------------------------

    def create_job(
        self, kind: str, *, params: JSONObject, created_by: str | None, plan: JSONObject
    ) -> str:
        """A queued job and its plan chunk, in one transaction: a job never exists without the
        row that lets the reconciler finish it."""
        job_id = str(uuid.uuid4())
        now = now_utc()
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.jobs).values(
                    id=job_id, kind=kind, state="queued", progress=0.0, counts=empty_counts(),
                    rejects=[], dead_letters=[], params=params, created_by=created_by, created_at=now,
                )
            )
            conn.execute(insert(t.job_chunks).values(**_new_chunk(job_id, PLAN_CHUNK, plan, now)))
        return job_id

    def add_chunks(self, job_id: str, payloads: Sequence[JSONObject], *, first_no: int = 1) -> None:
        """Add work chunks numbered from `first_no`; chunks that exist are left as they are,
        so a plan that runs twice adds nothing the second time. A job cancelled meanwhile gets
        them as `cancelled`: nothing is left pending behind a cancel."""
        now = now_utc()
        with self.engine.begin() as conn:
            have = set(
                conn.execute(select(t.job_chunks.c.chunk_no).where(t.job_chunks.c.job_id == job_id)).scalars()
            )
            state = conn.execute(select(t.jobs.c.state).where(t.jobs.c.id == job_id)).scalar()
            rows = [
                _new_chunk(job_id, no, payload, now)
                for no, payload in enumerate(payloads, start=first_no)
                if no not in have
            ]
            if state == "cancelled":
                for row in rows:
                    row.update(state="cancelled", finished_at=now)
            if rows:
                conn.execute(insert(t.job_chunks), rows)

    # --- running a chunk ------------------------------------------------------------------

    def job_params(self, job_id: str) -> JSONObject | None:
        with self.engine.connect() as conn:
            params: JSONObject | None = conn.execute(
                select(t.jobs.c.params).where(t.jobs.c.id == job_id)
            ).scalar()
        return params

    def claim(self, job_id: str, chunk_no: int, *, owner: str, lease_s: float) -> ChunkClaim | None:
        """Take a chunk that is waiting, or whose holder's lease ran out. None when it is done,
        held by a live worker, or its job is over: the message that asked is then a duplicate."""
        now = now_utc()
        c = t.job_chunks.c
        with self.engine.begin() as conn:
            job = conn.execute(
                select(t.jobs.c.kind, t.jobs.c.state, t.jobs.c.params).where(t.jobs.c.id == job_id)
            ).first()
            if job is None or job.state not in (*ACTIVE_JOB_STATES, "cancelled"):
                return None
            # The job row before the chunk row, in the order `cancel` takes them (no deadlock).
            conn.execute(
                update(t.jobs).where(t.jobs.c.id == job_id, t.jobs.c.state == "queued")
                .values(state="running", started_at=now)
            )
            claimed = conn.execute(
                update(t.job_chunks)
                .where(
                    c.job_id == job_id,
                    c.chunk_no == chunk_no,
                    or_(
                        c.state.in_(("pending", "retrying")),
                        and_(c.state == "running", c.lease_expires_at < now),
                    ),
                )
                .values(
                    state="running", lease_owner=owner, attempts=c.attempts + 1,
                    lease_expires_at=now + timedelta(seconds=lease_s),
                )
            )
            if claimed.rowcount != 1:
                return None
            row = conn.execute(
                select(c.payload, c.attempts).where(c.job_id == job_id, c.chunk_no == chunk_no)
            ).one()
        return ChunkClaim(
            job_id=job_id, chunk_no=chunk_no, kind=job.kind, params=job.params or {},
            payload=row.payload, attempts=row.attempts, owner=owner,
            job_cancelled=job.state == "cancelled",
        )

    def extend_lease(self, job_id: str, chunk_no: int, *, owner: str, lease_s: float) -> str | None:
        """Keep holding a chunk. Returns the job's state, or None once the chunk is no longer ours."""
        c = t.job_chunks.c
        with self.engine.begin() as conn:
            held = conn.execute(
                update(t.job_chunks)
                .where(c.job_id == job_id, c.chunk_no == chunk_no, c.lease_owner == owner, c.state == "running")
                .values(lease_expires_at=now_utc() + timedelta(seconds=lease_s))
            )
            if held.rowcount != 1:
                return None
            state: str | None = conn.execute(select(t.jobs.c.state).where(t.jobs.c.id == job_id)).scalar()
            return state

    def release_for_retry(
        self, job_id: str, chunk_no: int, *, owner: str, retry_in: float, lease_s: float, error: str
    ) -> bool:
        """Hand a chunk back after a transient failure. It stays leased until its retry is due
        plus one lease, so the reconciler re-sends it only if the retry message is lost."""
        c = t.job_chunks.c
        expires = now_utc() + timedelta(seconds=retry_in + lease_s)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.job_chunks)
                .where(c.job_id == job_id, c.chunk_no == chunk_no, c.lease_owner == owner, c.state == "running")
                .values(state="retrying", lease_owner=None, lease_expires_at=expires, error=error)
            )
        return done.rowcount == 1

    def finish_chunk(self, job_id: str, chunk_no: int, outcome: ChunkOutcome, *, owner: str | None) -> bool:
        """Record a chunk's outcome, replacing (never adding to) what an earlier attempt left:
        a chunk delivered twice is counted once. With `owner`, only while that owner holds it."""
        c = t.job_chunks.c
        cond = [c.job_id == job_id, c.chunk_no == chunk_no]
        if owner is not None:
            cond += [c.lease_owner == owner, c.state == "running"]
        else:
            cond += [c.state.in_(OPEN_CHUNK_STATES)]
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.job_chunks).where(*cond).values(
                    state=outcome.state, counts=outcome.counts, rejects=outcome.rejects,
                    dead_letters=outcome.dead_letters, error=outcome.error, links=outcome.links,
                    lease_owner=None, lease_expires_at=None, finished_at=now_utc(),
                )
            )
        return done.rowcount == 1

    # --- the job's totals -----------------------------------------------------------------

    def refresh_job(self, job_id: str) -> str | None:
        """Recompute the job's progress, counts, rejects and dead letters from its chunks, and
        end it once every chunk is finished. Returns the job's state."""
        return self.refresh_job_ended(job_id)[0]

    def refresh_job_ended(self, job_id: str) -> tuple[str | None, bool]:
        """`refresh_job`, also telling whether this call is the one that ended the job.
        Serialised per job (the first statement takes the job row's write lock), so a slower
        worker never writes older totals over newer ones and exactly one call ends it."""
        with self.engine.begin() as conn:
            locked = conn.execute(
                update(t.jobs).where(t.jobs.c.id == job_id).values(progress=t.jobs.c.progress)
            )
            if locked.rowcount != 1:
                return None, False
            state: str = conn.execute(select(t.jobs.c.state).where(t.jobs.c.id == job_id)).scalar_one()
            if state in ("succeeded", "failed"):
                return state, False
            values = _totals(conn, job_id)
            finished = values.pop("_finished")
            ended = bool(finished and state in ACTIVE_JOB_STATES)
            if ended:
                failed = values.pop("_failed")
                values["state"] = "failed" if failed else "succeeded"
                values["error"] = failed or None
                values["finished_at"] = now_utc()
                state = str(values["state"])
            else:
                values.pop("_failed")
            conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(**values))
        return state, ended

    def cancel(self, job_id: str) -> bool:
        """Stop a job: waiting chunks are cancelled, running ones finish what they hold."""
        now = now_utc()
        c = t.job_chunks.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.jobs).where(t.jobs.c.id == job_id, t.jobs.c.state.in_(ACTIVE_JOB_STATES))
                .values(state="cancelled", finished_at=now)
            )
            if done.rowcount != 1:
                return False
            conn.execute(
                update(t.job_chunks)
                .where(c.job_id == job_id, c.state.in_(("pending", "retrying")))
                .values(state="cancelled", lease_owner=None, lease_expires_at=None, finished_at=now)
            )
        return True

    # --- queues and the reconciler --------------------------------------------------------

    def mark_enqueued(self, job_id: str, chunk_nos: Iterable[int], *, queue_id: str) -> None:
        nos = list(chunk_nos)
        if not nos:
            return
        c = t.job_chunks.c
        with self.engine.begin() as conn:
            conn.execute(
                update(t.job_chunks).where(c.job_id == job_id, c.chunk_no.in_(nos))
                .values(queue_id=queue_id, enqueued_at=now_utc())
            )

    def open_before(self, job_id: str, chunk_no: int) -> bool:
        """Whether a work chunk numbered below `chunk_no` is still unfinished."""
        c = t.job_chunks.c
        with self.engine.connect() as conn:
            found = conn.execute(
                select(c.chunk_no).where(
                    c.job_id == job_id, c.chunk_no > PLAN_CHUNK, c.chunk_no < chunk_no, c.state.in_(OPEN_CHUNK_STATES)
                ).limit(1)
            ).first()
        return found is not None

    def pending_chunks(self, job_id: str) -> list[int]:
        c = t.job_chunks.c
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(c.chunk_no).where(c.job_id == job_id, c.state == "pending").order_by(c.chunk_no)
                ).scalars()
            )

    def latest_job(self, kind: str) -> tuple[str, datetime] | None:
        """The state and creation time of the newest job of a kind."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.jobs.c.state, t.jobs.c.created_at)
                .where(t.jobs.c.kind == kind).order_by(t.jobs.c.created_at.desc()).limit(1)
            ).first()
        if row is None:
            return None
        return row.state, _aware(row.created_at) or now_utc()

    def active_jobs(self) -> dict[str, JSONObject]:
        """Params of every queued or running job, by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.jobs.c.id, t.jobs.c.params).where(t.jobs.c.state.in_(ACTIVE_JOB_STATES))
            ).all()
        return {r.id: r.params or {} for r in rows}

    def open_chunks(self, job_id: str) -> list[OpenChunk]:
        c = t.job_chunks.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.chunk_no, c.state, c.lease_expires_at, c.queue_id, c.enqueued_at, c.created_at)
                .where(c.job_id == job_id, c.state.in_(OPEN_CHUNK_STATES))
                .order_by(c.chunk_no)
            ).all()
        return [
            OpenChunk(
                job_id=job_id, chunk_no=r.chunk_no, state=r.state,
                lease_expires_at=_aware(r.lease_expires_at), queue_id=r.queue_id,
                enqueued_at=_aware(r.enqueued_at), created_at=_aware(r.created_at) or now_utc(),
            )
            for r in rows
        ]

    def turn_came(self, job_id: str, chunk_no: int) -> datetime | None:
        """When the chunks before `chunk_no` last finished (the plan included): for an
        ordered job, when that chunk's turn came and its message was due."""
        c = t.job_chunks.c
        with self.engine.connect() as conn:
            last = conn.execute(
                select(func.max(c.finished_at)).where(c.job_id == job_id, c.chunk_no < chunk_no)
            ).scalar()
        return _aware(last)

    def reset_expired(self, job_id: str, chunk_no: int) -> bool:
        """Put a chunk whose lease ran out back to pending (unless someone just claimed it)."""
        c = t.job_chunks.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.job_chunks)
                .where(
                    c.job_id == job_id, c.chunk_no == chunk_no,
                    c.state.in_(("running", "retrying")), c.lease_expires_at < now_utc(),
                )
                .values(state="pending", lease_owner=None, lease_expires_at=None)
            )
        return done.rowcount == 1

    def beat_queue(self, queue_id: str) -> None:
        """An in-process runner is alive; runners silent for a day are forgotten."""
        row = {"id": queue_id, "heartbeat_at": now_utc()}
        with self.engine.begin() as conn:
            conn.execute(delete(t.job_queues).where(t.job_queues.c.heartbeat_at < now_utc() - timedelta(days=1)))
            updated = conn.execute(
                update(t.job_queues).where(t.job_queues.c.id == queue_id).values(heartbeat_at=row["heartbeat_at"])
            )
            if updated.rowcount == 0:
                conn.execute(insert(t.job_queues).values(**row))

    def queue_alive(self, queue_id: str, *, within_s: float) -> bool:
        since = now_utc() - timedelta(seconds=within_s)
        with self.engine.connect() as conn:
            beat = conn.execute(select(t.job_queues.c.heartbeat_at).where(t.job_queues.c.id == queue_id)).scalar()
        beat = _aware(beat)
        return beat is not None and beat >= since

    def link_report(self, job_id: str) -> JSONObject:
        """What the job's linking did, from its finished chunks: `linked` (each with how),
        `suggested` and `ambiguous` entries (at most REPORT_CAP each) and exact `counts`
        (`linked_<how>`, `suggested`, `ambiguous`)."""
        c = t.job_chunks.c
        out: dict[str, list[JSONValue]] = {"linked": [], "suggested": [], "ambiguous": []}
        counts: dict[str, JSONValue] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.links).where(c.job_id == job_id, c.state.not_in(OPEN_CHUNK_STATES)).order_by(c.chunk_no)
            ).scalars()
            for items in rows:
                for item in items if isinstance(items, list) else []:
                    if not isinstance(item, dict) or item.get("outcome") not in out:
                        continue
                    outcome = str(item["outcome"])
                    key = f"linked_{item.get('how')}" if outcome == "linked" else outcome
                    counts[key] = int(counts.get(key) or 0) + 1  # type: ignore[arg-type]
                    if len(out[outcome]) < REPORT_CAP:
                        out[outcome].append({k: v for k, v in item.items() if k != "outcome"})
        return {"counts": dict(sorted(counts.items())), **out}

    def chunk_states(self, job_id: str) -> dict[str, int]:
        """How many work chunks (the plan not counted) the job has, and how many per state."""
        c = t.job_chunks.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.state, func.count()).where(c.job_id == job_id, c.chunk_no > PLAN_CHUNK).group_by(c.state)
            ).all()
        out = {state: int(n) for state, n in rows}
        return {"total": sum(out.values()), **out}

    def chunks(self, job_id: str) -> list[JSONObject]:
        """Every chunk of a job, for reports and tests."""
        c = t.job_chunks.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.chunk_no, c.state, c.attempts, c.counts, c.error, c.dead_letters)
                .where(c.job_id == job_id).order_by(c.chunk_no)
            ).mappings().all()
        return [dict(r) for r in rows]


def _new_chunk(job_id: str, chunk_no: int, payload: JSONObject, now: datetime) -> dict[str, object]:
    return {
        "job_id": job_id, "chunk_no": chunk_no, "state": "pending", "payload": payload, "attempts": 0,
        "counts": empty_counts(), "rejects": [], "dead_letters": [], "created_at": now,
    }


def _totals(conn: Connection, job_id: str) -> dict[str, object]:
    c = t.job_chunks.c
    rows = conn.execute(
        select(c.chunk_no, c.state, c.counts, c.error).where(c.job_id == job_id).order_by(c.chunk_no)
    ).all()
    counts = empty_counts()
    work = [r for r in rows if r.chunk_no != PLAN_CHUNK]
    terminal = [r for r in rows if r.state not in OPEN_CHUNK_STATES]
    for r in terminal:
        for key, value in (r.counts or {}).items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    failed = [f"chunk {r.chunk_no}: {r.error}" for r in rows if r.state == "failed"]
    done_work = sum(1 for r in work if r.state not in OPEN_CHUNK_STATES)
    plan_done = any(r.chunk_no == PLAN_CHUNK and r.state not in OPEN_CHUNK_STATES for r in rows)
    progress = done_work / len(work) if work else (1.0 if plan_done else 0.0)
    return {
        "counts": counts,
        "progress": round(progress, 4),
        "rejects": _report(conn, job_id, c.rejects),
        "dead_letters": _report(conn, job_id, c.dead_letters),
        "_finished": bool(rows) and len(terminal) == len(rows),
        "_failed": "; ".join(failed[:5]) + (f" (+{len(failed) - 5} more)" if len(failed) > 5 else ""),
    }


def _report(conn: Connection, job_id: str, column: Column[JSONValue]) -> list[JSONValue]:
    c = t.job_chunks.c
    out: list[JSONValue] = []
    rows = conn.execute(
        select(column).where(c.job_id == job_id, c.state.not_in(OPEN_CHUNK_STATES)).order_by(c.chunk_no)
    ).scalars()
    for items in rows:
        if isinstance(items, list):
            out.extend(items)
        if len(out) >= REPORT_CAP:
            return out[:REPORT_CAP]
    return out
