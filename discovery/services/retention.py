"""Retention: what Discovery deletes from disk, and when.

- When a job ends (succeeded, failed or cancelled), the files it stored for itself are
  deleted unless something else names them (`DISCOVERY_RETENTION_RELEASE_UPLOADS`): a
  rejected upload, a zip once its members are assets, a manifest, the file list, a product
  export and the import batches its plan stored. A file that became an asset (or was a
  duplicate of one) stays, as does one another unfinished job names or one stored again
  after this job began (an upload of the same bytes in flight). A cancelled job whose chunk
  still runs leaves its files to `discovery gc`.
- A reindex keeps the previous index version (readers in other processes may still hold it);
  `discovery gc` removes the versions older than `DISCOVERY_RETENTION_INDEX_VERSIONS`
  previous ones, and unpublished versions (a rebuild killed before its swap) idle for
  `DISCOVERY_RETENTION_MIN_AGE_MINUTES`. OpenSearch's rebuild deletes the old version at the
  swap itself; gc removes versions that never got the alias.
- `discovery gc` also removes blobs nothing names (no asset, no unfinished job) and the
  temporary files of uploads that never finished, once older than the minimum age.
Nothing here touches the records: a deleted blob is one no record names.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from discovery.config import Settings
from discovery.services.context import Context
from discovery.store.blob_refs import BlobRefs, keys_in
from discovery.store.blobs import FilesystemBlobStore
from discovery.store.index import make_backend
from discovery.store.index.versions import Versions, folder_bytes
from discovery.store.records import Records

log = logging.getLogger(__name__)

LIST_MAX_BYTES = 16 << 20  # a job's file list is read for the keys it names up to this size


def release_job_uploads(ctx: Context, job_id: str) -> int:
    """Delete the files a finished job stored for itself that nothing else names; returns the
    bytes freed. Never raises: a file left behind is `discovery gc`'s to collect."""
    if not ctx.settings.retention_release_uploads:
        return 0
    try:
        return _release(ctx.records, ctx.blobs, job_id)
    except Exception as exc:  # noqa: BLE001 - cleanup must not fail the job's ending
        log.warning("job %s: its uploads were not released: %r", job_id, exc)
        return 0


def _release(records: Records, blobs: FilesystemBlobStore, job_id: str) -> int:
    refs = BlobRefs(records.engine)
    started = refs.job_started(job_id)
    if started is None or refs.running_chunks(job_id):
        return 0
    mine = expand_lists(blobs, refs.job_keys(job_id))
    if not mine:
        return 0
    keep = expand_lists(blobs, refs.unfinished_job_keys(besides=job_id))
    keep |= refs.named_by_assets(mine - keep)
    freed = 0
    for key in sorted(mine - keep):
        if blobs.exists(key) and _stored_before(blobs, key, started):
            freed += blobs.delete(key)
    return freed


def _stored_before(blobs: FilesystemBlobStore, key: str, started: datetime) -> bool:
    """Whether the blob was last stored before the job began (slack for the upload itself)."""
    age = blobs.age_s(key)
    return age >= (datetime.now(UTC) - started).total_seconds() - 5.0


def expand_lists(blobs: FilesystemBlobStore, keys: Iterable[str]) -> set[str]:
    """`keys`, plus the keys named inside those that are small JSON arrays (an asset job's
    file list names its uploads). A product import's stored batches are JSON objects and
    name no blob: decoding them read every row again and took each row's content hash for
    a key, which sent the release into a pass over every asset at the end of each import."""
    found = set(keys)
    for key in list(found):
        try:
            if blobs.size(key) > LIST_MAX_BYTES:
                continue
            with blobs.open(key) as fh:
                head = fh.read(1)
                if head != b"[":
                    continue
                found |= keys_in(json.loads(head + fh.read()))
        except (KeyError, OSError, ValueError):
            continue
    return found


@dataclass(slots=True)
class Garbage:
    """What `discovery gc` found (and, unless a dry run, deleted): (name, bytes) pairs."""

    blobs: list[tuple[str, int]] = field(default_factory=list)
    temporary: list[tuple[str, int]] = field(default_factory=list)
    index_versions: list[tuple[str, int]] = field(default_factory=list)
    deleted: bool = False

    @property
    def total_bytes(self) -> int:
        return sum(n for group in (self.blobs, self.temporary, self.index_versions) for _, n in group)


def collect_garbage(settings: Settings, *, delete: bool) -> Garbage:
    """Find (and with `delete`, remove) unnamed blobs, abandoned temporary files and index
    versions nobody serves; see the module docstring for the rules."""
    min_age_s = settings.retention_min_age_minutes * 60
    records = Records.open(settings.records_url)
    blobs = FilesystemBlobStore(settings.blob_dir)
    try:
        out = Garbage(deleted=delete)
        named = _named_blobs(records, blobs)
        for key in sorted(set(blobs.keys()) - named):
            if blobs.age_s(key) >= min_age_s:
                out.blobs.append((key, blobs.delete(key) if delete else blobs.size(key)))
        for path in blobs.stale_temporary(min_age_s=min_age_s):
            size = path.stat().st_size
            if delete:
                path.unlink(missing_ok=True)
            out.temporary.append((path.name, size))
        out.index_versions = _index_garbage(settings, min_age_s=min_age_s, delete=delete)
        return out
    finally:
        records.close()


def _named_blobs(records: Records, blobs: FilesystemBlobStore) -> set[str]:
    refs = BlobRefs(records.engine)
    named = expand_lists(blobs, refs.unfinished_job_keys())
    for page in refs.asset_keys():
        named |= page
    return named


def _index_garbage(settings: Settings, *, min_age_s: float, delete: bool) -> list[tuple[str, int]]:
    if settings.backend == "opensearch":
        # Imported here: the embedded default never loads the OpenSearch client.
        from discovery.store.index.opensearch import OpenSearchBackend

        backend = make_backend(settings)
        try:
            assert isinstance(backend, OpenSearchBackend)
            names = backend.unserved_versions(min_age_s=min_age_s)
            if delete:
                for name in names:
                    backend.drop_version(name)
            return [(name, 0) for name in names]
        finally:
            backend.close()
    versions = Versions(settings.index_dir / settings.index_prefix)
    found = versions.unserved(keep_previous=settings.retention_index_versions, min_age_s=min_age_s)
    return [(f"v{v}", versions.remove(v) if delete else folder_bytes(versions.folder(v))) for v in found]
