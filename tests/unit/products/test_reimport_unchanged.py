"""A re-import skips rows whose record is still what an import made of them (row hash
beside the content hash), before settling, storing or indexing them."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from product_support import RecordingBackend, open_records

from discovery.domain import Product
from discovery.store.records import Records
from indexer.products.completeness import parse_channels
from indexer.products.mapping_spec import MappingSpec
from indexer.products.pipeline import import_products
from indexer.products.report import ImportReport
from indexer.products.unchanged import import_salt, row_hash

HEADER = ["sku", "parent_sku", "name", "brand", "price", "currency", "color"]
ROWS = [
    ["H", "", "Hoodie", "Northwind", "40", "EUR", ""],
    ["H-R", "H", "", "", "", "", "red"],
    ["H-B", "H", "", "", "", "", "blue"],
    ["M", "", "Mug", "Contoso", "9", "EUR", "white"],
    ["B", "", "Bad", "Contoso", "nine", "EUR", ""],
    ["T", "", "Tee", "Contoso", "15", "EUR", "green"],
]


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return open_records(tmp_path)


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def run(records: Records, data: bytes, backend: RecordingBackend | None = None, **options: Any) -> ImportReport:
    return import_products(
        records=records, backend=backend or RecordingBackend(), source=io.BytesIO(data), filename="p.csv", **options
    )


def upserted(records: Records) -> list[str]:
    """The SKUs handed to `upsert_products` from now on."""
    seen: list[str] = []
    upsert = records.upsert_products

    def spying(products: Any, **kwargs: Any) -> Any:
        seen.extend(p.sku for p in products)
        return upsert(products, **kwargs)

    records.upsert_products = spying  # type: ignore[method-assign]
    return seen


def test_reimport_of_an_unchanged_file_writes_no_records_and_indexes_nothing(records: Records) -> None:
    first = run(records, csv_bytes(ROWS))
    seen, backend = upserted(records), RecordingBackend()
    again = run(records, csv_bytes(ROWS), backend)
    assert seen == [] and backend.docs == {}
    assert (again.products, again.unchanged, again.indexed) == (first.products, 5, 0)


def test_bad_row_keeps_its_named_error_on_reimport_and_the_rest_land(records: Records) -> None:
    run(records, csv_bytes(ROWS))
    changed = [list(r) for r in ROWS]
    changed[3][2] = "Beaker"
    report = run(records, csv_bytes(changed))
    assert [r.to_json() for r in report.rejects] == [
        {"line": 6, "file": "p.csv", "field": "price", "reason": "not a price: 'nine'"}
    ]
    assert (report.products, report.rejected, report.indexed) == (5, 1, 1)
    assert records.get_products(["M"])["M"].name == "Beaker"


def test_changed_parent_takes_its_unchanged_variants_through_the_import_again(records: Records) -> None:
    run(records, csv_bytes(ROWS))
    seen = upserted(records)
    changed = [list(r) for r in ROWS]
    changed[0][3] = "Fabrikam"  # the hoodie's brand, which its variants inherit
    report = run(records, csv_bytes(changed))
    assert sorted(seen) == ["H", "H-B", "H-R"]
    assert {p.brand for p in records.get_products(["H-R", "H-B"]).values()} == {"Fabrikam"}
    assert report.unchanged == 2  # M and T


def test_record_written_by_something_else_is_rewritten_from_its_row(records: Records) -> None:
    run(records, csv_bytes(ROWS))
    mug = records.get_products(["M"])["M"]
    mug.name = "Edited elsewhere"
    records.upsert_products([mug])  # not an import: its row hash no longer stands for it
    seen = upserted(records)
    run(records, csv_bytes(ROWS))
    assert seen == ["M"] and records.get_products(["M"])["M"].name == "Mug"


def test_withdrawn_product_in_the_file_comes_back_as_a_draft(records: Records) -> None:
    run(records, csv_bytes(ROWS))
    run(records, csv_bytes([r for r in ROWS if r[0] != "T"]), mode="full")
    assert records.get_products(["T"])["T"].status == "withdrawn"
    run(records, csv_bytes(ROWS))
    assert records.get_products(["T"])["T"].status == "draft"


def test_other_channels_or_mapping_make_every_row_new_again(records: Records) -> None:
    channels = parse_channels("web: {required: [name]}\n")
    more = parse_channels("web: {required: [name, brand]}\n")
    spec = MappingSpec(name="canonical")
    salts = {import_salt(spec, channels), import_salt(spec, more), import_salt(MappingSpec(name="other"), channels)}
    assert len(salts) == 3
    assert len({import_salt(spec, channels, "text on a"), import_salt(spec, channels, "text on b")}) == 2
    run(records, csv_bytes(ROWS))
    seen = upserted(records)
    run(records, csv_bytes(ROWS), channels=more)
    assert sorted(seen) == ["H", "H-B", "H-R", "M", "T"]


def test_row_hash_ignores_where_the_row_was(records: Records) -> None:
    salt = import_salt(MappingSpec(name="canonical"), {})
    a = Product(sku="M", name="Mug", source={"file": "a.csv", "line": 2, "job": "1"})
    b = Product(sku="M", name="Mug", source={"file": "b.csv", "line": 9, "job": "2"})
    assert row_hash(a, salt) == row_hash(b, salt) != row_hash(Product(sku="M", name="Cup"), salt)
