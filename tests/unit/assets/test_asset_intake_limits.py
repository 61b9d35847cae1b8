from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from asset_factories import html_as_jpg, jpeg, png, zip_bomb, zip_of

from indexer.assets.intake import Candidate, IntakeLimits, Reject, display_name, expand, unsafe_name


def _split(found: list[Candidate | Reject]) -> tuple[list[Candidate], list[Reject]]:
    return [f for f in found if isinstance(f, Candidate)], [f for f in found if isinstance(f, Reject)]


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.png", "/etc/passwd.png", "a/../../b.jpg", "..\\..\\win.ini", "C:\\x.png", "a\x00.png", ""],
)
def test_unsafe_names_are_refused(name: str) -> None:
    assert unsafe_name(name) is not None


def test_names_are_kept_only_as_their_last_component() -> None:
    assert unsafe_name("shoes/red/mh01.jpg") is None
    assert display_name("shoes/red/mh01.jpg") == "mh01.jpg"
    assert display_name("dir\\x\x07y.png") == "xy.png"


def test_an_upload_named_like_a_path_is_rejected_and_the_rest_taken() -> None:
    ok, bad = _split(list(expand([("../../etc/passwd.png", png()), ("fine.png", png())])))
    assert [c.name for c in ok] == ["fine.png"]
    assert bad[0].file == "../../etc/passwd.png" and "path traversal" in bad[0].reason


def test_types_are_sniffed_and_html_named_jpg_rejected() -> None:
    ok, bad = _split(list(expand([("photo.png", jpeg()), ("evil.jpg", html_as_jpg())])))
    assert ok[0].media_type == "image/jpeg"  # named .png, is a JPEG
    assert bad[0].file == "evil.jpg" and "markup" in bad[0].reason


def test_a_zip_bomb_is_rejected_whole_and_the_batch_goes_on() -> None:
    found = list(expand([("bomb.zip", zip_bomb(entries=1, size=8 << 20)), ("ok.jpg", jpeg())]))
    ok, bad = _split(found)
    assert [c.name for c in ok] == ["ok.jpg"]
    assert bad[0].file == "bomb.zip" and "zip bomb refused" in bad[0].reason and ":1" in bad[0].reason


def test_zip_limits_on_entries_and_total_size() -> None:
    data = zip_of({f"{i}.png": png() for i in range(5)})
    few = IntakeLimits(zip_max_entries=3)
    assert "5 entries" in _split(list(expand([("many.zip", data)], few)))[1][0].reason
    small = IntakeLimits(zip_max_total_bytes=100)
    assert "would inflate" in _split(list(expand([("big.zip", data)], small)))[1][0].reason


def test_zip_entries_are_expanded_with_folders_and_bad_entries_rejected() -> None:
    data = zip_of({
        "shoes/red/mh01.jpg": jpeg(), "../evil.png": png(), "inner.zip": zip_of({"x.png": png()}),
        "__MACOSX/._mh01.jpg": b"junk", "notes.txt": b"hello",
    })  # fmt: skip
    ok, bad = _split(list(expand([("upload.zip", data)])))
    assert [(c.name, c.folder, c.source) for c in ok] == [("mh01.jpg", "shoes/red", "upload.zip!shoes/red/mh01.jpg")]
    reasons = {r.file: r.reason for r in bad}
    assert "path traversal" in reasons["upload.zip!../evil.png"]
    assert "inside a zip" in reasons["upload.zip!inner.zip"]
    assert "unsupported" in reasons["upload.zip!notes.txt"]
    assert len(bad) == 3  # OS litter skipped silently


def test_a_directory_is_walked_in_order_without_following_links(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    (root / "day1").mkdir(parents=True)
    (root / "day1" / "b.jpg").write_bytes(jpeg())
    (root / "a.png").write_bytes(png())
    (root / ".DS_Store").write_bytes(b"x")
    outside = tmp_path / "secret.png"
    outside.write_bytes(png())
    os.symlink(outside, root / "link.png")
    ok, bad = _split(list(expand([("shoot", root)])))
    assert [(c.name, c.folder) for c in ok] == [("a.png", ""), ("b.jpg", "day1")]
    assert bad == []


def test_a_local_zip_file_is_expanded(tmp_path: Path) -> None:
    path = tmp_path / "batch.zip"
    path.write_bytes(zip_of({"a.png": png()}))
    ok, _ = _split(list(expand([("batch.zip", path)])))
    assert [c.source for c in ok] == ["batch.zip!a.png"]


def test_too_large_files_are_rejected_unread(tmp_path: Path) -> None:
    limits = IntakeLimits(max_file_bytes=100)
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg())
    found = list(expand([("big.jpg", path), ("big2.jpg", jpeg())], limits))
    assert all(isinstance(f, Reject) and "too large" in f.reason for f in found)


def test_a_corrupt_zip_is_rejected() -> None:
    data = zip_of({"a.png": png()})
    broken = data[:10] + b"\x00" * 20
    assert "zip" in _split(list(expand([("x.zip", broken)])))[1][0].reason
    assert zipfile.is_zipfile(io.BytesIO(data))
