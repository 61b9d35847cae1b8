"""A small catalog for the keyword contract: words spelled several ways, plurals, typos,
sizes and colours written as catalogs write them, and rows of a real export format (a
Magento 2 CSV's columns) mapped by the shipped mapping, exactly as an import maps them.
"""

from __future__ import annotations

from discovery.domain import Asset, Product
from discovery.store.index import synonyms
from discovery.store.index.base import IndexDoc
from discovery.store.index.documents import asset_to_doc, product_to_doc
from indexer.products.mapping import MappedRow, Mapper
from indexer.products.mapping_spec import load_mapping
from models.taxonomy import load_taxonomy

# The taxonomy's synonyms plus a user's file, as the service loads them.
USER_SYNONYMS = "# a user's synonyms\nwindbreaker => anorak\n"
two_way, one_way = synonyms.parse(USER_SYNONYMS)
SYNONYMS = synonyms.build([*load_taxonomy().synonym_groups(), *two_way], one_way)


def _product(sku: str, name: str, category: str, **attributes: str) -> Product:
    return Product(sku=sku, name=name, brand="Kestrel", categories=[category], attributes=dict(attributes),
                   price=20.0, currency="EUR", status="approved")


PRODUCTS = [
    _product("TE-1", "Aurora Tee", "Men/Tops/Tees", size="XL", color="Gray"),
    _product("TE-2", "Summit Tee", "Women/Tops/Tees", size="xl", color="grey"),
    _product("TS-3", "Harbor T-Shirt", "Men/Tops/T-Shirts", size="M", color="Navy"),
    _product("SH-4", "Oxford Shirt", "Men/Tops/Shirts", size="m"),
    _product("SO-5", "Cargo Short", "Men/Bottoms/Shorts"),
    _product("HD-6", "Trail Hoodie", "Men/Tops/Hoodies"),
    _product("HD-7", "Ridge Hoodie", "Women/Tops/Hoodies"),
    _product("HD-8", "Hoody Beanie", "Accessories/Hats/Beanies"),  # one document says "Hoody"
    _product("JK-9", "Rain Jacket", "Men/Outerwear/Jackets"),
    _product("JK-10", "Storm Jacket", "Women/Outerwear/Jackets"),
    _product("JK-11", "Jaket Hanger", "Home/Storage"),  # a misspelling some document holds
    _product("DR-12", "Linen Dress", "Women/Dresses"),
    _product("AN-13", "Coastal Anorak", "Men/Outerwear/Anoraks"),
    _product("WB-14", "Windbreaker Vest", "Men/Outerwear/Vests"),
]

# Magento 2 export rows: names escaped for HTML, a multi-select joined by `|`.
MAGENTO_ROWS = [
    {"sku": "MB-1", "name": "Fusion Backpack&trade;", "product_type": "simple", "price": "59",
     "description": "<p>Roomy &amp; light</p>", "additional_attributes": "material=Nylon|Polyester,color=Black"},
    {"sku": "MB-2", "name": "Voyage Duffle &reg;", "product_type": "simple", "price": "45",
     "description": "<p>Weekend bag</p>", "additional_attributes": "material=Nylon,color=Gray"},
]

ASSETS = [
    Asset(id="img-grey", sha256="g" * 64, filename="grey-tee.jpg", media_type="image/jpeg", title="Grey tee",
          colors=[{"name": "grey", "share": 0.8}]),
]


def magento_products() -> list[Product]:
    mapper = Mapper(load_mapping("magento2"))
    out = []
    for line, row in enumerate(MAGENTO_ROWS, start=2):
        mapped = mapper.map(line, dict(row))
        assert isinstance(mapped, MappedRow) and mapped.product is not None, mapped
        out.append(mapped.product)
    return out


def keyword_docs() -> list[IndexDoc]:
    products = PRODUCTS + magento_products()
    return [product_to_doc(p) for p in products] + [asset_to_doc(a) for a in ASSETS]
