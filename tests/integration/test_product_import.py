"""Issue 3 acceptance: a product export with planted bad rows, on both engines.

A generated 1,000-row CSV holds 17 bad rows and one SKU on two valid rows: it imports 983
rows as 982 distinct products, rejects the 17 with their lines and reasons and reports the
duplicate. The index holds one document per product family (a parent with its variants,
682 of them). Locale columns, units, variants and HTML are normalised; a facet over a parent
includes its variants' colours and sizes; completeness is filterable and follows the
channel rules. The same tests run on the embedded engine and on real OpenSearch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from discovery.config import SearchSettings, Settings
from discovery.domain import JSONObject
from discovery.store.index.base import SearchBackend, SearchQuery
from discovery.store.index.embedded import EmbeddedBackend
from discovery.store.records import Records
from indexer.products.completeness import load_channels
from indexer.products.pipeline import import_products
from indexer.products.refresh import recompute_completeness
from indexer.products.report import ImportReport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "products"
CHANNELS = FIXTURES / "channels_test.yaml"
MAPPING = r"""
description: the acceptance file's typed attributes and rules
attributes:
  color: {type: enum, options: [Red, Blue, Green, Black, White]}
  size: {type: enum, options: [XS, S, M, L, XL]}
  weight: {type: number, unit: kg}
  launched: {type: date}
  eco: {type: boolean}
  tags: {type: multi-enum, options: [summer, winter, sale]}
rules:
  - {field: name, required: true, max_length: 200}
  - {field: attributes.ean, regex: '\d{13}'}
  - {field: attributes.weight, max: 50}
"""
HEADER = [
    "sku", "parent_sku", "name", "description", "brand", "categories", "price", "currency", "status",
    "color", "size", "weight", "launched", "eco", "ean", "tags", "name-fr_FR", "description-fr_FR", "image",
]  # fmt: skip
COLORS = ["Red", "Blue", "Green", "Black", "White"]
SIZES = ["XS", "S", "M", "L", "XL"]

# Row index -> (column to spoil, value, expected reject field, expected reason fragment).
PLANTED: dict[int, tuple[str, str, str | None, str]] = {
    15: ("price", "abc", "price", "not a price: 'abc'"),
    27: ("sku", "", "sku", "missing SKU"),
    38: ("color", "Chartreuse", "color", "unknown option 'Chartreuse' for color"),
    49: ("name", "UNDECODABLE", None, "cannot be decoded as utf-8"),
    55: ("description", "x" * 1_100_000, "description", "over the limit of 1,048,576"),
    66: ("launched", "2023-13-45", "launched", "not a date: '2023-13-45'"),
    77: ("price", "-5", "price", "price is negative"),
    88: ("eco", "maybe", "eco", "not a boolean: 'maybe'"),
    99: ("ean", "12345", "ean", r"'12345' does not match \d{13}"),
    105: ("name", "N" * 201, "name", "name is 201 long, longer than 200"),
    116: ("currency", "EURO", "currency", "not a currency code: 'EURO'"),
    127: ("name", "", "name", "name is required"),
    138: ("weight", "12 in", "weight", "'12 in' is a length, expected a mass"),
    149: ("status", "gone", "status", "unknown status 'gone'"),
    155: ("image", "extra", None, "row has 20 fields, the header has 19"),
    166: ("tags", "summer|autumn", "tags", "unknown option 'autumn' for tags"),
    177: ("weight", "75 kg", "weight", "attributes.weight 75.0 is above the maximum 50"),
}
DUPLICATE = (205, 705)  # two valid rows sharing one SKU; the later wins


def _row(i: int) -> dict[str, str]:
    """Rows come in tens: a parent (i % 10 == 0) with three variants, then six standalone."""
    position = i % 10
    sku = "DUP-1" if i in DUPLICATE else f"P{i:04d}"
    if position in (1, 2, 3):
        parent = i - position
        color = COLORS[(i // 10 + position) % 5]
        weight, price = f"{600 + position * 50} g", f"{20 + position}.50"
        return {
            "sku": sku,
            "parent_sku": f"P{parent:04d}",
            "color": color,
            "size": SIZES[position],
            "weight": weight,
            "price": price,
        }
    return {
        "sku": sku,
        "name": f"Product {i} Café",
        "description": f"<p>Soft <b>organic</b> cotton &amp; wool, item {i}.</p>",
        "brand": "Northwind" if position != 9 else "",
        "categories": "Men > Tops > Hoodies" if position == 0 else "Home/Kitchen",
        "price": f"{10 + i % 90}.99",
        "currency": "EUR",
        "status": "approved",
        "color": "" if position == 0 else COLORS[i % 5],
        "weight": "1.5 kg" if position != 0 else "",
        "launched": "2024-05-01",
        "eco": "yes" if i % 2 else "no",
        "ean": f"{4000000000000 + i}",
        "tags": "summer|sale" if i % 3 == 0 else "winter",
        "name-fr_FR": f"Produit {i} été",
        "description-fr_FR": f"<p>Coton <i>bio</i> n°{i}</p>" if position != 8 else "",
        "image": f"p{i}.jpg",
    }


def acceptance_csv(path: Path) -> None:
    with path.open("wb") as out:
        out.write((",".join(HEADER) + "\n").encode())
        for i in range(1000):
            row = _row(i)
            extra: list[str] = []
            if i in PLANTED:
                column, value, _, _ = PLANTED[i]
                if column == "image" and value == "extra":
                    extra = ["extra"]
                else:
                    row[column] = value
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerow([row.get(c, "") for c in HEADER] + extra)
            line = text.getvalue().encode()
            if row.get("name") == "UNDECODABLE":
                line = line.replace(b"UNDECODABLE", b"caf\xe9 \xff\xfe")  # cp1252 bytes in a UTF-8 file
            out.write(line)


def _import(
    records: Records, backend: SearchBackend, settings: Settings, path: Path, **options: object
) -> ImportReport:
    report = import_products(
        records=records, backend=backend, source=path, filename=path.name, mapping="acceptance",
        data_dir=settings.data_dir, channels=load_channels(CHANNELS), **options,  # type: ignore[arg-type]
    )  # fmt: skip
    backend.refresh()
    return report


def _web(completeness: JSONObject) -> dict[str, Any]:
    return cast(dict[str, Any], completeness["web"])


class ImportOnAnEngine:
    """The acceptance tests; each subclass supplies one engine as `backend`."""

    @pytest.fixture
    def records(self, settings: Settings) -> Iterator[Records]:
        (settings.data_dir / "mappings").mkdir(parents=True)
        (settings.data_dir / "mappings" / "acceptance.yaml").write_text(MAPPING)
        records = Records.open(settings.records_url)
        yield records
        records.close()

    @pytest.fixture
    def export(self, tmp_path: Path) -> Path:
        path = tmp_path / "acceptance.csv"
        acceptance_csv(path)
        return path

    def test_planted_bad_rows_are_rejected_and_every_other_row_imported(
        self, records: Records, backend: SearchBackend, settings: Settings, export: Path
    ) -> None:
        report = _import(records, backend, settings, export)
        assert (report.received, report.rejected, report.duplicates) == (1000, 17, 1)
        assert (report.products, report.indexed, report.index_failed) == (982, 982, 0)
        assert report.received - report.rejected == 983
        found = {r.line or 0: r for r in report.rejects}
        assert sorted(found) == sorted(i + 2 for i in PLANTED)
        for i, (_, _, field, reason) in PLANTED.items():
            reject = found[i + 2]
            assert (reject.field, reject.file) == (field, "acceptance.csv"), reject
            assert reason in reject.reason, reject
        assert report.duplicate_rows == [{"sku": "DUP-1", "line": DUPLICATE[0] + 2, "kept_line": DUPLICATE[1] + 2}]
        assert records.count_products() == 982
        # One document per family: the 100 parents hold their 300 variants, 582 stand alone.
        families = _families(records)
        assert backend.count() == backend.search(SearchQuery(size=1)).total == len(families) == 682
        indexed = backend.get([f"product:{root}" for root in families])
        assert {doc.key: set(doc.keywords["sku"]) for doc in indexed.values()} == families
        assert report.to_csv().count("\n") == 18
        kept = records.get_product("DUP-1")
        assert kept is not None and kept.source["line"] == DUPLICATE[1] + 2

    def test_locales_units_variants_and_html_are_normalised(
        self, records: Records, backend: SearchBackend, settings: Settings, export: Path
    ) -> None:
        _import(records, backend, settings, export)
        parent, variant = records.get_product("P0010"), records.get_product("P0012")
        assert parent is not None and variant is not None
        assert parent.description == "<p>Soft <b>organic</b> cotton &amp; wool, item 10.</p>"
        assert parent.description_text == "Soft organic cotton & wool, item 10."
        assert parent.locales["fr_FR"] == {
            "name": "Produit 10 été",
            "description": "Coton bio n°10",
            "description_html": "<p>Coton <i>bio</i> n°10</p>",
        }
        assert parent.categories == ["Men/Tops/Hoodies"]
        assert (variant.parent_sku, variant.name, variant.brand, variant.price) == (
            "P0010",
            "Product 10 Café",
            "Northwind",
            22.5,
        )
        assert variant.attributes["weight"] == {"value": 0.7, "unit": "kg", "original": "700 g"}
        assert (variant.attributes["color"], variant.attributes["size"]) == ("Black", "M")
        assert records.get_product("P0016").attributes["tags"] == ["winter"]  # type: ignore[union-attr]

    def test_a_facet_over_a_parent_includes_its_variants_colours_and_sizes(
        self, records: Records, backend: SearchBackend, settings: Settings, export: Path
    ) -> None:
        _import(records, backend, settings, export)
        result = backend.search(
            SearchQuery(filters={"sku": ("P0010",), "type": ("product",)}, facets=("color", "size"))
        )
        assert [h.key for h in result.hits] == ["P0010"]
        assert {f.value for f in result.facets["color"]} == {"Green", "Black", "White"}
        assert {f.value for f in result.facets["size"]} == {"S", "M", "L"}
        # A variant is no hit of its own: its SKU and colour find its family, whose stored
        # variants say which one is black.
        assert backend.get(["product:P0012"]) == {}
        black = backend.search(SearchQuery(filters={"sku": ("P0012",), "color": ("black",)}))
        assert [h.key for h in black.hits] == ["P0010"]
        variants = cast(list[dict[str, Any]], black.hits[0].stored["variants"])
        assert {v["sku"]: v["attributes"]["color"] for v in variants} == {
            "P0011": "Green",
            "P0012": "Black",
            "P0013": "White",
        }
        assert backend.search(SearchQuery(filters={"sku": ("P0012",), "color": ("red",)})).total == 0

    def test_reimporting_changes_nothing_and_full_mode_withdraws_what_the_file_lacks(
        self, records: Records, backend: SearchBackend, settings: Settings, export: Path, tmp_path: Path
    ) -> None:
        _import(records, backend, settings, export)
        again = _import(records, backend, settings, export)
        assert (again.changed, again.indexed, again.unchanged) == (0, 0, 982)
        assert backend.count() == len(_families(records))
        short = tmp_path / "short.csv"
        short.write_bytes(b"".join(export.read_bytes().splitlines(keepends=True)[:501]))
        report = _import(records, backend, settings, short, mode="full")
        withdrawn = {p.sku for batch in records.iter_products() for p in batch if p.status == "withdrawn"}
        # Rows 500-999 are absent, but for row 705 whose SKU (DUP-1) row 205 still holds.
        assert report.withdrawn == len(withdrawn) == 499
        assert records.count_products() == 982
        # The index holds families, withdrawn with their parent: 50 parents (their 150
        # variants withdrawn alongside) and 299 standalone products.
        families = {root: skus for root, skus in _families(records).items() if root in withdrawn}
        assert all(skus <= withdrawn for skus in families.values())
        in_index = backend.search(SearchQuery(filters={"status": ("withdrawn",)}, size=1)).total
        assert in_index == len(families) == 349
        by_variant = backend.search(SearchQuery(filters={"status": ("withdrawn",), "sku": ("P0601",)}))
        assert [h.key for h in by_variant.hits] == ["P0600"]
        gone = records.get_product("P0600")
        assert gone is not None and gone.status == "withdrawn"

    def test_a_variant_moved_to_another_parent_leaves_its_old_family(
        self, records: Records, backend: SearchBackend, settings: Settings, export: Path, tmp_path: Path
    ) -> None:
        _import(records, backend, settings, export)
        moved = tmp_path / "moved.csv"
        row = {"sku": "P0012", "parent_sku": "P0020", "color": "Black", "size": "M", "price": "22.50"}
        moved.write_text(",".join(HEADER) + "\n" + ",".join(row.get(c, "") for c in HEADER) + "\n")
        _import(records, backend, settings, moved)
        by_variant = backend.search(SearchQuery(filters={"sku": ("P0012",)}))
        assert [h.key for h in by_variant.hits] == ["P0020"]
        old = backend.search(SearchQuery(filters={"sku": ("P0010",)}, facets=("color",)))
        assert [h.key for h in old.hits] == ["P0010"]
        variants = cast(list[dict[str, Any]], old.hits[0].stored["variants"])
        assert {v["sku"] for v in variants} == {"P0011", "P0013"}
        assert {f.value for f in old.facets["color"]} == {"Green", "White"}  # P0012's black left with it

    def test_completeness_is_filterable_and_follows_the_channel_rules(
        self, records: Records, backend: SearchBackend, settings: Settings, export: Path
    ) -> None:
        _import(records, backend, settings, export)
        ready = {p.sku for batch in records.iter_products() for p in batch if _web(p.completeness)["ready"]}
        # Not ready for web: the 97 valid rows without a brand (i % 10 == 9) and the 97 without
        # a French description (i % 10 == 8); variants inherit all their parent has.
        assert len(ready) == 982 - 97 - 97
        families = _families(records)
        assert all((root in ready) == (sku in ready) for root, skus in families.items() for sku in skus)
        # A family document carries its parent's completeness: one hit per ready family.
        hits = backend.search(SearchQuery(filters={"ready_for": ("web",)}, size=1))
        assert hits.total == len([root for root in families if root in ready]) == 682 - 97 - 97
        by_variant = backend.search(SearchQuery(filters={"ready_for": ("web",), "sku": ("P0012",)}))
        assert [h.key for h in by_variant.hits] == ["P0010"]
        channels = dict(load_channels(CHANNELS))
        channels["web"] = channels["web"].model_copy(update={"required": ["name", "price"], "locales": ["en_US"]})
        refresh = recompute_completeness(records=records, backend=backend, channels=channels)
        backend.refresh()
        assert refresh.index_failed == 0 and refresh.changed > 0
        assert backend.search(SearchQuery(filters={"ready_for": ("web",)}, size=1)).total == len(families)


class TestOnTheEmbeddedEngine(ImportOnAnEngine):
    @pytest.fixture
    def backend(self, settings: Settings) -> Iterator[SearchBackend]:
        engine = EmbeddedBackend(settings.index_dir, settings.search)
        engine.ensure_ready()
        yield engine
        engine.close()


class TestOnOpenSearch(ImportOnAnEngine):
    @pytest.fixture
    def backend(self, opensearch_url: str, unique_prefix: str) -> Iterator[SearchBackend]:
        module = pytest.importorskip(
            "discovery.store.index.opensearch", reason="the OpenSearch engine is not there yet"
        )
        engine = module.OpenSearchBackend(url=opensearch_url, prefix=unique_prefix, search=SearchSettings())
        engine.ensure_ready()
        yield engine
        engine.drop()


def _families(records: Records) -> dict[str, set[str]]:
    """The index documents expected, from the records: one per product family, keyed by the
    parent's SKU, holding the SKUs of the parent and its variants (a variant whose parent is
    missing is a family of its own)."""
    products = [p for batch in records.iter_products() for p in batch]
    stored = {p.sku for p in products}
    families: dict[str, set[str]] = {}
    for product in products:
        root = product.parent_sku if product.parent_sku in stored else product.sku
        families.setdefault(root, set()).add(product.sku)
    return families
