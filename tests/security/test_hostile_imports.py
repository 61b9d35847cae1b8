"""Imports and reindexes under hostile or unlucky product files: numbers that are not
numbers, stale spreadsheet headers, unclosed quotes. Nothing is dropped without a word."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from discovery.config import Settings
from discovery.domain import Product
from discovery.errors import describe
from discovery.services.context import Context
from discovery.services.reindex import reindex
from discovery.store.records import Records
from indexer.assets.intake import Candidate
from indexer.assets.process import Refused, probe
from indexer.assets.sniff import sniff
from indexer.products.pipeline import import_products
from indexer.products.report import ImportReport, Reject
from tests.security import hostile_files as hf
from tests.unit.products.product_support import RecordingBackend, open_records, read

ENGINES = [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)]


@pytest.fixture(params=ENGINES)
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    if request.param == "embedded":
        settings = Settings(data_dir=tmp_path / "var", backend="embedded")
    else:
        url = request.getfixturevalue("opensearch_url")
        prefix = request.getfixturevalue("unique_prefix")
        settings = Settings(data_dir=tmp_path / "var", backend="opensearch", opensearch_url=url, index_prefix=prefix)
    context = Context.open(settings)
    try:
        yield context
    finally:
        drop = getattr(context.backend, "drop", None)
        if drop is not None:
            drop()
        context.close()


def test_reindex_indexes_a_record_stored_with_a_nan_price_and_reports_it(ctx: Context) -> None:
    # Stored before the readers refused NaN: every reindex used to fail on it.
    ctx.records.upsert_products([
        Product(sku="GOOD-1", name="Linen shirt", price=19.5, currency="EUR"),
        Product(sku="NAN-1", name="Linen trousers", price=float("nan"), currency="EUR"),
        Product(sku="INF-1", name="Linen jacket", price=float("inf"), currency="EUR"),
    ])  # fmt: skip
    result = reindex(ctx)
    assert result["failed"] == 0, result["failures"]
    assert result["indexed"] == 3
    warned = {(w["id"], w["error"]) for w in result["warnings"]}  # type: ignore[union-attr,index]
    assert warned == {
        ("product:NAN-1", "price is nan, not a finite number: left out of the index"),
        ("product:INF-1", "price is inf, not a finite number: left out of the index"),
    }
    again = reindex(ctx)
    assert again["failed"] == 0 and again["indexed"] == 3


def test_a_jsonl_import_rejects_a_huge_integer_and_a_nan_price_and_keeps_the_rest(tmp_path: Path) -> None:
    records = open_records(tmp_path)
    lines = [
        '{"sku": "A", "name": "Tee", "price": 10, "currency": "EUR"}',
        '{"sku": "HUGE", "name": "Mug", "price": ' + "1" * 4301 + ', "currency": "EUR"}',
        '{"sku": "NAN", "name": "Cap", "price": NaN, "currency": "EUR"}',
        '{"sku": "B", "name": "Hat", "price": 5.5, "currency": "EUR"}',
    ]
    report = import_products(
        records=records, backend=RecordingBackend(), source=io.BytesIO("\n".join(lines).encode()),  # type: ignore[arg-type]
        filename="p.jsonl",
    )  # fmt: skip
    assert (report.received, report.rejected, report.products) == (4, 2, 2)
    assert [(r.line, r.field) for r in report.rejects] == [(2, "price"), (3, "price")]
    assert records.product_skus() == {"A", "B"}


def _import(tmp_path: Path, data: bytes, filename: str) -> tuple[ImportReport, Records]:
    records = open_records(tmp_path)
    report = import_products(
        records=records,
        backend=RecordingBackend(),
        source=io.BytesIO(data),
        filename=filename,  # type: ignore[arg-type]
    )
    return report, records


def test_an_xlsx_with_a_stale_dimension_header_is_read_by_its_cells(tmp_path: Path) -> None:
    rows: list[list[object]] = [["sku", "name", "price", "currency"]]
    rows += [[f"X-{i:03d}", f"Shirt {i}", 10 + i, "EUR"] for i in range(100)]
    report, records = _import(tmp_path, hf.stale_dimension_xlsx(rows), "export.xlsx")
    assert (report.received, report.rejected, report.products) == (100, 0, 100)
    assert len(records.product_skus()) == 100


def test_a_stale_dimension_xlsx_keeps_line_numbers_and_short_rows_whole(tmp_path: Path) -> None:
    data = hf.stale_dimension_xlsx([["sku", "name", "price"], ["A", "Tee", 1], [None], ["B", "Cap", 2], ["C"]])
    assert read(data, "export.xlsx") == [
        (2, {"sku": "A", "name": "Tee", "price": "1"}),
        (4, {"sku": "B", "name": "Cap", "price": "2"}),
        (5, {"sku": "C", "name": "", "price": ""}),
    ]


def _csv(rows: list[str]) -> bytes:
    return ("sku,name,description,price,currency\n" + "".join(f"{row}\n" for row in rows)).encode()


def test_an_unclosed_quote_is_a_reject_with_its_line_and_the_rows_after_it_are_imported(tmp_path: Path) -> None:
    rows = ["A-000,Tee,plain,10,EUR", 'A-001,Mug,"never closed,10,EUR']
    rows += [f"A-{i:03d},Cap {i},plain,10,EUR" for i in range(2, 102)]
    report, records = _import(tmp_path, _csv(rows), "p.csv")
    assert (report.received, report.rejected, report.products) == (102, 1, 101)
    (reject,) = report.rejects
    assert reject.line == 3 and "unclosed quote" in reject.reason
    assert "A-001" not in records.product_skus() and len(records.product_skus()) == 101


def test_a_stray_quote_closed_far_below_does_not_swallow_the_rows_between(tmp_path: Path) -> None:
    rows = ['B-000,Mug,"opens here,10,EUR']
    rows += [f"B-{i:03d},Cap {i},plain,10,EUR" for i in range(1, 150)]
    rows += ['B-150,Hat,"a ""quoted"" description",10,EUR']
    report, records = _import(tmp_path, _csv(rows), "p.csv")
    assert [(r.line, "unclosed quote" in r.reason) for r in report.rejects] == [(2, True)]
    assert len(records.product_skus()) == 150
    hat = records.get_product("B-150")
    assert hat is not None and hat.description == 'a "quoted" description'


def test_a_long_quoted_field_within_the_limit_is_still_one_field(tmp_path: Path) -> None:
    text = "\n".join(f"line {i}" for i in range(60))
    data = _csv([f'C-000,Tee,"{text}",10,EUR', "C-001,Cap,plain,10,EUR"])
    report, records = _import(tmp_path, data, "p.csv")
    assert (report.received, report.rejected) == (2, 0)
    tee = records.get_product("C-000")
    assert tee is not None and tee.description == text


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}|object at")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cut.gif", b"GIF89a" + b"x" * 20),
        ("cut.tif", b"II*\x00" + b"x" * 30),
        ("cut.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10),
        ("cut.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n"),
    ],
)
def test_reject_reasons_for_broken_files_carry_no_memory_address(name: str, data: bytes) -> None:
    candidate = Candidate(name, data, sniff(data).media_type, name)
    with pytest.raises(Refused) as refused:
        probe(candidate, presets={})
    reason = str(refused.value)
    assert not _ADDRESS.search(reason), reason
    assert reason.startswith(("corrupt", "PDF")), reason


def test_a_broken_xlsx_is_rejected_with_a_reason_for_people() -> None:
    (reject,) = read(b"PK\x03\x04" + b"\x00" * 40, "export.xlsx")
    assert isinstance(reject, Reject) and reject.fatal
    assert not _ADDRESS.search(reject.reason) and reject.reason.startswith("not a readable XLSX workbook")


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OSError("cannot identify image file <_io.BytesIO object at 0x7ff6c8319ee0>"), "cannot identify image file"),
        (ValueError("bad value <Element {ns}row at 0x7f00aa11bb22>: skipped"), "bad value: skipped"),
        (AttributeError("'NoneType' object has no attribute 'get'"), "its structure is not what its format requires"),
        (KeyError("/Root"), "its structure is not what its format requires"),
    ],
)
def test_describe_writes_library_errors_for_people(exc: Exception, reason: str) -> None:
    assert describe(exc) == reason


def test_a_long_quoted_field_of_prose_is_one_field_not_an_unclosed_quote(tmp_path: Path) -> None:
    text = "\n".join(f"paragraph {i} of the care instructions" for i in range(300))
    report, records = _import(tmp_path, _csv([f'D-000,Coat,"{text}",10,EUR', "D-001,Cap,plain,10,EUR"]), "p.csv")
    assert (report.received, report.rejected) == (2, 0)
    coat = records.get_product("D-000")
    assert coat is not None and coat.description == text
