"""A collection as a zip file, written as it is sent.

The archive is made in the response's own iteration: each file's bytes are read from the
blob store in chunks and handed on as soon as the zip writer has framed them, so memory
stays at a chunk whatever the collection's size. Files are stored, not deflated (images
and PDFs are compressed already). A caller gets only the assets it may see (a public
caller: the shopper rule of `catalog.asset_allowed`), and a collection larger than the
`collection_download_max_mb` setting is refused before anything is sent.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from discovery.domain import Asset
from discovery.errors import TooLarge
from discovery.services.catalog import asset_allowed
from discovery.services.collections import members_below
from discovery.services.context import Context

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f\\:*?"<>|]+')


@dataclass(frozen=True, slots=True)
class ZipEntry:
    name: str  # path inside the archive
    source: Path
    size: int
    modified: datetime


@dataclass(frozen=True, slots=True)
class CollectionZip:
    filename: str  # offered to the browser
    entries: list[ZipEntry]

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries)


def safe_part(text: str, fallback: str) -> str:
    """A path part that cannot climb out of the archive or trip a file system."""
    part = _UNSAFE.sub("_", text).strip().strip(".").replace("/", "_")
    return part[:200] or fallback


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name (2).ext`, `name (3).ext` ... when an earlier entry has it (any case)."""
    stem, dot, ext = name.rpartition(".") if "." in name.rsplit("/", 1)[-1] else (name, "", "")
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    taken.add(candidate.lower())
    return candidate


def _modified(asset: Asset) -> datetime:
    try:
        when = datetime.fromisoformat(asset.updated_at)
    except ValueError:
        return datetime.now(UTC)
    return max(when, datetime(1980, 1, 1, tzinfo=when.tzinfo))  # zip dates start in 1980


def plan_zip(ctx: Context, collection_id: str, *, public: bool, channel: str | None) -> CollectionZip:
    """What the archive of a collection holds for this caller; refuses one over the cap."""
    row, members = members_below(ctx, collection_id)
    taken: set[str] = set()
    entries: list[ZipEntry] = []
    for folder, asset in members:
        if public and not asset_allowed(asset, channel=channel):
            continue
        source = ctx.blobs.path(asset.sha256)
        if not source.is_file():
            continue  # a blob not (yet) stored: the rest still downloads
        parts = [safe_part(p, "folder") for p in folder.split("/") if p]
        name = unique_name("/".join([*parts, safe_part(asset.filename, asset.id)]), taken)
        entries.append(ZipEntry(name, source, source.stat().st_size, _modified(asset)))
    result = CollectionZip(f"{safe_part(row.name, 'collection')}.zip", entries)
    cap = ctx.settings.collection_download_max_mb * 1024 * 1024
    if result.total_bytes > cap:
        raise TooLarge(
            f"the collection holds {result.total_bytes // (1024 * 1024)} MB of files; downloads stop at "
            f"{ctx.settings.collection_download_max_mb} MB (DISCOVERY_COLLECTION_DOWNLOAD_MAX_MB)",
            field="collection",
        )
    return result


class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink whose bytes are taken out as they arrive."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)

    def take(self) -> bytes:
        out = bytes(self.buffer)
        self.buffer.clear()
        return out


def stream_zip(plan: CollectionZip) -> Iterator[bytes]:
    """The archive's bytes, a chunk at a time."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in plan.entries:
            info = zipfile.ZipInfo(entry.name, date_time=entry.modified.timetuple()[:6])
            info.file_size = entry.size
            big = entry.size > 0x7FFFFFFF
            with archive.open(info, mode="w", force_zip64=big) as out, entry.source.open("rb") as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()
