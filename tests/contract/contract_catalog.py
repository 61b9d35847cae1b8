"""A small catalog both engines index for the contract suite, and the oracle that
computes by hand what a query over it must answer.

Products have brands, category paths, colours, sizes, prices and one variant folded into
its parent (and indexed on its own, carrying `parent_sku`); assets carry CLIP-like
vectors of two models. Everything goes through `documents.product_to_doc` /
`asset_to_doc`, exactly as the indexer does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from discovery.domain import Asset, Product, Tag
from discovery.store.index.base import IndexDoc, SearchBackend
from discovery.store.index.documents import asset_to_doc, product_to_doc

CLIP = "clip-test@1"
OTHER_CLIP = "clip-other@1"
TEXT = "text-test@1"
DIM = 8


def unit(*values: float) -> list[float]:
    """An 8-d vector from its first components."""
    return [*values, *([0.0] * (DIM - len(values)))]


def make_product(
    sku: str, name: str, brand: str, category: str, price: float | None, updated: str, **kw: object
) -> Product:
    attributes = {k: kw.pop(k) for k in ("color", "size", "material") if k in kw}
    return Product(
        sku=sku,
        name=name,
        brand=brand,
        categories=[category],
        attributes=attributes,  # type: ignore[arg-type]
        price=price,
        currency="EUR",
        channels=["web"],
        status="approved",
        updated_at=f"{updated}T09:00:00+00:00",
        **kw,  # type: ignore[arg-type]
    )


VARIANT = make_product(
    "HD-100-BL", "Trail Hoodie Blue", "Acme", "Men/Tops/Hoodies", 45.0, "2024-01-11",
    color="blue", size="L", parent_sku="HD-100", description_text="The blue one.",
)

PRODUCTS: list[tuple[Product, list[float] | None]] = [
    (make_product("HD-100", "Trail Hoodie", "Acme", "Men/Tops/Hoodies", 49.0, "2024-01-10", color="red", size="M",
              material="fleece", description_text="Warm fleece hoodie for cold trail runs.",
              tags=[Tag("outdoor", status="accepted"), Tag("winter", status="suggested")]), unit(1.0)),
    (VARIANT, None),
    (make_product("HD-200", "Trail Hoodie Pro", "Acme", "Men/Tops/Hoodies", 89.0, "2024-02-01", color="black",
              size="L", description_text="Technical hoodie with a waterproof shell."), unit(0.9, 0.1)),
    (make_product("SW-300", "Café Crème Sweater", "Bolt", "Women/Tops/Sweaters", 59.0, "2024-03-05", color="beige",
              size="S", material="wool", description_text="Soft knit sweater in warm café tones."), unit(0, 1.0)),
    (make_product("TE-400", "Running Tee", "Bolt", "Men/Tops/Tees", 25.0, "2023-12-01", color="red", size="M",
              material="cotton", description_text="Lightweight shirt for running."), None),
    (make_product("TE-500", "Merino Running Tee", "Nordic", "Women/Tops/Tees", 65.0, "2024-04-01", color="green",
              size="S", material="wool", description_text="Merino wool tee for long runs."), None),
    (make_product("SH-600", "Trail Running Shoe", "Acme", "Men/Shoes/Running", 120.0, "2024-05-01", color="red",
              size="42", description_text="Grippy trail shoe with a rock plate."), None),
    (make_product("SH-700", "Road Running Shoe", "Bolt", "Women/Shoes/Running", 110.0, "2024-02-15", color="white",
              size="38", description_text="Cushioned road shoe."), None),
    (make_product("JK-800", "Rain Jacket", "Nordic", "Men/Outerwear/Jackets", 150.0, "2023-11-20", color="yellow",
              size="XL", description_text="Packable jacket. Use <b>carefully</b> & enjoy.",
              locales={"de": {"name": "Regenjacke", "description": "Wasserdichte Jacke"}}), None),
    (make_product("BP-900", "Canvas Backpack", "Nordic", "Accessories/Bags", None, "2024-01-01", color="green",
              description_text="Roomy canvas backpack."), None),
]


def _asset(asset_id: str, filename: str, title: str, **kw: object) -> Asset:
    media_type = "application/pdf" if filename.endswith(".pdf") else "image/jpeg"
    return Asset(id=asset_id, sha256=asset_id * 8, filename=filename, media_type=media_type, title=title, **kw)  # type: ignore[arg-type]


ASSETS: list[tuple[Asset, list[float] | None, str]] = [
    (_asset("a1", "red-hoodie-front.jpg", "Red hoodie front", background="white", width=2000, height=2000,
            usage={"views": 50}, product_skus=[{"sku": "HD-100"}], tags=[Tag("hoodie", status="accepted")]),
     unit(1.0), CLIP),
    (_asset("a2", "red-hoodie-back.jpg", "Red hoodie back", background="other", width=2000, height=2000,
            usage={"views": 10}, product_skus=[{"sku": "HD-100"}]), unit(0.95, 0.05), CLIP),
    (_asset("a3", "blue-shoe.jpg", "Blue shoe", background="transparent", width=800, height=600,
            usage={"views": 100}), unit(0, 1.0), CLIP),
    (_asset("a4", "size-chart.pdf", "Size chart", usage={}, text="Size chart for hoodies"), None, CLIP),
    (_asset("a5", "old-campaign.jpg", "Old campaign", background="white", width=1200, height=800,
            usage={"views": 5}, rights={"expires_at": "2020-01-01"}), unit(0.6, 0, 0.8), CLIP),
    (_asset("a6", "other-model.jpg", "Other model", background="white", width=1000, height=1000,
            usage={"views": 1}), unit(1.0), OTHER_CLIP),
    (_asset("a7", "hoodie-on-white.jpg", "Hoodie on white", background="white", width=1600, height=1200,
            usage={"views": 30}), unit(0.8, 0.6), CLIP),
]


def product_docs() -> list[IndexDoc]:
    docs = []
    for product, vector in PRODUCTS:
        variants = [VARIANT] if product.sku == "HD-100" else []
        docs.append(product_to_doc(product, variants=variants, text_vector=vector,
                                   vector_model=TEXT if vector else None))
    return docs


def asset_docs() -> list[IndexDoc]:
    return [asset_to_doc(a, image_vector=v, vector_model=m if v else None) for a, v, m in ASSETS]


def catalog_docs() -> list[IndexDoc]:
    return product_docs() + asset_docs()


@dataclass
class Oracle:
    """What the catalog holds, computed by hand (no engine involved)."""

    docs: list[IndexDoc]

    def ids(self, where: Callable[[IndexDoc], bool] = lambda d: True, *, type: str | None = "product") -> set[str]:
        return {d.id for d in self.select(where, type=type)}

    def select(
        self, where: Callable[[IndexDoc], bool] = lambda d: True, *, type: str | None = "product"
    ) -> list[IndexDoc]:
        return [d for d in self.docs if (type is None or d.type == type) and where(d)]

    def facet(self, field: str, docs: Iterable[IndexDoc]) -> dict[str, int]:
        return dict(Counter(v for d in docs for v in dict.fromkeys(d.keywords.get(field, []))))

    def by_id(self, doc_id: str) -> IndexDoc:
        return next(d for d in self.docs if d.id == doc_id)


def has(field: str, *values: str) -> Callable[[IndexDoc], bool]:
    return lambda d: any(v in d.keywords.get(field, []) for v in values)


@dataclass
class Catalog:
    """An engine loaded with the catalog, and the oracle over the same documents."""

    engine: SearchBackend
    oracle: Oracle
