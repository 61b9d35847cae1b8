"""The shopper (public) view is one rule, on both engines: only approved, non-withdrawn
products, only assets whose rights are valid and allow the caller's channel (a caller naming
no channel sees only assets no channel restricts), and no internal fields. The same rule
holds in search, the product and asset views, files and renditions, channel views and
feeds, similar assets and image search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.shop_support import ENGINES, Shop, catalog_rows, open_shop, png, settings_for


@pytest.fixture(scope="module", params=ENGINES)
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    settings = settings_for(request.param, tmp_path_factory.mktemp(f"public-{request.param}"), request)
    with open_shop(settings, request.param) as built:
        yield built


def _search_ids(shop: Shop, role: str | None, **params: str) -> set[str]:
    answer = shop.client.get("/api/search", params={"size": "100", **params}, headers=shop.as_role(role))
    assert answer.status_code == 200, answer.text
    return {str(h["id"]) for h in answer.json()["hits"]}


def test_withdrawn_product_leaves_public_search(shop: Shop) -> None:
    public = shop.as_role("public")
    assert "FULL-050" in _search_ids(shop, "public", q="FULL-050", mode="keyword")
    rows = [r for r in catalog_rows() if r[0] != "FULL-050"]
    job = shop.import_products(rows, mode="full")
    assert shop.ctx.records.get_product("FULL-050").status == "withdrawn", job  # type: ignore[union-attr]
    assert shop.client.get("/api/products/FULL-050", headers=public).status_code == 404
    for mode in ("keyword", "hybrid"):
        assert "FULL-050" not in _search_ids(shop, "public", q="FULL-050", mode=mode)
        assert "FULL-050" not in _search_ids(shop, "public", q="ember", mode=mode)
    assert "FULL-050" not in _search_ids(shop, "public", type="all")
    # Staff still find it, marked withdrawn.
    assert "FULL-050" in _search_ids(shop, "viewer", q="FULL-050", mode="keyword")
    # An import bringing it back without a status makes it a draft: hidden until approved.
    shop.import_products([["FULL-050", "", "Ember hoodie", "10", "EUR", ""]])
    assert shop.ctx.records.get_product("FULL-050").status == "draft"  # type: ignore[union-attr]
    assert "FULL-050" not in _search_ids(shop, "public", q="FULL-050", mode="keyword")


def test_imported_product_without_a_status_is_listed_for_shoppers(shop: Shop) -> None:
    assert shop.ctx.records.get_product("PUB-1").status == "approved"  # type: ignore[union-attr]
    assert "PUB-1" in _search_ids(shop, "public", q="jacket", mode="keyword")
    assert shop.client.get("/api/products/PUB-1", headers=shop.as_role("public")).status_code == 200


@pytest.mark.parametrize("sku", ["DRAFT-1", "REVIEW-1"])
def test_unapproved_product_is_hidden_from_shoppers_everywhere(shop: Shop, sku: str) -> None:
    public = shop.as_role("public")
    for params in ({"q": sku, "mode": "keyword"}, {"q": "ember"}, {"type": "all"}, {"q": "ember", "mode": "semantic"}):
        assert sku not in _search_ids(shop, "public", **params), params
    assert shop.client.get(f"/api/products/{sku}", headers=public).status_code == 404
    assert shop.client.get(f"/api/channels/web/products/{sku}", headers=public).status_code == 404
    feed = shop.client.get("/api/channels/web/feed", headers=public)
    assert feed.status_code == 200 and sku not in feed.text and "PUB-2" in feed.text
    # Staff keep seeing it.
    assert sku in _search_ids(shop, "viewer", q=sku, mode="keyword")
    assert shop.client.get(f"/api/products/{sku}", headers=shop.as_role("viewer")).status_code == 200
    assert sku in shop.client.get("/api/channels/web/feed", headers=shop.as_role("viewer")).text


def test_not_ready_report_is_not_for_public_keys(shop: Shop) -> None:
    answer = shop.client.get("/api/channels/web/feed", params={"report": "true"}, headers=shop.as_role("public"))
    assert answer.status_code == 403


def test_public_product_view_has_no_status_and_no_hidden_asset_ids(shop: Shop) -> None:
    body = shop.client.get("/api/products/PUB-2", headers=shop.as_role("public")).json()
    assert "status" not in body
    shown = {shop.assets["free.png"]}
    assert set(body["asset_ids"]) <= shown
    assert {a["id"] for a in body["assets"]} == shown
    web = shop.client.get("/api/products/PUB-2", params={"channel": "web"}, headers=shop.as_role("public")).json()
    assert {a["id"] for a in web["assets"]} == {shop.assets["free.png"], shop.assets["web-only.png"]}
    internal = shop.client.get("/api/products/PUB-2", headers=shop.as_role("viewer")).json()
    assert internal["status"] == "approved" and len(internal["assets"]) == 4


def test_public_asset_view_has_no_phash_or_collections(shop: Shop) -> None:
    body = shop.client.get(f"/api/assets/{shop.assets['free.png']}", headers=shop.as_role("public")).json()
    assert "phash" not in body and "collections" not in body
    draft_image = shop.client.get(f"/api/assets/{shop.assets['of-draft.png']}", headers=shop.as_role("public")).json()
    assert draft_image["product_skus"] == [] and draft_image["products"] == []


def test_collections_facet_is_not_for_public_keys(shop: Shop) -> None:
    assert shop.client.get("/api/collections", headers=shop.as_role("public")).status_code == 403
    params = {"type": "asset", "facets": "collections"}
    answer = shop.client.get("/api/search", params=params, headers=shop.as_role("public"))
    assert answer.status_code == 400 and answer.json()["field"] == "collections"


@pytest.mark.parametrize(
    ("name", "channel", "visible"),
    [
        ("free.png", None, True),
        ("free.png", "print", True),
        ("expired.png", None, False),
        ("expired.png", "web", False),
        ("print-only.png", None, False),
        ("print-only.png", "web", False),
        ("print-only.png", "print", True),
        ("web-only.png", "web", True),
    ],
)
def test_one_channel_rule_for_asset_views_files_renditions_and_search(
    shop: Shop, name: str, channel: str | None, visible: bool
) -> None:
    asset_id = shop.assets[name]
    params = {"channel": channel} if channel else {}
    public = shop.as_role("public")
    answers = [
        shop.client.get(f"/api/assets/{asset_id}", params=params, headers=public).status_code,
        shop.client.get(f"/api/assets/{asset_id}/file", params=params, headers=public).status_code,
        shop.client.get(f"/api/assets/{asset_id}/renditions/thumbnail", params=params, headers=public).status_code,
    ]
    assert answers == ([200] * 3 if visible else [404] * 3)
    found = asset_id in _search_ids(shop, "public", type="asset", **params)
    assert found is visible
    # Staff see every asset, whatever the channel.
    assert shop.client.get(f"/api/assets/{asset_id}/file", headers=shop.as_role("viewer")).status_code == 200


def test_similar_and_image_search_follow_the_public_rule(shop: Shop) -> None:
    public = shop.as_role("public")
    hidden = {shop.assets[n] for n in ("expired.png", "print-only.png", "web-only.png")}
    similar = shop.client.get(f"/api/assets/{shop.assets['free.png']}/similar", params={"k": 50}, headers=public)
    assert similar.status_code == 200
    ids = {h["id"] for h in similar.json()["hits"]}
    assert ids and not ids & hidden
    files = {"file": ("probe.png", png((30, 200, 200)), "image/png")}
    found = shop.client.post("/api/search/image", files=files, data={"k": "50"}, headers=public).json()
    ids = {h["id"] for h in found["hits"]}
    assert shop.assets["of-draft.png"] in ids and not ids & hidden
    products = {p["sku"] for p in found["products"]}
    assert "DRAFT-1" not in products and "REVIEW-1" not in products
    assert all("DRAFT-1" not in h["product_skus"] for h in found["hits"])


def _hit(shop: Shop, role: str, want: str, **params: str) -> dict[str, object]:
    answer = shop.client.get("/api/search", params={"size": "100", **params}, headers=shop.as_role(role))
    return next(h for h in answer.json()["hits"] if h["id"] == want)  # type: ignore[no-any-return]


def _variant_skus(hit: dict[str, object]) -> list[str]:
    variants = hit["variants"]
    assert isinstance(variants, list)
    return [str(v["sku"]) for v in variants]


def test_search_hits_name_no_unlisted_variant_or_product(shop: Shop) -> None:
    shop.import_products([["PUB-2-RED", "PUB-2", "Ember boots red", "12", "EUR", "draft"]])
    assert _variant_skus(_hit(shop, "public", "PUB-2", q="boots", mode="keyword")) == []
    assert _variant_skus(_hit(shop, "viewer", "PUB-2", q="boots", mode="keyword")) == ["PUB-2-RED"]
    assert shop.client.get("/api/products/PUB-2", headers=shop.as_role("public")).json()["variants"] == []
    draft_image = shop.assets["of-draft.png"]
    assert _hit(shop, "public", draft_image, type="asset")["product_skus"] == []
    assert _hit(shop, "viewer", draft_image, type="asset")["product_skus"] == ["DRAFT-1"]
