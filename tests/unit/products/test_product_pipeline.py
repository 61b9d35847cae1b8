"""The import pipeline's record side, with a recording index (see product_support)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from product_support import RecordingBackend, open_records

from discovery.domain import Product, Tag
from discovery.store.records import Records
from indexer.products.completeness import load_channels, parse_channels
from indexer.products.indexing import save_products
from indexer.products.pipeline import import_products
from indexer.products.refresh import recompute_completeness, refresh_completeness_if_stale
from indexer.products.report import ImportReport

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "products"
HEADER = ["sku", "parent_sku", "name", "price", "currency", "color", "size", "status"]


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return open_records(tmp_path)


def csv_bytes(*rows: list[str], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def run(records: Records, backend: RecordingBackend, data: bytes, **options: object) -> ImportReport:
    return import_products(records=records, backend=backend, source=io.BytesIO(data), filename="p.csv", **options)  # type: ignore[arg-type]


def test_bad_row_is_reported_and_the_rest_imported(records: Records) -> None:
    backend = RecordingBackend()
    report = run(
        records,
        backend,
        csv_bytes(["A", "", "Tee", "10", "EUR"], ["B", "", "Mug", "ten", "EUR"], ["C", "", "Cap", "5", "EUR"]),
    )
    assert (report.received, report.rejected, report.products, report.indexed) == (3, 1, 2, 2)
    assert [r.to_json() for r in report.rejects] == [
        {"line": 3, "file": "p.csv", "field": "price", "reason": "not a price: 'ten'"}
    ]
    assert records.product_skus() == {"A", "C"}
    assert set(backend.docs) == {"product:A", "product:C"}
    assert report.to_csv() == "line,file,field,reason\n3,p.csv,price,not a price: 'ten'\n"


def test_reimporting_the_same_file_changes_nothing(records: Records) -> None:
    data = csv_bytes(["A", "", "Tee", "10", "EUR", "red"], ["A-1", "A", "", "", "", "blue", "S"])
    first_backend, second_backend = RecordingBackend(), RecordingBackend()
    first = run(records, first_backend, data)
    stored = records.get_product("A-1")
    second = run(records, second_backend, data)
    assert (first.changed, first.indexed) == (2, 2)
    assert (second.changed, second.unchanged, second.indexed, second_backend.writes) == (0, 2, 0, [])
    assert records.get_product("A-1") == stored


def test_reimport_after_tags_were_suggested_changes_nothing(records: Records) -> None:
    # Tags written after an import (suggestions, review) go through `replace_tags`; the
    # record's hash must follow, or the next import of the same file rewrites and
    # re-indexes every tagged product.
    data = csv_bytes(["A", "", "Tee", "10", "EUR", "red"], ["A-1", "A", "", "", "", "blue", "S"])
    run(records, RecordingBackend(), data)
    for sku in ("A", "A-1"):
        product = records.get_product(sku)
        assert product is not None
        records.tags.replace_tags(product, [Tag(name="attribute:material=cotton", source="text")])
    backend = RecordingBackend()
    again = run(records, backend, data)
    assert (again.changed, again.unchanged, again.indexed, backend.writes) == (0, 2, 0, [])


def test_a_reimport_keeps_a_decision_and_a_workflow_move_made_while_its_chunk_ran(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee", "10", "EUR", "red"]))
    read = records.get_products

    def read_then_decide(skus: Iterable[str]) -> dict[str, Product]:
        found = read(skus)  # the chunk's read of what is stored; a reviewer decides before it writes
        if "A" not in found:
            return found
        monkeypatch.undo()
        stored = records.get_product("A")
        assert stored is not None
        decided = Tag(name="attribute:material=cotton", source="text", status="accepted", decided_by="rev")
        records.tags.apply([(stored, [*stored.tags, decided])], [("rev", "tag.accept", "product:A", {})])
        records.edits.product("A", lambda p: setattr(p, "status", "in_review") or True)  # an editor's move
        return found

    monkeypatch.setattr(records, "get_products", read_then_decide)
    again = run(records, RecordingBackend(), csv_bytes(["A", "", "Tee shirt", "10", "EUR", "red"]))
    product = records.get_product("A")
    assert again.changed == 1 and product is not None and product.name == "Tee shirt"
    assert [(t.name, t.status) for t in product.tags] == [("attribute:material=cotton", "accepted")]
    assert product.status == "in_review", "the row names no status: the one stored when the chunk wrote stands"


def test_a_product_saved_from_an_earlier_read_keeps_the_tags_and_primary_images_stored_since(
    records: Records,
) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee", "10", "EUR", "red"]))
    read = records.get_product("A")  # e.g. a completeness sync's read
    fresh = records.get_product("A")
    assert read is not None and fresh is not None
    decided = Tag(name="attribute:material=cotton", source="text", status="accepted", decided_by="rev")
    records.tags.apply([(fresh, [decided])], [("rev", "tag.accept", "product:A", {})])
    records.edits.product("A", lambda p: bool(p.primary_images.update({"": "asset-1"})) or True)
    read.completeness = {"web": 1.0}
    save_products(records, [read])
    stored = records.get_product("A")
    assert stored is not None and stored.completeness == {"web": 1.0}
    assert [t.name for t in stored.tags] == ["attribute:material=cotton"] and stored.primary_images == {"": "asset-1"}


@pytest.mark.parametrize("chunk_size", [500, 1])
def test_a_duplicate_sku_keeps_the_last_row_and_is_reported(records: Records, chunk_size: int) -> None:
    backend = RecordingBackend()
    data = csv_bytes(["A", "", "First", "10", "EUR"], ["B", "", "Other", "1", "EUR"], ["A", "", "Second", "12", "EUR"])
    report = run(records, backend, data, chunk_size=chunk_size)
    assert (report.received, report.duplicates, report.products, report.indexed) == (3, 1, 2, 2)
    assert report.duplicate_rows == [{"sku": "A", "line": 2, "kept_line": 4}]
    product = records.get_product("A")
    assert product is not None and (product.name, product.price, product.source["line"]) == ("Second", 12.0, 4)
    assert backend.writes.count("product:A") == 1  # the superseded row was never written
    again = run(records, RecordingBackend(), data, chunk_size=chunk_size)
    assert (again.changed, again.indexed, again.duplicates) == (0, 0, 1)


def test_when_the_last_row_for_a_sku_is_rejected_the_stored_product_is_left_alone(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Stored", "10", "EUR"]))
    report = run(records, RecordingBackend(), csv_bytes(["A", "", "Newer", "11", "EUR"], ["A", "", "Newest", "twelve"]))
    assert (report.duplicates, report.rejected, report.products, report.changed) == (1, 1, 0, 0)
    assert records.get_product("A").name == "Stored"  # type: ignore[union-attr]


def test_a_stream_that_cannot_seek_is_read_twice_all_the_same(records: Records) -> None:
    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            data = self._inner.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)

    data = csv_bytes(["A", "", "One"], ["A", "", "Two"])
    report = import_products(records=records, backend=RecordingBackend(), source=OneWay(data), filename="p.csv")  # type: ignore[arg-type]
    assert (report.products, report.duplicates) == (1, 1)
    assert records.get_product("A").name == "Two"  # type: ignore[union-attr]


def test_failed_index_writes_are_reported_not_counted(records: Records) -> None:
    backend = RecordingBackend(fail={"product:B"})
    report = run(records, backend, csv_bytes(["A", "", "Tee"], ["B", "", "Mug"]))
    assert (report.indexed, report.index_failed) == (1, 1)
    assert report.dead_letters == [{"sku": "B", "reason": "mapper_parsing_exception: refused"}]
    assert records.get_product("B") is not None  # the record is kept; a reindex can repair the index


def test_full_mode_withdraws_absent_products_and_never_deletes(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"], ["B", "", "Mug"], ["C", "", "Cap", "oops"]))
    backend = RecordingBackend()
    report = run(records, backend, csv_bytes(["A", "", "Tee"]), mode="full")
    assert report.withdrawn == 1
    assert {sku: p.status for sku, p in records.get_products(["A", "B"]).items()} == {"A": "approved", "B": "withdrawn"}
    assert backend.docs["product:B"].keywords["status"] == ["withdrawn"]
    assert run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"], ["B", "", "Mug"])).changed == 1
    assert records.get_product("B").status == "draft"  # type: ignore[union-attr]


def test_full_mode_keeps_a_product_whose_row_was_rejected(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"], ["B", "", "Mug"]))
    report = run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"], ["B", "", "Mug", "n/a"]), mode="full")
    assert (report.rejected, report.withdrawn) == (1, 0)
    assert records.get_product("B").status == "approved"  # type: ignore[union-attr]


def test_full_mode_reads_the_sku_of_an_undecodable_row_and_keeps_that_product(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Café"], ["B", "", "Mug"], ["C", "", "Cap"]))
    data = csv_bytes(["A", "", "Café"], ["B", "", "Mug"]).replace(b"Mug", b"M\xffg")
    report = run(records, RecordingBackend(), data, mode="full")
    assert (report.rejected, report.withdrawn) == (1, 1)
    assert {s: p.status for s, p in records.get_products(["B", "C"]).items()} == {"B": "approved", "C": "withdrawn"}


def test_full_mode_withdraws_nothing_when_a_rejected_row_hides_its_sku(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"], ["B", "", "Mug"]))
    data = b'{"sku": "A", "name": "Tee"}\n{"sku": "B", "name": oops}\n'
    report = import_products(
        records=records, backend=RecordingBackend(), source=io.BytesIO(data), filename="p.jsonl", mode="full"
    )
    assert report.withdrawn == 0 and "know their SKU" in report.notes[0]


def test_full_mode_withdraws_nothing_when_the_file_is_cut_short(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"], ["B", "", "Mug"]))
    report = import_products(
        records=records,
        backend=RecordingBackend(),
        source=io.BytesIO(b'[{"sku": "A", "name": "Tee"}, {"sku": "B"'),
        filename="p.json",
        mode="full",
    )
    assert report.withdrawn == 0 and "nothing withdrawn" in report.notes[0]
    assert records.get_product("B").status == "approved"  # type: ignore[union-attr]


def test_reviewed_tags_linked_assets_and_workflow_status_survive_a_reimport(records: Records) -> None:
    data = csv_bytes(["A", "", "Tee", "10", "EUR"])
    run(records, RecordingBackend(), data)
    product = records.get_product("A")
    assert product is not None
    product.tags = [Tag(name="cotton", status="accepted", source="human")]
    product.asset_ids = ["asset-1"]
    product.status = "approved"
    records.upsert_products([product])
    report = run(records, RecordingBackend(), csv_bytes(["A", "", "Tee v2", "10", "EUR"]))
    again = records.get_product("A")
    assert report.changed == 1 and again is not None
    assert (again.name, again.status, again.asset_ids, [t.name for t in again.tags]) == (
        "Tee v2",
        "approved",
        ["asset-1"],
        ["cotton"],
    )


def test_a_variant_read_before_its_parent_inherits_once_the_parent_arrives(records: Records) -> None:
    backend = RecordingBackend()
    data = csv_bytes(
        ["H-R", "H", "", "", "", "red", "S"], ["X", "", "Filler", "1", "EUR"], ["H", "", "Hoodie", "40", "EUR"]
    )
    report = run(records, backend, data, chunk_size=1)
    variant = records.get_product("H-R")
    assert variant is not None and (variant.name, variant.price, variant.currency) == ("Hoodie", 40.0, "EUR")
    # Indexed alone while its parent was missing, then folded into the family document.
    assert backend.writes.index("product:H-R") < backend.writes.index("product:H")
    assert set(backend.docs) == {"product:H", "product:X"}
    family = backend.docs["product:H"]
    assert (family.keywords["sku"], family.keywords["color"], family.keywords["size"]) == (["H", "H-R"], ["Red"], ["S"])
    assert family.stored["variants"] == [{"sku": "H-R", "name": "Hoodie", "attributes": {"color": "red", "size": "S"}}]
    assert report.indexed == 3


def test_a_variant_with_values_of_its_own_leaves_no_lone_document_once_its_parent_arrives(records: Records) -> None:
    backend = RecordingBackend()
    run(records, backend, csv_bytes(["H-R", "H", "Red hoodie", "41", "EUR", "red", "S", "draft"]))
    assert set(backend.docs) == {"product:H-R"}  # never lost while the parent is missing
    run(records, backend, csv_bytes(["H", "", "Hoodie", "40", "EUR", "", "", "draft"]))
    assert set(backend.docs) == {"product:H"}
    assert backend.docs["product:H"].stored["variants"] == [
        {"sku": "H-R", "name": "Red hoodie", "attributes": {"color": "red", "size": "S"}}
    ]


def test_stored_variants_follow_a_parent_that_changes(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["H", "", "Hoodie", "40", "EUR"], ["H-R", "H", "", "", "", "red", "S"]))
    backend = RecordingBackend()
    report = run(records, backend, csv_bytes(["H", "", "Zip Hoodie", "45", "EUR"]))
    variant = records.get_product("H-R")
    assert variant is not None and (variant.name, variant.price) == ("Zip Hoodie", 45.0)
    # The family document is rewritten with the variant as it now is.
    assert set(backend.docs) == {"product:H"}
    family = backend.docs["product:H"]
    assert (family.keywords["sku"], family.numbers["price"]) == (["H", "H-R"], 45.0)
    variants = cast(list[dict[str, Any]], family.stored["variants"])
    assert [(v["sku"], v["name"]) for v in variants] == [("H-R", "Zip Hoodie")]
    assert report.indexed == 1  # the file's one product; its variant was reindexed with it


def test_a_variant_without_a_status_takes_its_parents(records: Records) -> None:
    run(
        records,
        RecordingBackend(),
        csv_bytes(["H-R", "H", "", "", "", "red"], ["H", "", "Hoodie", "", "", "", "", "approved"]),
    )
    assert records.get_product("H-R").status == "approved"  # type: ignore[union-attr]


def test_a_variant_still_missing_a_required_field_after_inheriting_is_rejected(
    records: Records, tmp_path: Path
) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "strict.yaml").write_text("rules: [{field: price, required: true}]\n")
    data = csv_bytes(["H", "", "Hoodie"], ["H-R", "H", "", "", "", "red"])
    report = run(records, RecordingBackend(), data, mapping="strict", data_dir=tmp_path)
    assert [(r.line, r.field, r.reason) for r in report.rejects] == [
        (2, "price", "price is required"),
        (3, "price", "price is required"),
    ]


def test_magento_children_listed_after_they_were_written_are_linked(records: Records) -> None:
    backend = RecordingBackend()
    report = import_products(
        records=records,
        backend=backend,
        source=FIXTURES / "magento2_products.csv",
        filename="magento2_products.csv",
        mapping="magento2",
        chunk_size=1,
    )
    assert report.rejected == 0
    assert {s: p.parent_sku for s, p in records.get_products(["MH01-S-Black", "MH01-M-Gray", "WB04"]).items()} == {
        "MH01-S-Black": "MH01",
        "MH01-M-Gray": "MH01",
        "WB04": None,
    }
    assert sorted(backend.docs["product:MH01"].keywords["color"]) == ["Black", "Grey"]  # gray is grey
    assert records.get_product("MH01").locales["fr_FR"]["name"] == "Sweat à capuche Chaz Kangeroo"  # type: ignore[union-attr]


def test_a_translation_of_an_unknown_sku_is_rejected(records: Records) -> None:
    data = b"sku,store_view_code,name\nNOPE,fr,Inconnu\n"
    report = run(records, RecordingBackend(), data, mapping="magento2")
    assert [(r.line, r.reason) for r in report.rejects] == [(2, "translation of unknown SKU 'NOPE'")]


SAMPLES = [
    (
        "shopify",
        "shopify_products.csv",
        6,
        {"classic-hoodie", "canvas-tote", "NW-HOOD-RED-S", "NW-HOOD-RED-M", "NW-HOOD-BLU-M", "NW-TOTE"},
    ),
    ("magento2", "magento2_products.csv", 5, {"MH01", "MH01-S-Black", "MH01-M-Black", "MH01-M-Gray", "WB04"}),
    ("akeneo", "akeneo_products.csv", 4, {"AKNTS_BPS", "AKNTS_BPM", "AKNTS_WPS", "OROMUG_BO"}),
]


@pytest.mark.parametrize(("mapping", "filename", "indexed", "skus"), SAMPLES)
def test_each_shipped_mapping_imports_its_sample_with_no_rejects(
    records: Records, mapping: str, filename: str, indexed: int, skus: set[str]
) -> None:
    backend = RecordingBackend()
    report = import_products(
        records=records, backend=backend, source=FIXTURES / filename, filename=filename, mapping=mapping
    )
    assert (report.rejected, report.rejects, report.duplicates, report.indexed) == (0, [], 0, indexed)
    assert records.product_skus() == skus


def test_shopify_sample_normalised(records: Records) -> None:
    import_products(
        records=records,
        backend=RecordingBackend(),
        source=FIXTURES / "shopify_products.csv",
        filename="s.csv",
        mapping="shopify",
    )
    parent, red_m = records.get_product("classic-hoodie"), records.get_product("NW-HOOD-RED-M")
    assert parent is not None and red_m is not None
    assert parent.image_refs == ["hoodie-red.jpg", "hoodie-blue.jpg", "hoodie-back.jpg"]
    assert parent.description_text == "Soft organic cotton hoodie & kangaroo pocket."
    assert (red_m.name, red_m.price, red_m.currency, red_m.status) == ("Classic Hoodie", 49.0, "USD", "approved")
    assert red_m.attributes["weight"] == {"value": 0.7, "unit": "kg", "original": "700 g"}
    assert (red_m.attributes["color"], red_m.attributes["size"]) == ("Red", "M")


def test_akeneo_sample_normalised(records: Records) -> None:
    import_products(
        records=records,
        backend=RecordingBackend(),
        source=FIXTURES / "akeneo_products.csv",
        filename="a.csv",
        mapping="akeneo",
    )
    shirt = records.get_product("AKNTS_BPS")
    assert shirt is not None
    assert (shirt.name, shirt.price, shirt.currency, shirt.status) == (
        "Akeneo T-Shirt black and purple",
        10.0,
        "EUR",
        "approved",
    )
    assert shirt.locales["fr_FR"]["name"] == "T-shirt Akeneo noir et violet"
    assert shirt.attributes["weight"] == {"value": 0.18, "unit": "kg", "original": "180 GRAM"}
    assert shirt.image_refs == ["1234_akeneo_tshirt_black.jpg"] and shirt.categories == ["goodies", "tshirts"]


def test_progress_is_told_after_each_batch_and_at_the_end(records: Records) -> None:
    seen: list[tuple[int, float, bool]] = []
    data = csv_bytes(*[[f"S{i}", "", f"P{i}"] for i in range(5)])
    run(
        records,
        RecordingBackend(),
        data,
        chunk_size=2,
        progress=lambda r: seen.append((r.received, r.progress, r.finished)),
    )
    assert [s[0] for s in seen] == [2, 4, 5] and seen[-1][1:] == (1.0, True)


def test_completeness_is_recomputed_and_reindexed_when_channel_rules_change(records: Records, tmp_path: Path) -> None:
    strict = parse_channels("channels:\n  web:\n    required: [name, brand]\n")
    lenient = parse_channels("channels:\n  web:\n    required: [name]\n")
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"]), channels=strict)
    stored = records.get_product("A")
    assert stored is not None and cast(dict[str, Any], stored.completeness["web"])["missing"] == ["brand"]
    backend = RecordingBackend()
    marker = tmp_path / "channels.applied"
    report = refresh_completeness_if_stale(records=records, backend=backend, channels=lenient, marker=marker)
    assert report is not None and (report.checked, report.changed) == (1, 1)
    assert backend.docs["product:A"].keywords["ready_for"] == ["web"]
    assert refresh_completeness_if_stale(records=records, backend=backend, channels=lenient, marker=marker) is None
    assert recompute_completeness(records=records, backend=backend, channels=strict).changed == 1


def test_the_shipped_channels_are_used_when_none_are_given(records: Records) -> None:
    run(records, RecordingBackend(), csv_bytes(["A", "", "Tee"]))
    assert set(records.get_product("A").completeness) == set(load_channels())  # type: ignore[union-attr]


def _in_every_format() -> list[tuple[str, bytes]]:
    import json

    import openpyxl

    rows = [{"sku": "A", "name": "Café", "price": "9.5"}, {"sku": "B", "name": "Tee", "price": "12"}]
    as_csv = csv_bytes(*[list(r.values()) for r in rows], header=list(rows[0]))
    book = openpyxl.Workbook()
    book.active.append(list(rows[0]))
    for row in rows:
        book.active.append(list(row.values()))
    xlsx = io.BytesIO()
    book.save(xlsx)
    return [
        ("p.csv", as_csv),
        ("p.tsv", as_csv.replace(b",", b"\t")),
        ("p.jsonl", b"".join(json.dumps(r).encode() + b"\n" for r in rows)),
        ("p.json", json.dumps(rows).encode()),
        ("p.xlsx", xlsx.getvalue()),
    ]


@pytest.mark.parametrize(("filename", "data"), _in_every_format())
def test_every_format_imports_the_same_products(records: Records, filename: str, data: bytes) -> None:
    report = import_products(records=records, backend=RecordingBackend(), source=io.BytesIO(data), filename=filename)
    assert (report.received, report.rejected, report.products) == (2, 0, 2)
    stored = records.get_products(["A", "B"])
    assert {s: (p.name, p.price) for s, p in stored.items()} == {"A": ("Café", 9.5), "B": ("Tee", 12.0)}


def test_a_nul_byte_in_a_cell_never_reaches_postgresql(postgres_url: str) -> None:
    # Catalog text never means a control character, and PostgreSQL's text columns refuse NUL.
    name = f"nul_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    records = Records.open(postgres_url.rsplit("/", 1)[0] + "/" + name)
    try:
        header = [*HEADER, "description"]
        data = csv_bytes(["A", "", "Tee\x00 shirt", "10", "EUR", "", "", "", "<p>Soft\x00 cotton</p>"],
                         ["B", "", "Mug", "5", "EUR", "", "", "", ""], header=header)  # fmt: skip
        report = run(records, RecordingBackend(), data)
        assert (report.rejected, report.products) == (0, 2)
        tee = records.get_product("A")
        assert tee is not None and (tee.name, tee.description) == ("Tee shirt", "<p>Soft cotton</p>")
    finally:
        records.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
