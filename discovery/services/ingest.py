"""Imports from the command line: start the job, follow it with a progress bar, return the
report. The same jobs the API starts, so the CLI and the API report alike.

When a server is using the data dir (or `--server` names one), the command hands the job
to it over HTTP (`*_via`) and follows it there: the server's worker process runs it, and
the server's searches see the rows as they are committed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import httpx
from rich.progress import Progress as ProgressBar

from discovery.config import Settings
from discovery.domain import JSONObject
from discovery.services import jobs
from discovery.services.context import Context
from indexer.jobs.runner import FINISHED


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
    settings: Settings,
    file: Path,
    *,
    mapping: str | None,
    mode: str,
    progress: ProgressBar | None = None,
    link_rule: str | None = None,
    link_pattern: str | None = None,
) -> JSONObject:
    ctx = Context.open(settings)
    try:
        job_id = jobs.start_product_import(
            ctx, source=file, filename=file.name, mapping=mapping, mode=mode,
            link_rule=link_rule, link_pattern=link_pattern,
        )  # fmt: skip
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
    link_rule: str | None = None,
    link_pattern: str | None = None,
) -> JSONObject:
    ctx = Context.open(settings)
    try:
        files = list(expand_paths(paths))
        job_id = jobs.start_asset_ingest(
            ctx, files=list(files), manifest=manifest, collection=collection,
            link_rule=link_rule, link_pattern=link_pattern,
        )  # fmt: skip
        return _follow(ctx, job_id, f"ingest {len(files)} files", progress)
    finally:
        jobs.close_jobs(ctx)
        ctx.close()


# -- through a running server ------------------------------------------------------------

POLL_S = 0.3


class ServerRefused(Exception):
    """The running server did not take the job (a bad mapping, a key without the right)."""


def _client(url: str, key: str | None) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-API-Key": key} if key else {}, timeout=httpx.Timeout(300.0))


def _started(response: httpx.Response) -> JSONObject:
    if response.status_code != 202:
        try:
            detail = response.json().get("detail") or response.text
        except ValueError:
            detail = response.text
        raise ServerRefused(f"the server at {response.request.url} answered {response.status_code}: {detail}")
    job: JSONObject = response.json()
    return job


def _follow_remote(client: httpx.Client, job: JSONObject, label: str, progress: ProgressBar | None) -> JSONObject:
    """Poll the job on the server until it ends, updating the bar as `_follow` does."""
    job_id = str(job["id"])
    task = progress.add_task(label, total=100) if progress is not None else None
    if progress is not None:
        progress.start()
    try:
        while True:
            if progress is not None and task is not None:
                progress.update(task, completed=round(float(job.get("progress") or 0.0) * 100, 1))  # type: ignore[arg-type]
            if job.get("state") in FINISHED:
                return job
            time.sleep(POLL_S)
            response = client.get(f"/api/jobs/{job_id}")
            response.raise_for_status()
            job = response.json()
    finally:
        if progress is not None:
            progress.stop()


def _link_form(link_rule: str | None, link_pattern: str | None) -> dict[str, str]:
    return {k: v for k, v in (("link_rule", link_rule), ("link_pattern", link_pattern)) if v}


def import_product_file_via(
    url: str,
    key: str | None,
    file: Path,
    *,
    mapping: str | None,
    mode: str,
    progress: ProgressBar | None = None,
    link_rule: str | None = None,
    link_pattern: str | None = None,
) -> JSONObject:
    """Hand the import to the server at `url` (the one using this data dir) and follow it."""
    with _client(url, key) as client, file.open("rb") as fh:
        data = {"mode": mode, **({"mapping": mapping} if mapping else {}), **_link_form(link_rule, link_pattern)}
        job = _started(client.post("/api/ingest/products", files={"file": (file.name, fh)}, data=data))
        return _follow_remote(client, job, f"import {file.name} (server {url})", progress)


def ingest_asset_paths_via(
    url: str,
    key: str | None,
    paths: list[Path],
    *,
    manifest: Path | None,
    collection: str | None,
    progress: ProgressBar | None = None,
    link_rule: str | None = None,
    link_pattern: str | None = None,
) -> JSONObject:
    """Hand the ingest to the server at `url` and follow it."""
    files = list(expand_paths(paths))
    with _client(url, key) as client, ExitStack() as stack:
        upload: list[tuple[str, tuple[str, BinaryIO]]] = [
            ("files", (name, stack.enter_context(path.open("rb")))) for name, path in files
        ]
        if manifest is not None:
            upload.append(("manifest", (manifest.name, stack.enter_context(manifest.open("rb")))))
        data = {**({"collection": collection} if collection else {}), **_link_form(link_rule, link_pattern)}
        job = _started(client.post("/api/ingest/assets", files=upload, data=data))
        return _follow_remote(client, job, f"ingest {len(files)} files (server {url})", progress)


# -- a CLIP model switch, followed as imports are ------------------------------------------


def use_clip_model(
    settings: Settings, *, model: str, pretrained: str, progress: ProgressBar | None = None
) -> JSONObject:
    """Start the switch to CLIP `model` in this process and follow it to its end."""
    from discovery.services.model_switch import start_clip_switch

    ctx = Context.open(settings)
    try:
        job_id = start_clip_switch(ctx, model=model, pretrained=pretrained)
        return _follow(ctx, job_id, f"use {model}", progress)
    finally:
        jobs.close_jobs(ctx)
        ctx.close()


def use_clip_model_via(
    url: str, key: str | None, *, model: str, pretrained: str, progress: ProgressBar | None = None
) -> JSONObject:
    """Hand the switch to the server at `url` (its worker re-embeds) and follow it."""
    with _client(url, key) as client:
        job = _started(client.post("/api/models/clip", json={"model": model, "pretrained": pretrained}))
        return _follow_remote(client, job, f"use {model} (server {url})", progress)
