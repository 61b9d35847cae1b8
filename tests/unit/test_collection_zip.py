"""The collection zip: written a chunk at a time, names that stay inside the archive."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from discovery.services.collection_zip import CHUNK, CollectionZip, ZipEntry, safe_part, stream_zip, unique_name


def test_the_zip_is_sent_a_chunk_at_a_time_and_reads_back(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (3 * CHUNK // 256 + 7))
    small = tmp_path / "small.jpg"
    small.write_bytes(b"\xff\xd8small")
    when = datetime(2026, 5, 1, tzinfo=UTC)
    plan = CollectionZip(
        "c.zip", [ZipEntry("big.bin", big, big.stat().st_size, when), ZipEntry("Sub/small.jpg", small, 7, when)]
    )
    chunks = list(stream_zip(plan))
    assert max(len(c) for c in chunks) <= CHUNK + 1024  # never the whole archive in memory
    assert sum(1 for c in chunks if c) >= 4
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert archive.read("big.bin") == big.read_bytes() and archive.read("Sub/small.jpg") == b"\xff\xd8small"
    assert archive.getinfo("big.bin").date_time[:3] == (2026, 5, 1)


def test_names_cannot_leave_the_archive_and_clashes_are_numbered() -> None:
    assert safe_part("../../etc/passwd", "x") == "_.._etc_passwd"
    assert safe_part('a:b*"c', "x") == "a_b_c"
    assert safe_part("..", "fallback") == "fallback"
    taken: set[str] = set()
    assert [unique_name(n, taken) for n in ("shot.jpg", "Shot.JPG", "shot.jpg", "notes")] == [
        "shot.jpg",
        "Shot (2).JPG",
        "shot (3).jpg",
        "notes",
    ]
