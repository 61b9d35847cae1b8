"""Fetching one weights file from a model hub, verified, resumable, cached once.

The hub is anything that answers `GET {endpoint}/{repo}/resolve/{revision}/{filename}` the
way Hugging Face's does: the file itself, or a redirect to it whose first answer carries
`X-Linked-Size` and `X-Linked-Etag` (the sha256 of a large file). The endpoint is a setting,
so tests play the hub with a local server.

A file lands in `{cache}/hub/{repo}/{revision}/{filename}` only after its size and, when the
hub states one, its sha256 agree; a sidecar `.verified` records both, so a later start checks
the size alone and downloads nothing. An interrupted download keeps its `.part` and resumes
with a `Range` request; a file whose checksum disagrees is deleted, never loaded.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

CHUNK = 1 << 20


class HubUnavailable(Exception):
    """The hub could not be reached or did not have the file (nothing is cached)."""


class DownloadInterrupted(Exception):
    """The transfer stopped part way; the bytes so far are kept for a resume."""


class ChecksumMismatch(Exception):
    """The bytes received are not the file the hub described; they were deleted."""


@dataclass(frozen=True, slots=True)
class HubFile:
    endpoint: str
    repo: str
    filename: str
    revision: str = "main"

    @property
    def url(self) -> str:
        return f"{self.endpoint.rstrip('/')}/{self.repo.strip('/')}/resolve/{self.revision}/{self.filename}"

    def target(self, cache_dir: Path) -> Path:
        return cache_dir / "hub" / self.repo.strip("/").replace("/", "--") / self.revision / self.filename


Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


def cached(file: HubFile, cache_dir: Path) -> Path | None:
    """The verified copy of `file` under `cache_dir`, if an earlier download left one."""
    target = file.target(cache_dir)
    marker = _marker(target)
    if not target.is_file() or not marker.is_file():
        return None
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return target if recorded.get("size") == target.stat().st_size else None


def fetch(
    file: HubFile, cache_dir: Path, *, timeout: float = 30.0, progress: Progress | None = None
) -> Path:
    """The verified local copy of `file`, downloading (or resuming) it when needed."""
    found = cached(file, cache_dir)
    if found is not None:
        return found
    target = file.target(cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    have = _rehash(part, digest)
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client, client.stream(
            "GET", file.url, headers=headers
        ) as response:
            if response.status_code == 404:
                raise HubUnavailable(f"{file.url} is not on the hub (404)")
            if response.status_code >= 400:
                raise HubUnavailable(f"{file.url} answered {response.status_code}")
            if have and response.status_code != 206:  # the hub ignored the range: start again
                have, digest = 0, hashlib.sha256()
            size, sha = _described(response)
            with part.open("ab" if have else "wb") as out:
                received = have
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if progress is not None:
                        progress(received, size)
    except httpx.TransportError as exc:
        if part.is_file() and part.stat().st_size > have:
            raise DownloadInterrupted(
                f"{file.url}: transfer stopped at {part.stat().st_size} bytes; the rest resumes next time"
            ) from exc
        raise HubUnavailable(f"{file.endpoint} could not be reached ({type(exc).__name__})") from exc
    if size is not None and received != size:
        raise DownloadInterrupted(f"{file.url}: got {received} of {size} bytes; the rest resumes next time")
    if sha is not None and digest.hexdigest() != sha:
        part.unlink(missing_ok=True)
        raise ChecksumMismatch(f"{file.url}: sha256 {digest.hexdigest()[:12]}… is not the hub's {sha[:12]}…")
    part.replace(target)
    _marker(target).write_text(json.dumps({"size": received, "sha256": digest.hexdigest(), "url": file.url}))
    return target


@dataclass(frozen=True, slots=True)
class CachedFile:
    path: Path
    size: int
    sha256: str
    url: str


def installed(cache_dir: Path) -> list[CachedFile]:
    """Every verified file under `cache_dir`'s hub folder, as its marker recorded it."""
    out: list[CachedFile] = []
    for marker in sorted((cache_dir / "hub").glob("**/*.verified")):
        target = marker.with_name(marker.name.removesuffix(".verified"))
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        out.append(CachedFile(target, int(recorded.get("size", 0)), str(recorded.get("sha256", "")),
                              str(recorded.get("url", ""))))  # fmt: skip
    return out


def verify(file: CachedFile) -> str | None:
    """None when the bytes on disk are still the ones verified at download; else what is wrong."""
    if not file.path.is_file():
        return "missing"
    if file.path.stat().st_size != file.size:
        return f"size {file.path.stat().st_size} is not {file.size}"
    digest = hashlib.sha256()
    _rehash(file.path, digest)
    return None if digest.hexdigest() == file.sha256 else "sha256 differs from the download's"


def console_progress(label: str) -> Progress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""
    shown = {"tenth": -1}

    def report(done: int, total: int | None) -> None:
        mb = done / 1e6
        if total:
            tenth = done * 10 // total
            if sys.stderr.isatty():
                bar = "#" * int(30 * done / total)
                print(f"\r{label} [{bar:<30}] {mb:,.0f}/{total / 1e6:,.0f} MB", end="", file=sys.stderr)
                if done >= total:
                    print(file=sys.stderr)
            elif tenth != shown["tenth"]:
                shown["tenth"] = tenth
                print(f"{label}: {mb:,.0f}/{total / 1e6:,.0f} MB", file=sys.stderr)

    return report


def _described(response: httpx.Response) -> tuple[int | None, str | None]:
    """Size and sha256 as the hub states them: on the redirect for a large file, else here.

    A resumed (206) answer's Content-Length is the rest only, so the full size comes from
    Content-Range there.
    """
    first = response.history[0] if response.history else response
    size_text = first.headers.get("x-linked-size")
    if size_text is None and response.status_code == 206:
        size_text = response.headers.get("content-range", "").rpartition("/")[2] or None
    if size_text is None:
        size_text = response.headers.get("content-length")
    etag = (first.headers.get("x-linked-etag") or "").strip('"').removeprefix("W/").strip('"')
    sha = etag.lower() if len(etag) == 64 and all(c in "0123456789abcdefABCDEF" for c in etag) else None
    return (int(size_text) if size_text and size_text.isdigit() else None), sha


def _rehash(part: Path, digest: hashlib._Hash) -> int:
    """Feed what an earlier try left into `digest`; the byte count to resume from."""
    if not part.is_file():
        return 0
    with part.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return part.stat().st_size


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")
