"""The blind confirmation protocol for catalog colour labels (bench/colour_sheets.py) and
the colour bench's filter to the confirmed photos (bench/bench_colour_naming.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from bench.bench_colour_naming import labelled_photos, read_confirmed
from bench.colour_sheets import blind_order, confirmation, draw_sheets, join, read_seen

COLOURS = {"1.jpg": "red", "2.jpg": "red", "3.jpg": "blue", "4.jpg": "blue", "5.jpg": "navy"}


def _photo_folder(folder: Path) -> Path:
    for name, colour in COLOURS.items():
        rgb = {"red": (200, 30, 30), "blue": (40, 80, 220), "navy": (20, 25, 70)}[colour]
        Image.new("RGB", (6, 8), rgb).save(folder / name)
    with (folder / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "colour", "category", "article"])
        writer.writerows([name, colour, "Apparel", "Tshirts"] for name, colour in COLOURS.items())
    return folder


def _seen(path: Path, words: dict[str, str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "file", "seen_colour"])
        writer.writerows([i, name, word] for i, (name, word) in enumerate(words.items(), start=1))
    return path


def test_blind_order_is_fixed_and_does_not_keep_the_fetch_order() -> None:
    files = [f"{i}.jpg" for i in range(40)]
    assert blind_order(files) == blind_order(list(reversed(files)))
    assert blind_order(files) != sorted(files)
    assert sorted(blind_order(files)) == sorted(files)


def test_contact_sheets_and_their_key_carry_no_catalog_label(tmp_path: Path) -> None:
    folder = _photo_folder(tmp_path)
    sheets = draw_sheets(folder)
    assert len(sheets) == 1
    with Image.open(sheets[0]) as sheet:
        assert sheet.width > 6 * 3 and sheet.height > 8 * 3  # photos drawn enlarged
    key = (folder / "sheets" / "key.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(key.splitlines()))
    assert [row["number"] for row in rows] == ["1", "2", "3", "4", "5"]
    assert sorted(row["file"] for row in rows) == sorted(COLOURS)
    assert all(row["seen_colour"] == "" for row in rows)
    assert not any(colour in key for colour in ("red", "blue", "navy"))


def test_confirmation_counts_confirmed_contradicted_and_unclear_per_label() -> None:
    seen = {"1.jpg": "red", "2.jpg": "pink", "3.jpg": "blue", "4.jpg": "unclear"}  # 5.jpg not named
    tally = confirmation(COLOURS, seen)
    assert tally["red"] == {"confirmed": 1, "contradicted": 1}
    assert tally["blue"] == {"confirmed": 1, "unclear": 1}
    assert tally["navy"] == {"unclear": 1}


def test_join_writes_only_the_photos_whose_blind_name_equals_the_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _photo_folder(tmp_path)
    seen = _seen(tmp_path / "seen.csv", {"1.jpg": "red", "2.jpg": "pink", "3.jpg": "blue", "5.jpg": "unclear"})
    join(folder, seen)
    assert (folder / "confirmed.txt").read_text(encoding="utf-8").split() == ["1.jpg", "3.jpg"]
    printed = capsys.readouterr().out
    assert "2 confirmed" in printed
    assert "pink 1" in printed  # what the contradicted photo shows


def test_a_blind_name_outside_the_palette_is_refused_with_its_row(tmp_path: Path) -> None:
    seen = _seen(tmp_path / "seen.csv", {"1.jpg": "red", "2.jpg": "teal"})
    with pytest.raises(SystemExit, match=r"seen\.csv: row 3: seen_colour 'teal'"):
        read_seen(seen)


def test_colour_bench_reads_only_the_confirmed_photos(tmp_path: Path) -> None:
    folder = _photo_folder(tmp_path)
    (folder / "confirmed.txt").write_text("1.jpg\n3.jpg\n", encoding="utf-8")
    only = read_confirmed(folder / "confirmed.txt")
    assert [(name, colour) for name, colour, _ in labelled_photos(folder, only)] == [
        ("1.jpg", "red"),
        ("3.jpg", "blue"),
    ]
    assert len(list(labelled_photos(folder))) == len(COLOURS)


def test_colour_bench_names_a_missing_confirmed_file(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no such file"):
        read_confirmed(tmp_path / "confirmed.txt")


def test_fetch_takes_a_short_colours_last_photos_only_when_asked() -> None:
    from bench.fetch_colour_photos import first_rank

    assert first_rank(1000, 600, 20, tail_if_short=True) == 600
    assert first_rank(409, 600, 20, tail_if_short=True) == 389
    assert first_rank(409, 600, 20, tail_if_short=False) == 600
    assert first_rank(10, 600, 20, tail_if_short=True) == 0
