"""Category and attribute suggestions on products go to review; accepting one changes the
product (and so its completeness)."""

from __future__ import annotations

import time

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


def test_a_product_without_category_or_colour_gets_suggestions_and_accepting_fills_them(catalog: Catalog) -> None:
    editor = {"X-API-Key": catalog.keys["editor"]}
    job = catalog.client.post(
        "/api/ingest/products", files={"file": ("s.jsonl", ROW, "application/json")}, headers=editor
    ).json()
    assert _wait(catalog, str(job["id"]))["state"] == "succeeded"
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
