"""The job kinds a runner knows by name."""

from __future__ import annotations

from indexer.jobs.model import JobKind


def default_kinds() -> dict[str, JobKind]:
    """Every job kind of the product. Kinds import their pipelines lazily (in plan/run), so
    building this mapping loads no model and no reader."""
    return {}
