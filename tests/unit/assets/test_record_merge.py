"""An ingest's changes laid onto an asset as stored: a field the ingest changed takes its
value, any other keeps what was stored meanwhile; tags, collections and links merge item by
item."""

from __future__ import annotations

from discovery.domain import Asset, Tag
from indexer.assets.record_merge import lay_onto, merged_json


def _asset(**kw: object) -> Asset:
    fields: dict[str, object] = {"id": "a1", "sha256": "0" * 64, "filename": "a.jpg", "media_type": "image/jpeg"}
    return Asset(**{**fields, **kw})  # type: ignore[arg-type]


def test_a_field_the_ingest_changed_takes_its_value_and_the_others_stay_as_stored() -> None:
    read = _asset(title="Old", description="")
    ours = _asset(title="Old", description="", sha256="1" * 64)  # a new version
    stored = _asset(title="Edited meanwhile", description="")
    assert lay_onto(stored, read.to_json(), ours)
    assert (stored.title, stored.sha256) == ("Edited meanwhile", "1" * 64)


def test_tags_collections_and_links_merge_item_by_item() -> None:
    suggested = Tag(name="link:WB05", source="rule", status="suggested")
    read = _asset(tags=[Tag(name="red", status="suggested")], collections=["spring", "old"])
    ours = _asset(tags=[Tag(name="red", status="suggested"), suggested], collections=["spring", "archive"],
                  product_skus=[{"sku": "WB05", "how": "manifest"}])  # fmt: skip
    stored = _asset(tags=[Tag(name="red", status="accepted", decided_by="rev")], collections=["spring", "old", "x"],
                    product_skus=[{"sku": "HAL-1", "how": "manual"}])  # fmt: skip
    lay_onto(stored, read.to_json(), ours)
    assert [(t.name, t.status) for t in stored.tags] == [("red", "accepted"), ("link:WB05", "suggested")]
    assert stored.collections == ["spring", "x", "archive"]  # the ingest took "old" away
    assert [x["sku"] for x in stored.product_skus] == ["HAL-1", "WB05"]


def test_nothing_changed_by_the_ingest_changes_nothing() -> None:
    read = _asset(title="Same")
    stored = _asset(title="Same", usage={"views": 4})
    assert not lay_onto(stored, read.to_json(), _asset(title="Same"))
    assert merged_json({"a": 1}, {"a": 1, "b": 2}, {"a": 1}) == {"a": 1}  # a key the ingest dropped
