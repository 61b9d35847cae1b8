"""Assets found by what their linked products say, through HTTP on the demo catalog (both
engines): the asset view lists the inherited values with the SKU of the product each came
from, and asset search finds the asset by a linked product's category word, with no
review, and counts the inherited facets."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Catalog


def _inheriting_asset(catalog: Catalog, role: str = "viewer") -> dict[str, Any]:
    """An asset of the demo whose view lists inherited values, as a caller of `role` sees it
    (other tests of the session may restrict an asset's rights: search skips what it hides)."""
    headers = {"X-API-Key": catalog.keys[role]}
    hits = catalog.client.get("/api/search", params={"type": "asset", "size": 100}, headers=headers).json()["hits"]
    for hit in hits:
        body = catalog.client.get(f"/api/assets/{hit['id']}", headers=headers).json()
        if body["inherited"]:
            return dict(body)
    raise AssertionError("no demo asset inherits from a product")


def test_the_asset_view_lists_inherited_values_with_the_sku_they_came_from(catalog: Catalog) -> None:
    asset = _inheriting_asset(catalog)
    linked = {str(link["sku"]) for link in asset["product_skus"]}
    for item in asset["inherited"]:
        assert set(item) == {"sku", "name", "categories", "colors", "materials", "tags"}
        assert item["sku"] in linked
        product = catalog.client.get(f"/api/products/{item['sku']}").json()  # a public caller sees it: listed
        parent = catalog.client.get(f"/api/products/{product['parent_sku']}").json() if product["parent_sku"] else {}
        assert item["name"] == product["name"]
        assert item["categories"] == (product["categories"] or parent.get("categories"))
        assert item["categories"], "every demo product has a category"


def test_asset_search_finds_an_asset_by_its_products_category_word_in_keyword_and_hybrid_mode(
    catalog: Catalog,
) -> None:
    asset = _inheriting_asset(catalog)
    path = str(asset["inherited"][0]["categories"][0])
    word = path.split("/")[-1].lower()  # e.g. "hoodies": in no file name of the demo
    for mode in ("keyword", "hybrid"):
        params = {"type": "asset", "q": word, "mode": mode, "size": 100, "facets": "inherited_category,inherited_color"}
        body = catalog.client.get("/api/search", params=params).json()
        assert asset["id"] in [h["id"] for h in body["hits"]], (mode, word)
        categories = {v["value"]: v["count"] for v in body["facets"]["inherited_category"]}
        assert categories.get(path, 0) >= 1, (mode, categories)
    keyword = catalog.client.get("/api/search", params={"type": "asset", "q": word, "mode": "keyword", "size": 100})
    for hit in keyword.json()["hits"]:  # every keyword match says the word, itself or through a product
        view = catalog.client.get(f"/api/assets/{hit['id']}").json()
        words = " ".join([view["filename"], *(c for i in view["inherited"] for c in i["categories"])]).lower()
        assert word.rstrip("s") in words


def test_a_public_caller_sees_only_values_inherited_from_listed_products(catalog: Catalog) -> None:
    public = _inheriting_asset(catalog, "public")
    shown = {str(link["sku"]) for link in public["product_skus"]}
    assert {i["sku"] for i in public["inherited"]} <= shown
    for item in public["inherited"]:
        assert catalog.client.get(f"/api/products/{item['sku']}").status_code == 200  # listed: a shopper sees it
