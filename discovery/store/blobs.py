"""Content-addressed blob store: files are kept under their sha256, never under a name
that came from outside. A small interface so an object store can follow."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1 << 20


class BlobStore(Protocol):
    def put(self, stream: BinaryIO) -> tuple[str, int]:
        """Store a stream; returns (sha256, size). Identical bytes are stored once."""

    def put_bytes(self, data: bytes) -> tuple[str, int]: ...

    def open(self, key: str) -> BinaryIO:
        """The blob for a key; raises KeyError when absent."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def path(self, key: str) -> Path:
        """A local path to the blob (filesystem store; an object store downloads)."""

    def keys(self) -> Iterator[str]: ...


def _valid_key(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise KeyError(f"not a blob key: {key!r}")
    return key


class FilesystemBlobStore:
    """Blobs at ``root/ab/cd/abcdef...``: the path comes from the hash alone."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        key = _valid_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, stream: BinaryIO) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            key = digest.hexdigest()
            final = self._path(key)
            if final.exists():
                os.unlink(tmp_name)
                os.utime(final)  # stored again now: retention counts its age from here
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, final)
            return key, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        import io

        return self.put(io.BytesIO(data))

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not path.exists():
            raise KeyError(key)
        return path.open("rb")

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).exists()
        except KeyError:
            return False

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def path(self, key: str) -> Path:
        path = self._path(key)
        if not path.exists():
            raise KeyError(key)
        return path

    def keys(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if path.is_file():
                yield path.name

    def delete(self, key: str) -> int:
        """Remove a blob; returns the bytes freed (0 when it was not there)."""
        try:
            path = self._path(key)
            size = path.stat().st_size
            path.unlink()
        except (KeyError, FileNotFoundError):
            return 0
        return size

    def age_s(self, key: str) -> float:
        """Seconds since the blob was stored (its file's modification time)."""
        return max(0.0, time.time() - self._path(key).stat().st_mtime)

    def stale_temporary(self, *, min_age_s: float) -> list[Path]:
        """Temporary files of uploads that never finished (a killed process), older than `min_age_s`."""
        now = time.time()
        tmp = self.root / "tmp"
        if not tmp.exists():
            return []
        return [p for p in tmp.iterdir() if p.is_file() and now - p.stat().st_mtime >= min_age_s]
