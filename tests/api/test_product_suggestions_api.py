"""Category and attribute suggestions on products go to review; accepting one changes the
product (and so its completeness)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.conftest import Catalog

ROW = (
    b'{"sku": "SUGG-1", "name": "Storm red rain jacket", "description": "<p>A waterproof hooded jacket.</p>",'
    b' "brand": "Acme", "price": 99}\n'
)


def _wait(catalog: Catalog, job_id: str) -> dict[str, object]:
    for _ in range(200):
        job = catalog.client.get(f"/api/jobs/{job_id}", headers={"X-API-Key": catalog.keys["editor"]}).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def _imported(catalog: Catalog, name: str, rows: bytes) -> None:
    editor = {"X-API-Key": catalog.keys["editor"]}
    job = catalog.client.post(
        "/api/ingest/products", files={"file": (name, rows, "application/json")}, headers=editor
    ).json()
    assert _wait(catalog, str(job["id"]))["state"] == "succeeded"


def test_a_product_without_category_or_colour_gets_suggestions_and_accepting_fills_them(catalog: Catalog) -> None:
    _imported(catalog, "s.jsonl", ROW)
    product = catalog.client.get("/api/products/SUGG-1").json()
    tags = {t["name"]: t for t in product["tags"]}
    assert tags["attribute:color=red"]["status"] == "suggested"
    categories = sorted(
        (n for n in tags if n.startswith("category:path:")), key=lambda n: -float(tags[n]["confidence"])
    )
    # The sample catalog files its products in a tree of its own, but none of its 24 products is a
    # jacket: the taxonomy's Jackets (named by the product) joins the catalog's own suggestions.
    assert categories and len(categories) <= 3 and {tags[n]["source"] for n in categories} <= {"catalog", "text"}
    assert categories[0].endswith("/Outerwear/Jackets"), categories

    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    decisions = [
        {"target": {"type": "product", "id": "SUGG-1"}, "tag": "attribute:color=red", "decision": "accept"},
        {"target": {"type": "product", "id": "SUGG-1"}, "tag": categories[0], "decision": "accept"},
    ]
    results = catalog.client.post("/api/review/decisions", json=decisions, headers=reviewer).json()["results"]
    assert all(r["ok"] for r in results)
    after = catalog.client.get("/api/products/SUGG-1").json()
    assert after["attributes"]["color"] == "red"
    assert categories[0].removeprefix("category:path:") in after["categories"]
    found = catalog.client.get("/api/search", params={"filter.sku": "SUGG-1", "filter.color": "red"}).json()
    assert [h["id"] for h in found["hits"]] == ["SUGG-1"]


def test_the_review_queue_shows_what_each_product_suggestion_rests_on(catalog: Catalog) -> None:
    _imported(catalog, "e.jsonl", b'{"sku": "EVID-1", "name": "Harbour red rain jacket", "brand": "Acme"}\n')
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    queue = catalog.client.get(
        "/api/review/queue", params={"tag": "attribute:color=red", "limit": 500}, headers=reviewer
    ).json()
    [item] = [i for i in queue["items"] if i["target"]["id"] == "EVID-1"]
    assert item["evidence"] == "the name says “red”"
    categories = [
        i
        for source in ("catalog", "text")
        for i in catalog.client.get(
            "/api/review/queue", params={"source": source, "limit": 500}, headers=reviewer
        ).json()["items"]
        if i["target"]["id"] == "EVID-1"
    ]
    assert categories and all(i["evidence"] for i in categories)


GENDERED = b"".join(
    b'{"sku": "G-%d", "name": "%s", "brand": "Acme", "attributes": {"gender": "%s"}}\n' % (i, name, gender)
    for i, (name, gender) in enumerate(
        [(b"Trail vest", b"Male"), (b"Trail cap", b"Male"), (b"Trail top", b"Female"), (b"Trail skirt", b"Female"),
         (b"Trail scarf", b"Unisex"), (b"Trail bag", b"Unisex")]
    )
) + b'{"sku": "G-NEW", "name": "Women\'s trail jacket", "brand": "Acme"}\n'


def test_an_attribute_the_catalog_records_is_suggested_in_the_catalogs_own_words(catalog: Catalog) -> None:
    _imported(catalog, "g.jsonl", GENDERED)
    tags = {t["name"]: t for t in catalog.client.get("/api/products/G-NEW").json()["tags"]}
    assert tags["attribute:gender=Female"]["evidence"] == "the name says “women's”"
    assert not [n for n in tags if n.startswith("attribute:gender=") and n != "attribute:gender=Female"]

FAMILY = (
    b'{"sku": "FAM-1", "name": "Organic cotton hoodie", "description": "A soft hooded sweatshirt.", "price": 60}\n'
    b'{"sku": "FAM-1-S", "parent_sku": "FAM-1", "size": "S"}\n'
    b'{"sku": "FAM-1-M", "parent_sku": "FAM-1", "size": "M"}\n'
)


def test_variants_are_suggested_categories_from_their_family_vector_not_a_text_of_their_own(catalog: Catalog) -> None:
    from discovery.services.product_suggestions import suggest_for_products

    _imported(catalog, "f.jsonl", FAMILY)
    ctx = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    model = ctx.text()
    asked: list[str] = []
    encode = model.encode
    model.encode = lambda texts: (asked.extend(texts), encode(texts))[1]
    try:
        suggest_for_products(ctx, ["FAM-1-S", "FAM-1-M"])
    finally:
        model.encode = encode
    # The variants (which inherit the hoodie's name) are placed by their family document's
    # vector: no text of their own is embedded for them (each was, one call per chunk).
    assert "Organic cotton hoodie. A soft hooded sweatshirt." not in asked
    tags = catalog.client.get("/api/products/FAM-1-S").json()["tags"]
    assert [t for t in tags if t["name"].startswith("category:path:") and t["source"] == "catalog"]


def test_suggestions_written_while_a_reviewer_decides_on_the_product_keep_the_decision(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery.domain import Tag
    from discovery.services.product_suggestions import suggest_for_products

    rows = b'{"sku": "SUGG-RACE", "name": "Red wool coat", "brand": "Quillonworks"}\n'
    _imported(catalog, "race.jsonl", rows)
    records = catalog.client.app.state.ctx.records  # type: ignore[attr-defined]
    records.tags.replace_tags(records.get_product("SUGG-RACE"), [])  # as if suggesting for the first time
    apply = records.tags.apply

    def decision_first(writes: list[Any], audits: list[Any]) -> list[int]:
        monkeypatch.undo()  # a reviewer's decision lands between the suggester's read and its write
        fresh = records.get_product("SUGG-RACE")
        decided = Tag(name="material:wool", source="human", status="accepted", decided_by="rev")
        apply([(fresh, [*fresh.tags, decided])], [("rev", "tag.accept", "product:SUGG-RACE", {})])
        return apply(writes, audits)

    monkeypatch.setattr(records.tags, "apply", decision_first)
    assert suggest_for_products(catalog.client.app.state.ctx, ["SUGG-RACE"]) == 1  # type: ignore[attr-defined]
    tags = {t.name: t.status for t in records.get_product("SUGG-RACE").tags}
    assert tags["material:wool"] == "accepted" and tags["attribute:color=red"] == "suggested"
