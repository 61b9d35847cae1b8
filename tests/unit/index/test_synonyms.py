"""The synonyms table: the file format, two-way and one-way rules, plural keys, and
which phrases of a query it expands."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.store.index.synonyms import SynonymsError, build, load, parse, plural_key
from models.taxonomy import load_taxonomy


def test_two_way_lines_and_one_way_rules_are_read_comments_skipped() -> None:
    two_way, one_way = parse("# mine\n\ntee, t-shirt, tshirt  # tops\nsneakers => trainers, running shoes\n")
    assert two_way == [["tee", "t-shirt", "tshirt"]]
    assert one_way == [(["sneakers"], ["trainers", "running shoes"])]


@pytest.mark.parametrize("line", ["tee", "=> tee", "tee =>", "a => b => c"])
def test_a_malformed_line_is_refused_naming_the_file_and_line(line: str) -> None:
    with pytest.raises(SynonymsError, match=r"mine\.txt line 2"):
        parse(f"ok, fine\n{line}\n", source="mine.txt")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SynonymsError, match="cannot read the synonyms file"):
        load(tmp_path / "absent.txt")


def test_two_way_expands_every_member_and_one_way_only_the_left() -> None:
    table = build([["tee", "t-shirt"]], [(["windbreaker"], ["anorak"])])
    assert [(g.start, g.end, g.alternatives) for g in table.groups(["red", "T", "Shirts"])] == [(1, 3, (("tee",),))]
    assert [g.alternatives for g in table.groups(["tees"])] == [(("t", "shirt"),)]
    assert [g.alternatives for g in table.groups(["windbreakers"])] == [(("anorak",),)]
    assert table.groups(["anorak"]) == []


def test_singular_and_plural_share_a_key() -> None:
    for a, b in [("tee", "tees"), ("hoodie", "hoodies"), ("hoody", "hoodies"), ("dress", "dresses"),
                 ("berry", "berries"), ("shoe", "shoes")]:
        assert plural_key(a) == plural_key(b), (a, b)


def test_the_taxonomy_gives_two_way_groups(tmp_path: Path) -> None:
    file = tmp_path / "synonyms.txt"
    file.write_text("windbreaker => anorak\n", encoding="utf-8")
    table = load(file, load_taxonomy().synonym_groups())
    assert ("tee",) in table.groups(["t", "shirt"])[0].alternatives
    assert ("grey",) in table.groups(["gray"])[0].alternatives
    assert table.groups(["windbreaker"])[0].alternatives == (("anorak",),)
