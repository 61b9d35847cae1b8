"""Index versions on disk: `root/vN/` folders and a `CURRENT` pointer file.

A rebuild writes `vN+1` completely, then replaces the pointer with `os.replace`, which
is atomic: a reader that opens the index sees either the old version or the new one,
never a partial one.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

POINTER = "CURRENT"
_VERSION = re.compile(r"^v(\d+)$")


class Versions:
    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> int | None:
        try:
            text = (self.root / POINTER).read_text().strip()
        except FileNotFoundError:
            return None
        match = _VERSION.match(text)
        if match is None:
            raise RuntimeError(f"{self.root / POINTER} names no version: {text!r}")
        return int(match.group(1))

    def folder(self, version: int) -> Path:
        return self.root / f"v{version}"

    def existing(self) -> list[int]:
        if not self.root.exists():
            return []
        found = (_VERSION.match(p.name) for p in self.root.iterdir() if p.is_dir())
        return sorted(int(m.group(1)) for m in found if m)

    def next_version(self) -> int:
        return max([0, self.current() or 0, *self.existing()]) + 1

    def fresh_folder(self, version: int) -> Path:
        """An empty folder for `version` (a crashed rebuild's leftovers are removed)."""
        folder = self.folder(version)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder

    def publish(self, version: int) -> None:
        """Make `version` current, atomically and durably."""
        tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(f"v{version}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / POINTER)
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def prune(self, keep: set[int]) -> None:
        """Remove versions not in `keep` (the previous one is kept for readers in other
        processes that have not reopened yet)."""
        for version in self.existing():
            if version not in keep:
                shutil.rmtree(self.folder(version), ignore_errors=True)

    def unserved(self, *, keep_previous: int, min_age_s: float) -> list[int]:
        """Versions nobody needs: older than the current one beyond the `keep_previous` newest
        of those (kept for readers in other processes that have not reopened yet), and
        unpublished ones (a rebuild killed before it published) untouched for `min_age_s`
        (a rebuild in progress writes its folder all the time)."""
        current = self.current()
        if current is None:
            return []
        found = self.existing()
        older = sorted((v for v in found if v < current), reverse=True)
        stale = older[keep_previous:]
        unpublished = [v for v in found if v > current and _idle_s(self.folder(v)) >= min_age_s]
        return sorted(stale + unpublished)

    def remove(self, version: int) -> int:
        """Delete a version's folder (never the current one); returns the bytes freed."""
        if version == self.current():
            raise ValueError(f"v{version} is the current index version")
        folder = self.folder(version)
        size = folder_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
        return size


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _idle_s(folder: Path) -> float:
    """Seconds since anything under `folder` was last written."""
    stamps = [folder.stat().st_mtime, *(p.stat().st_mtime for p in folder.rglob("*"))]
    return max(0.0, time.time() - max(stamps))
