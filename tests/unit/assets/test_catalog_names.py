"""What linking knows of the whole catalog is read once and then kept up to date by the
rows written since: a new or renamed file, a new SKU or a product's new image references
are seen at the next look, and what an earlier look handed out never changes under it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from discovery.domain import Asset, Product
from discovery.store.records import Records
from indexer.assets import links as lk
from indexer.assets.catalog_names import catalog_names
from indexer.assets.linking import link_products


@pytest.fixture
def records(tmp_path: Path) -> Iterator[Records]:
    records = Records.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    yield records
    records.close()


def _asset(asset_id: str, filename: str) -> Asset:
    return Asset(id=asset_id, sha256=asset_id.ljust(64, "0"), filename=filename, media_type="image/jpeg")


def test_new_and_renamed_files_are_seen_at_the_next_look_and_an_earlier_answer_stays_as_it_was(
    records: Records,
) -> None:
    records.upsert_assets([_asset("a1", "UIX-0001_main.jpg")])
    names = catalog_names(records)
    before = names.ids_by_name()
    assert before == {"uix-0001_main.jpg": ["a1"]}

    records.upsert_assets([_asset("a2", "UIX-0002.jpg"), _asset("a1", "renamed.jpg")])
    after = names.ids_by_name()
    assert after == {"uix-0001_main.jpg": [], "uix-0002.jpg": ["a2"], "renamed.jpg": ["a1"]}
    assert before == {"uix-0001_main.jpg": ["a1"]}  # handed out earlier: unchanged
    assert dict(names.asset_names()) == {"a1": "renamed.jpg", "a2": "UIX-0002.jpg"}


def test_new_skus_and_image_references_are_seen_at_the_next_look(records: Records) -> None:
    records.upsert_products([Product(sku="UIX-0001", name="One", image_refs=["one.jpg"])])
    names = catalog_names(records)
    first = names.sku_index()
    assert first.find("uix0001", "exact") == ["UIX-0001"]
    assert names.image_refs() == {"one.jpg": ["UIX-0001"]}

    records.upsert_products(
        [Product(sku="UIX-0002", name="Two"), Product(sku="UIX-0001", name="One", image_refs=["uno.jpg"])]
    )
    assert names.sku_index().find("0002", "suffix") == ["UIX-0002"]
    assert first.find("0002", "suffix") == []  # the earlier index is left as it was
    assert names.image_refs() == {"one.jpg": [], "uno.jpg": ["UIX-0001"]}


def test_an_index_grown_by_new_skus_answers_as_one_built_whole() -> None:
    skus = ["24-MB01", "24-MB02", "MB01", "WB-02-GREEN", "wb02"]
    grown = lk.SkuIndex(skus[:2]).with_skus(skus[2:])
    whole = lk.SkuIndex(skus)
    for token in ("MB01", "24mb01", "wb02", "GREEN", "02GREEN", "nothing"):
        for how in ("exact", "suffix"):
            assert sorted(grown.find(token, how)) == sorted(whole.find(token, how)), (token, how)


def test_a_product_arriving_after_its_file_is_linked_by_the_file_name_rule_among_many_files(records: Records) -> None:
    records.upsert_assets([_asset(f"a{i}", f"ZZZ-{i:04d}.jpg") for i in range(50)])
    records.upsert_products([Product(sku="ZZZ-0007", name="Seventh")])
    changed, report = link_products(records, list(records.get_products(["ZZZ-0007"]).values()))
    assert [a.id for a in changed] == ["a7"]
    assert [(e["outcome"], e["sku"]) for e in report] == [("linked", "ZZZ-0007")]
    # A second product later: the kept names serve it, and the first file stays its own.
    records.upsert_products([Product(sku="ZZZ-0008", name="Eighth")])
    changed, _ = link_products(records, list(records.get_products(["ZZZ-0008"]).values()))
    assert [a.id for a in changed] == ["a8"]
