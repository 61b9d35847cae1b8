"""A person's edit lands on the record as stored when it is written, on both engines: a review
decision that committed while an asset edit, a link change, a collection change, a workflow
move, a primary-image choice or a rendition's first making was on its way is kept. Each of
those used to write back the whole record it had read before the decision, and lost it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from discovery.domain import Asset, Product, Tag
from discovery.services import workflow
from discovery.store.records import Records
from tests.api.api_support import editor, import_rows, upload
from tests.api.conftest import Catalog

# A rejected tag: kept on the record like any decision, and nothing other tests of the shared
# session catalog see (no facet value, no queue item).
DECIDED = "style:quiet"


def _decision_after_first_read(
    monkeypatch: pytest.MonkeyPatch, records: Records, kind: str, key: str
) -> Callable[[], None]:
    """The next read of `key` is followed at once by a reviewer's decision on it, committed
    before the reader goes on: two requests interleaved at the worst moment. Returns what to
    call after the request: it makes the decision then if the request never read the record
    before its locked read-and-write (no window to interleave in)."""
    name = "get_asset" if kind == "asset" else "get_product"
    read: Callable[[str], Asset | Product | None] = getattr(records, name)
    made: list[bool] = []

    def decide() -> None:
        made.append(True)
        fresh = read(key)
        assert fresh is not None
        decided = Tag(name=DECIDED, source="human", status="rejected", decided_by="rev")
        records.tags.apply([(fresh, [*fresh.tags, decided])], [("rev", "tag.reject", f"{kind}:{key}", {})])

    def read_then_decide(wanted: str) -> Asset | Product | None:
        found = read(wanted)
        if wanted == key and not made:
            decide()
        return found

    monkeypatch.setattr(records, name, read_then_decide)
    return lambda: None if made else decide()


def _record(catalog: Catalog, kind: str, key: str) -> dict[str, Any]:
    answer = catalog.client.get(f"/api/{kind}s/{key}", headers=editor(catalog))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _decided(record: dict[str, Any]) -> list[str]:
    return [t["status"] for t in record["tags"] if t["name"] == DECIDED]


def _product_and_asset(catalog: Catalog, n: int) -> tuple[str, str]:
    """A product of the test's own and an upload its file name links to it."""
    sku = f"KPD-{n:06d}"
    row = {"sku": sku, "name": f"Vellumcraft satchel {n}", "categories": ["Bags/Vellumcraft"], "status": "approved"}
    assert import_rows(catalog, [row])["state"] == "succeeded"
    job = upload(catalog, [f"{sku.lower()}-front.png"])
    (linked,) = job["links"]["linked"]
    return sku, str(linked["asset_id"])


EDITS: dict[str, tuple[str, Callable[[Catalog, str, str], Any], Callable[[dict[str, Any], str, str], bool]]] = {
    "asset title": (
        "asset",
        lambda c, sku, a: c.client.patch(f"/api/assets/{a}", json={"title": "Quiet satchel"}, headers=editor(c)),
        lambda r, sku, a: r["title"] == "Quiet satchel",
    ),
    "unlink": (
        "asset",
        lambda c, sku, a: c.client.delete(f"/api/assets/{a}/links/{sku}", headers=editor(c)),
        lambda r, sku, a: not r["product_skus"],
    ),
    "rendition made on first download": (
        "asset",
        lambda c, sku, a: c.client.get(f"/api/assets/{a}/renditions/web", headers=editor(c)),
        lambda r, sku, a: True,
    ),
    "workflow move": (
        "product",
        lambda c, sku, a: c.client.post(f"/api/products/{sku}/status", json={"status": "in_review"}, headers=editor(c)),
        lambda r, sku, a: r["status"] == "in_review",
    ),
    "primary image": (
        "product",
        lambda c, sku, a: c.client.put(f"/api/products/{sku}/primary-image", json={"asset_id": a}, headers=editor(c)),
        lambda r, sku, a: r["primary_images"] == {"": a},
    ),
}


@pytest.mark.parametrize("what", list(EDITS))
def test_an_edit_keeps_a_decision_committed_while_it_was_on_its_way(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    kind, send, done = EDITS[what]
    sku, asset_id = _product_and_asset(catalog, 100 + list(EDITS).index(what))
    key = asset_id if kind == "asset" else sku
    records = catalog.client.app.state.ctx.records  # type: ignore[attr-defined]
    settle = _decision_after_first_read(monkeypatch, records, kind, key)
    answer = send(catalog, sku, asset_id)
    assert answer.status_code == 200, answer.text
    settle()
    record = _record(catalog, kind, key)
    assert _decided(record) == ["rejected"], f"{what} wrote back the record it read before the decision"
    assert done(record, sku, asset_id), record


def test_link_and_collection_changes_keep_a_decision_committed_while_they_were_on_their_way(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = catalog.client.app.state.ctx.records  # type: ignore[attr-defined]
    _, asset_id = _product_and_asset(catalog, 200)
    other, _ = _product_and_asset(catalog, 201)
    settle = _decision_after_first_read(monkeypatch, records, "asset", asset_id)
    linked = catalog.client.post(f"/api/assets/{asset_id}/links", json={"sku": other}, headers=editor(catalog))
    assert linked.status_code == 200, linked.text
    settle()
    record = _record(catalog, "asset", asset_id)
    assert _decided(record) == ["rejected"] and {"sku": other, "how": "manual"} in record["product_skus"]

    monkeypatch.undo()
    records.tags.apply([(records.get_asset(asset_id), [])], [("rev", "tag.undo", f"asset:{asset_id}", {})])
    made = catalog.client.post("/api/collections", json={"name": "Vellumcraft shoot"}, headers=editor(catalog))
    assert made.status_code == 201, made.text
    settle = _decision_after_first_read(monkeypatch, records, "asset", asset_id)
    members = {"add": [asset_id], "remove": []}
    changed = catalog.client.post(f"/api/collections/{made.json()['id']}/assets", json=members, headers=editor(catalog))
    assert changed.status_code == 200 and changed.json()["results"][0]["changed"], changed.text
    settle()
    record = _record(catalog, "asset", asset_id)
    assert _decided(record) == ["rejected"] and record["collections"] == ["Vellumcraft shoot"]


def test_a_workflow_move_from_a_status_another_person_changed_meanwhile_is_refused(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    records = ctx.records
    sku, _ = _product_and_asset(catalog, 300)
    read = records.get_product

    def read_then_move(wanted: str) -> Product | None:
        found = read(wanted)
        monkeypatch.undo()
        workflow.set_status(ctx, wanted, "draft", actor="other-editor")  # another editor's move lands first
        return found

    monkeypatch.setattr(records, "get_product", read_then_move)
    answer = catalog.client.post(f"/api/products/{sku}/status", json={"status": "in_review"}, headers=editor(catalog))
    assert answer.status_code == 409 and "draft" in answer.json()["detail"], answer.text
    assert _record(catalog, "product", sku)["status"] == "draft"
