"""What an asset document inherits from its linked products (pure: `documents`)."""

from __future__ import annotations

from discovery.domain import Asset, Product, Tag
from discovery.store.index.documents import asset_to_doc, inherited_from, inherited_part

PARENT = Product(
    sku="HO-1",
    name="Harbour Hoodie",
    categories=["Men/Tops/Hoodies"],
    attributes={"material": "organic cotton"},
    tags=[Tag("cosy", status="accepted"), Tag("sporty", status="suggested")],
    status="approved",
)
VARIANT = Product(sku="HO-1-RED-M", parent_sku="HO-1", name="Harbour Hoodie - Red, M", attributes={"color": "gray"})
ASSET = Asset(id="a-1", sha256="0" * 64, filename="IMG_0001.jpg", media_type="image/jpeg", title="Studio shot")


def test_a_variant_lends_its_own_values_and_its_parents_where_it_has_none() -> None:
    item = inherited_from(VARIANT, PARENT)
    assert item.sku == "HO-1-RED-M" and item.name == "Harbour Hoodie - Red, M"
    assert item.colors == ("Grey",)  # its own colour, spelled as the colour facets spell it
    assert item.categories == ("Men/Tops/Hoodies",)  # the parent's
    assert item.materials == ("Organic Cotton",)
    assert item.tags == ("cosy",)  # accepted only: a suggestion is nobody's word yet


def test_inherited_values_are_their_own_field_and_facets_apart_from_the_assets_own() -> None:
    doc = asset_to_doc(ASSET, inherited=[inherited_from(VARIANT, PARENT)])
    assert doc.text["products"] == "Harbour Hoodie - Red, M Men Tops Hoodies Grey Organic Cotton cosy"
    assert doc.text["title"] == "Studio shot"
    assert "tags" not in doc.text and "tags" not in doc.keywords  # the asset's own tags stay its own
    assert doc.keywords["inherited_category"] == ["Men", "Men/Tops", "Men/Tops/Hoodies"]
    assert doc.keywords["inherited_color"] == ["Grey"]
    assert doc.keywords["inherited_material"] == ["Organic Cotton"]
    assert "colors" not in doc.keywords  # pixels' colours are another facet


def test_an_asset_without_listed_products_inherits_nothing() -> None:
    doc = asset_to_doc(ASSET)
    assert "products" not in doc.text
    assert not any(name.startswith("inherited_") for name in doc.keywords)
    assert inherited_part(doc) == ("", ((), (), ()))


def test_the_inherited_part_compares_equal_whatever_the_spelling_an_engine_gave_back() -> None:
    doc = asset_to_doc(ASSET, inherited=[inherited_from(VARIANT, PARENT)])
    as_read_back = asset_to_doc(ASSET, inherited=[inherited_from(VARIANT, PARENT)])
    as_read_back.keywords["inherited_color"] = ["grey"]
    assert inherited_part(doc) == inherited_part(as_read_back)
    moved = asset_to_doc(ASSET, inherited=[inherited_from(PARENT)])
    assert inherited_part(doc) != inherited_part(moved)
