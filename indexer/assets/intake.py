"""Intake: turn what was handed in (files, a directory, zips) into sniffed candidates,
or into rejects with a reason. Nothing here writes to disk.

A name that came from outside is never used as a path: it is checked (no absolute path,
no `..`), and only its last component is kept, as metadata. A zip is inspected from its
central directory before anything is inflated: too many entries, too many bytes in all or
an entry that inflates too far (a zip bomb) rejects the whole archive, while the other
items of the batch go on. A zip inside a zip is not expanded.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from discovery.errors import describe
from indexer.assets.safe_image import DEFAULT_MAX_PIXELS
from indexer.assets.sniff import ZIP, UnsupportedType, sniff

SNIFF_BYTES = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Operating-system litter in archives and folders: not files anyone meant to upload.
_LITTER = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """Limits on what one batch may contain."""

    max_file_bytes: int = 256 << 20
    max_pixels: int = DEFAULT_MAX_PIXELS
    zip_max_entries: int = 10_000
    zip_max_total_bytes: int = 2 << 30
    zip_max_ratio: float = 100.0  # uncompressed / compressed, per entry
    zip_ratio_floor: int = 1 << 20  # entries smaller than this are not ratio-checked


@dataclass(slots=True)
class Candidate:
    """One file to ingest: its bytes and sniffed type, with the name only as metadata."""

    name: str  # last component of the given name, cleaned
    data: bytes
    media_type: str
    source: str  # how to point at it in a report, e.g. `photos.zip!shoes/red.jpg`
    folder: str = ""  # folder inside a directory or zip ("" at the top), for collections


@dataclass(frozen=True, slots=True)
class Reject:
    file: str
    reason: str


Item = tuple[str, bytes | Path]


def display_name(raw: str) -> str:
    """The last component of a name from outside, without control characters, bounded."""
    last = re.split(r"[/\\]", raw.strip())[-1]
    return _CONTROL.sub("", last).strip()[:255]


def unsafe_name(raw: str) -> str | None:
    """Why a name from outside is refused (absolute, `..`, NUL, empty), or None."""
    if not raw or "\x00" in raw:
        return "unsafe file name: empty or containing NUL"
    parts = re.split(r"[/\\]", raw)
    if raw.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", raw):
        return "unsafe file name: absolute path"
    if ".." in parts:
        return "unsafe file name: path traversal ('..')"
    if not display_name(raw):
        return "unsafe file name: no file name"
    return None


def _folder(raw: str) -> str:
    parent = PurePosixPath(raw.replace("\\", "/")).parent
    return "" if str(parent) == "." else "/".join(display_name(p) for p in parent.parts)


def _candidate(raw: str, data: bytes, source: str) -> Candidate | Reject:
    try:
        media_type = sniff(data[:SNIFF_BYTES]).media_type
    except UnsupportedType as exc:
        return Reject(source, str(exc))
    return Candidate(display_name(raw), data, media_type, source, _folder(raw))


def _bomb_reason(infos: list[zipfile.ZipInfo], limits: IntakeLimits) -> str | None:
    if len(infos) > limits.zip_max_entries:
        return f"zip refused: {len(infos)} entries, over the limit of {limits.zip_max_entries}"
    total = sum(i.file_size for i in infos)
    if total > limits.zip_max_total_bytes:
        return (
            f"zip bomb refused: entries would inflate to {total / 2**20:.0f} MiB, "
            f"over the limit of {limits.zip_max_total_bytes / 2**20:.0f} MiB"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.zip_ratio_floor and ratio > limits.zip_max_ratio:
            return (
                f"zip bomb refused: entry {display_name(info.filename)!r} inflates {ratio:.0f}:1, "
                f"over the limit of {limits.zip_max_ratio:.0f}:1"
            )
    return None


def expand_zip(source: str, stream: BinaryIO, limits: IntakeLimits) -> Iterator[Candidate | Reject]:
    """The files of a zip, one at a time; the whole zip rejected when it is a bomb."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Reject(source, f"corrupt zip: {describe(exc)}")
        return
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and not _LITTER.search(i.filename)]
        reason = _bomb_reason(infos, limits)
        if reason:
            yield Reject(source, reason)
            return
        for info in infos:
            where = f"{source}!{info.filename}"
            if bad := unsafe_name(info.filename):
                yield Reject(where, bad)
            elif info.file_size > limits.max_file_bytes:
                yield Reject(where, f"file too large: {info.file_size} bytes")
            else:
                yield _zip_entry(archive, info, where, limits)


def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, limits: IntakeLimits) -> Candidate | Reject:
    try:
        with archive.open(info) as fh:
            data = fh.read(limits.max_file_bytes + 1)  # bounded even if the header lies
    except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, NotImplementedError) as exc:
        return Reject(where, f"unreadable zip entry: {describe(exc)}")
    if len(data) > limits.max_file_bytes:
        return Reject(where, "file too large")
    found = _candidate(info.filename, data, where)
    if isinstance(found, Candidate) and found.media_type == ZIP:
        return Reject(where, "a zip inside a zip is not expanded")
    return found


def _walk(name: str, root: Path, limits: IntakeLimits) -> Iterator[Candidate | Reject]:
    """Files under a local directory, in a stable order, symlinks not followed."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            rel = path.relative_to(root).as_posix()
            if _LITTER.search(rel) or path.is_symlink():
                continue
            yield from _one(f"{name}/{rel}", path, limits, folder_name=rel)


def _one(
    name: str, item: bytes | Path, limits: IntakeLimits, *, folder_name: str | None = None
) -> Iterator[Candidate | Reject]:
    """One handed-in item: bytes, a local file or directory; zips expanded."""
    if isinstance(item, Path):
        if item.is_dir():
            yield from _walk(name, item, limits)
            return
        if not item.is_file():
            yield Reject(name, "not a regular file")
            return
        if item.stat().st_size > limits.max_file_bytes:
            yield Reject(name, f"file too large: {item.stat().st_size} bytes")
            return
        with item.open("rb") as fh:
            if fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06"):
                fh.seek(0)
                yield from expand_zip(name, fh, limits)
                return
        data = item.read_bytes()
    else:
        if len(item) > limits.max_file_bytes:
            yield Reject(name, f"file too large: {len(item)} bytes")
            return
        data = item
    found = _candidate(folder_name or name, data, name)
    if isinstance(found, Candidate) and found.media_type == ZIP:
        yield from expand_zip(name, io.BytesIO(data), limits)
    else:
        yield found


def expand(items: Iterable[Item], limits: IntakeLimits | None = None) -> Iterator[Candidate | Reject]:
    """Every file of the batch as a Candidate or a Reject, lazily (one file in memory at a
    time). `name` is the file's name as the uploader gave it, checked before anything
    else; for a local file or directory pass its own name (e.g. `path.name`)."""
    limits = limits or IntakeLimits()
    for name, item in items:
        if bad := unsafe_name(name):
            yield Reject(_CONTROL.sub("?", name)[:300] or "(unnamed)", bad)
            continue
        yield from _one(name, item, limits)
