"""Jobs: imports and ingests split into chunks, run by Celery workers on Redis or in-process.

- `model`: what a job kind is (`JobKind`: plan + run), `ChunkContext`, `ChunkResult`, `JobTuning`
- `executor`: the body of every chunk task (claim, lease, run, record, total)
- `items`: per-item attempts, rejects and dead letters inside a chunk
- `retry`: which failures are transient, and the backoff before a retry
- `dispatch` / `threads` / `celery_app`: sending chunks in-process or through Redis
- `reconcile`: re-sends the chunks nobody will run (dead workers, a restarted Redis)
- `runner`: `JobRunner`, how a process starts jobs; `worker`: `discovery worker`
- `kinds`: the job kinds (product import, asset ingest)
The records database (`discovery.store.job_records`) holds every job's truth.
"""
