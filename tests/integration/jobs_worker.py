"""A worker process for the job tests: the real `run_worker` (Celery on Redis + reconciler),
with the test job kind added. Settings come from the environment, as for `discovery worker`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from jobs_support import RecordsEnv, extra_kinds  # noqa: E402

from discovery.config import Settings  # noqa: E402
from indexer.jobs.kinds import default_kinds  # noqa: E402
from indexer.jobs.worker import run_worker  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queue", required=True)
    parser.add_argument("--pool", default="threads")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--reconcile-every", type=float, default=0.5)
    parser.add_argument("--env", choices=("records", "context"), default="records")
    args = parser.parse_args()
    settings = Settings()
    if args.env == "context":
        from discovery.services.context import Context
        from discovery.services.jobs import job_kinds

        factory = lambda: Context.open(settings)  # noqa: E731
        kinds = {**job_kinds(), **extra_kinds()}
    else:
        factory = lambda: RecordsEnv.open(settings)  # noqa: E731
        kinds = {**default_kinds(), **extra_kinds()}
    run_worker(
        settings,
        env_factory=factory,  # type: ignore[arg-type]
        kinds=kinds,
        concurrency=args.concurrency,
        pool=args.pool,
        reconcile_every=args.reconcile_every,
        index_check_every=None,
        queue=args.queue,
    )


if __name__ == "__main__":
    main()
