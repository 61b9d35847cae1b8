from __future__ import annotations

import io
import json

import openpyxl
import pytest
from product_support import read, rejects_of, rows_of

from indexer.products.delimited import detect_encoding


def test_bom_delimiter_and_multi_line_quoted_fields() -> None:
    data = '\ufeffsku;name;description\nA1;Café;"two\nlines; with a delimiter"\nA2;Tee;plain\n'.encode()
    items = read(data)
    assert items == [
        (2, {"sku": "A1", "name": "Café", "description": "two\nlines; with a delimiter"}),
        (4, {"sku": "A2", "name": "Tee", "description": "plain"}),
    ]


def test_tab_separated_by_extension_and_by_sniffing() -> None:
    data = b"sku\tname\nA1\tTee, white\n"
    assert rows_of(read(data, "x.tsv")) == [(2, {"sku": "A1", "name": "Tee, white"})]
    assert rows_of(read(data, "x.csv")) == [(2, {"sku": "A1", "name": "Tee, white"})]


def test_undecodable_bytes_reject_that_line_only() -> None:
    data = "sku,name\nA1,Crème\n".encode() + b"A2,bad \xff\xfe bytes\n" + "A3,Brûlée\n".encode()
    items = read(data)
    assert rows_of(items) == [(2, {"sku": "A1", "name": "Crème"}), (4, {"sku": "A3", "name": "Brûlée"})]
    (reject,) = rejects_of(items)
    assert reject.line == 3
    assert "cannot be decoded as utf-8" in reject.reason and "0xff" in reject.reason


def test_a_bad_line_inside_a_quoted_field_rejects_the_whole_record() -> None:
    data = 'sku,description\nA0,Crème\nA1,"line one\n'.encode() + b'line \xff two"\n' + b"A2,ok\n"
    items = read(data)
    assert rows_of(items) == [(2, {"sku": "A0", "description": "Crème"}), (5, {"sku": "A2", "description": "ok"})]
    assert [r.line for r in rejects_of(items)] == [3]


def test_legacy_encoded_file_is_read_as_such() -> None:
    data = "sku,name\nA1,Crème brûlée au café\nA2,Pâté\n".encode("cp1252")
    assert detect_encoding(data)[0] == "cp1252"
    assert [r[1]["name"] for r in rows_of(read(data))] == ["Crème brûlée au café", "Pâté"]


def test_utf16_with_bom_is_read() -> None:
    data = "sku\tname\nA1\tÄpfel\n".encode("utf-16")
    assert rows_of(read(data, "x.tsv")) == [(2, {"sku": "A1", "name": "Äpfel"})]


def test_an_over_long_field_rejects_its_row_naming_the_column() -> None:
    data = b"sku,description\nA1," + b"x" * 200 + b"\nA2,short\n"
    items = read(data, max_field_chars=100)
    assert rows_of(items) == [(3, {"sku": "A2", "description": "short"})]
    (reject,) = rejects_of(items)
    assert (reject.line, reject.field) == (2, "description")
    assert "over the limit of 100" in reject.reason


def test_an_over_long_line_is_skipped_without_losing_the_next() -> None:
    data = b"sku,description\nA1," + b"x" * 5000 + b"\nA2,short\n"
    items = read(data, max_line_bytes=1000)
    assert rows_of(items) == [(3, {"sku": "A2", "description": "short"})]
    assert rejects_of(items)[0].line == 2


def test_extra_cells_reject_the_row_and_blank_lines_are_skipped() -> None:
    items = read(b"sku,name\nA1,x,y\n\n,,\nA2,z,\n")
    assert rows_of(items) == [(5, {"sku": "A2", "name": "z"})]
    assert rejects_of(items)[0].reason == "row has 3 fields, the header has 2"


def test_a_duplicated_header_stops_the_file() -> None:
    (reject,) = read(b"sku,name,name\nA1,x,y\n")
    assert isinstance(reject, type(rejects_of([reject])[0])) and reject.fatal
    assert "appears twice" in reject.reason


def test_json_lines_reject_bad_lines_and_flatten_attributes_and_locales() -> None:
    data = b'{"sku": "A", "price": 9.5, "attributes": {"color": "red"}, "locales": {"fr_FR": {"name": "Rouge"}}}\n'
    data += b"[1]\n{not json\n\n"
    items = read(data, "x.jsonl")
    assert rows_of(items) == [(1, {"sku": "A", "price": 9.5, "attributes.color": "red", "name-fr_FR": "Rouge"})]
    first, second = rejects_of(items)
    assert (first.line, first.reason) == (2, "expected a JSON object, got list")
    assert second.line == 3 and second.reason.startswith("not valid JSON: Expecting property name")


def test_json_nesting_over_the_limit_rejects_the_row() -> None:
    deep: object = "x"
    for _ in range(10):
        deep = [deep]
    data = json.dumps({"sku": "A", "attributes": {"tree": deep}}).encode() + b'\n{"sku": "B"}\n'
    items = read(data, "x.jsonl", max_depth=5)
    assert rows_of(items) == [(2, {"sku": "B"})]
    (reject,) = rejects_of(items)
    assert reject.field == "attributes" and "nested deeper than 5" in reject.reason


@pytest.mark.parametrize("filename", ["x.jsonl", "x.json"])
def test_json_numbers_that_are_not_numbers_reject_their_row_naming_the_field(filename: str) -> None:
    rows = [
        '{"sku": "A", "price": 9.5}',
        '{"sku": "HUGE", "stock": ' + "9" * 5000 + "}",
        '{"sku": "NAN", "price": NaN}',
        '{"sku": "INF", "attributes": {"weight": -Infinity}}',
        '{"sku": "E999", "price": 1e999}',
        '{"sku": "B", "ean": 4006381333931}',
    ]
    data = ("\n".join(rows) if filename == "x.jsonl" else "[" + ",\n".join(rows) + "]").encode()
    items = read(data, filename)
    assert [(line, row["sku"]) for line, row in rows_of(items)] == [(1, "A"), (6, "B")]
    by_line = {r.line: r for r in rejects_of(items)}
    assert sorted(by_line) == [2, 3, 4, 5]
    assert (by_line[2].field, by_line[2].reason) == ("stock", "a number of 5,000 digits, over the limit of 20")
    assert (by_line[3].field, by_line[3].reason) == ("price", "NaN is not a finite number")
    assert (by_line[4].field, by_line[4].reason) == ("attributes", "-Infinity is not a finite number")
    assert by_line[5].field == "price" and "too large" in by_line[5].reason
    assert not any(r.fatal for r in by_line.values())


def test_a_json_array_is_streamed_across_buffer_boundaries_with_line_numbers() -> None:
    products = [{"sku": f"S{i}", "description": "é" * (i % 300)} for i in range(2000)]
    data = ("[\n" + ",\n".join(json.dumps(p, ensure_ascii=False) for p in products) + "\n]\n").encode()
    assert len(data) > 3 * 65536
    items = read(data, "x.json")
    assert len(items) == 2000 and not rejects_of(items)
    assert items[0] == (2, products[0]) and items[-1] == (2001, products[-1])


def test_a_truncated_json_array_keeps_the_elements_before_the_cut() -> None:
    items = read(b'[{"sku": "A"},\n{"sku": "B"},\n{"sku": "C"', "x.json")
    assert rows_of(items) == [(1, {"sku": "A"}), (2, {"sku": "B"})]
    (reject,) = rejects_of(items)
    assert reject.fatal and reject.line == 3


def test_non_objects_in_a_json_array_are_rejected_one_by_one() -> None:
    items = read(b'[{"sku": "A"}, 5, {"sku": "B"}]', "x.json")
    assert rows_of(items) == [(1, {"sku": "A"}), (1, {"sku": "B"})]
    assert rejects_of(items)[0].reason == "expected a JSON object, got int"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_cells_become_text_as_a_csv_would_hold() -> None:
    import datetime as dt

    data = _xlsx(
        [
            ["sku", "price", "launched", "active"],
            [12345, 19.5, dt.datetime(2024, 5, 1), True],
            [None, None, None, None],
            ["B", 3.0, None, False],
        ]
    )
    assert read(data, "x.xlsx") == [
        (2, {"sku": "12345", "price": "19.5", "launched": "2024-05-01", "active": "true"}),
        (4, {"sku": "B", "price": "3", "launched": "", "active": "false"}),
    ]


def test_format_is_sniffed_when_the_name_says_nothing() -> None:
    assert rows_of(read(b'[{"sku": "A"}]', "upload")) == [(1, {"sku": "A"})]
    assert rows_of(read(_xlsx([["sku"], ["A"]]), "upload")) == [(2, {"sku": "A"})]


@pytest.mark.parametrize("filename", ["x.csv", "x.jsonl"])
def test_an_empty_file_has_no_rows(filename: str) -> None:
    assert read(b"", filename) == []
