"""An embedded index written before assets inherited their products' words (no `products`
text field, no `inherited_*` keywords) is rebuilt from the records at start, as other
layout changes are, after which the asset is found by its product's category word."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.config import Settings, TextSettings
from discovery.domain import Asset, Product
from discovery.services.asset_writes import reindex_assets
from discovery.services.context import Context
from discovery.services.search import SearchRequest, search
from discovery.store.index import tantivy_schema
from discovery.store.index.documents import INHERITED_KEYWORDS, KEYWORD_FIELDS, TEXT_WEIGHTS
from indexer.products.indexing import index_products


def _found(ctx: Context, q: str) -> list[str]:
    return [str(h["id"]) for h in search(ctx, SearchRequest(q=q, type="asset", mode="keyword"))["hits"]]


def test_an_index_from_before_inheritance_is_rebuilt_and_finds_assets_by_product_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False))
    with monkeypatch.context() as older:  # the layout of the version before
        older.setattr(tantivy_schema, "TEXT_WEIGHTS", {k: v for k, v in TEXT_WEIGHTS.items() if k != "products"})
        older.setattr(tantivy_schema, "KEYWORD_FIELDS", tuple(k for k in KEYWORD_FIELDS if k not in INHERITED_KEYWORDS))
        first = Context.open(settings)
        shoe = Product(sku="RUN-1", name="Trail Runner", categories=["Shoes/Sneakers"], status="approved")
        first.records.upsert_products([shoe])
        index_products(first.records, first.backend, ["RUN-1"])
        link = {"sku": "RUN-1", "how": "manifest"}
        asset = Asset(id="a-1", sha256="a" * 64, filename="IMG_1.png", media_type="image/png", product_skus=[link])
        first.records.upsert_assets([asset])
        reindex_assets(first, [asset])
        first.close()

    again = Context.open(settings)
    try:
        assert _found(again, "sneakers") == ["a-1"]
    finally:
        again.close()
