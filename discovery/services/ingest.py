"""Imports from the command line: start the job, follow it with a progress bar, return the
report. The same jobs the API starts, so the CLI and the API report alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rich.progress import Progress as ProgressBar

from discovery.config import Settings
from discovery.domain import JSONObject
from discovery.services import jobs
from discovery.services.context import Context


def _follow(ctx: Context, job_id: str, label: str, progress: ProgressBar | None) -> JSONObject:
    if progress is None:
        return jobs.wait_for_job(ctx, job_id)
    with progress:
        task = progress.add_task(label, total=100)

        def show(job: JSONObject) -> None:
            progress.update(task, completed=round(float(job.get("progress") or 0.0) * 100, 1))  # type: ignore[arg-type]

        final = jobs.wait_for_job(ctx, job_id, on_progress=show)
        progress.update(task, completed=100)
    return final


def import_product_file(
    settings: Settings, file: Path, *, mapping: str | None, mode: str, progress: ProgressBar | None = None
) -> JSONObject:
    ctx = Context.open(settings)
    try:
        job_id = jobs.start_product_import(ctx, source=file, filename=file.name, mapping=mapping, mode=mode)
        return _follow(ctx, job_id, f"import {file.name}", progress)
    finally:
        jobs.close_jobs(ctx)
        ctx.close()


def expand_paths(paths: list[Path]) -> Iterator[tuple[str, Path]]:
    """Files named directly, and every file under named directories (sorted, hidden skipped)."""
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.is_file() and not any(part.startswith(".") for part in found.relative_to(path).parts):
                    yield str(found.relative_to(path)), found
        else:
            yield path.name, path


def ingest_asset_paths(
    settings: Settings,
    paths: list[Path],
    *,
    manifest: Path | None,
    collection: str | None,
    progress: ProgressBar | None = None,
) -> JSONObject:
    ctx = Context.open(settings)
    try:
        files = list(expand_paths(paths))
        job_id = jobs.start_asset_ingest(ctx, files=list(files), manifest=manifest, collection=collection)
        return _follow(ctx, job_id, f"ingest {len(files)} files", progress)
    finally:
        jobs.close_jobs(ctx)
        ctx.close()
