"""A person's edit of records on SQLite and PostgreSQL (`Records.edits`): the change runs on the
record as stored when it is written, under its row lock, so edits and decisions made at the
same time all land; a change that refuses writes nothing; and a person's edit of a product
makes the next re-import read its row in full, where a tag decision does not. An import's
linking goes the same way."""

from __future__ import annotations

import threading

import pytest

from discovery.domain import Asset, Product, Tag
from discovery.store.records import Records


def _asset(asset_id: str) -> Asset:
    return Asset(id=asset_id, sha256="0" * 64, filename=f"{asset_id}.jpg", media_type="image/jpeg")


def _decide(records: Records, target: Asset | Product, name: str) -> None:
    key = f"asset:{target.id}" if isinstance(target, Asset) else f"product:{target.sku}"
    tag = Tag(name=name, status="accepted", decided_by="rev")
    records.tags.apply([(target, [*target.tags, tag])], [("rev", "tag.accept", key, {"tag": name})])


def test_an_edit_lands_on_the_record_as_stored_now_not_as_it_was_read(records: Records) -> None:
    records.upsert_assets([_asset("a1")])
    read = records.get_asset("a1")
    assert read is not None
    _decide(records, read, "decided")  # commits after the editor's read, before its write

    def retitle(asset: Asset) -> bool:
        asset.title = "Retitled"
        return True

    saved = records.edits.asset("a1", retitle)
    stored = records.get_asset("a1")
    assert saved is not None and stored is not None
    assert stored.title == saved.title == "Retitled"
    assert [t.name for t in stored.tags] == ["decided"]
    assert [item.tag for item in records.tags.queue()[0]] == [], "the tag index follows the stored tags"


def test_concurrent_edits_of_one_asset_each_land(records: Records) -> None:
    records.upsert_assets([_asset("a2")])
    names = [f"shoot-{i}" for i in range(8)]
    start = threading.Barrier(len(names))

    def add(name: str) -> None:
        start.wait()

        def join(asset: Asset) -> bool:
            asset.collections = [*asset.collections, name]
            return True

        records.edits.asset("a2", join)

    threads = [threading.Thread(target=add, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = records.get_asset("a2")
    assert stored is not None and sorted(stored.collections) == names


def test_a_change_that_refuses_writes_nothing(records: Records) -> None:
    records.upsert_assets([_asset("a3"), _asset("a4")])

    def refuse_a4(asset: Asset) -> bool:
        asset.title = "changed"
        if asset.id == "a4":
            raise ValueError("no")
        return True

    with pytest.raises(ValueError):
        records.edits.assets(["a3", "a4"], refuse_a4)
    assert [records.get_asset(i).title for i in ("a3", "a4")] == ["", ""]  # type: ignore[union-attr]
    assert records.edits.asset("missing", refuse_a4) is None


def test_a_persons_product_edit_makes_the_next_reimport_read_the_row_and_a_decision_does_not(
    records: Records,
) -> None:
    records.upsert_products([Product(sku="S-1", name="Parka")], import_hashes={"S-1": "row-1"})
    assert records.import_states(["S-1"]) == {"S-1": "row-1"}
    product = records.get_product("S-1")
    assert product is not None
    _decide(records, product, "warm")
    assert records.import_states(["S-1"]) == {"S-1": "row-1"}, "tags are not an import's to set"

    def review(stored: Product) -> bool:
        stored.status = "in_review"
        return True

    saved = records.edits.product("S-1", review)
    assert saved is not None and saved.status == "in_review" and [t.name for t in saved.tags] == ["warm"]
    assert records.import_states(["S-1"]) == {}
    assert records.edits.product("S-1", lambda stored: False) is None


def test_an_imports_linking_keeps_a_decision_made_on_the_asset_while_it_ran(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexer.assets.linking import link_products

    records.upsert_assets([Asset(id="a5", sha256="5" * 64, filename="ZZZ-0005.jpg", media_type="image/jpeg")])
    records.upsert_products([Product(sku="ZZZ-0005", name="Fifth")])
    decided: list[bool] = []
    read = records.get_assets

    def read_then_decide(ids: object) -> dict[str, Asset]:
        found = read(ids)  # type: ignore[arg-type]
        monkeypatch.undo()
        decide()
        return found

    def decide() -> None:
        decided.append(True)
        fresh = records.get_asset("a5")
        assert fresh is not None
        _decide(records, fresh, "style:calm")

    monkeypatch.setattr(records, "get_assets", read_then_decide)
    changed, report = link_products(records, [Product(sku="ZZZ-0005", name="Fifth")])
    if not decided:  # linking read nothing it wrote back from: the decision simply came first
        decide()
    stored = records.get_asset("a5")
    assert stored is not None and [a.id for a in changed] == ["a5"]
    assert [(x["sku"], x["how"]) for x in stored.product_skus] == [("ZZZ-0005", "filename_rule")]
    assert [t.name for t in stored.tags] == ["style:calm"]
    assert [(e["outcome"], e["sku"]) for e in report] == [("linked", "ZZZ-0005")]
