from __future__ import annotations

from discovery.domain import Product
from indexer.products.variants import INHERITED, inherit, reinherit, strip_inherited


def parent() -> Product:
    return Product(
        sku="P",
        name="Hoodie",
        description="<p>Warm</p>",
        description_text="Warm",
        brand="Acme",
        categories=["Men/Tops"],
        price=50.0,
        currency="EUR",
        image_refs=["p.jpg"],
        attributes={"material": "cotton", "fit": "regular"},
        locales={"fr_FR": {"name": "Sweat"}},
    )


def test_a_variant_inherits_what_it_lacks_and_keeps_what_it_has() -> None:
    variant = Product(sku="P-R", parent_sku="P", price=55.0, attributes={"color": "red", "fit": "slim"})
    inherit(parent(), variant)
    assert (variant.name, variant.description_text, variant.brand, variant.categories) == (
        "Hoodie",
        "Warm",
        "Acme",
        ["Men/Tops"],
    )
    assert (variant.price, variant.currency) == (55.0, "EUR")
    assert variant.attributes["fit"] == "slim" and variant.attributes["material"] == "cotton"
    assert variant.locales == {"fr_FR": {"name": "Sweat"}}
    assert variant.image_refs == ["p.jpg"]


def test_what_was_inherited_is_recorded_and_can_be_undone() -> None:
    variant = Product(sku="P-R", parent_sku="P", attributes={"color": "red"})
    inherit(parent(), variant)
    assert "name" in variant.attributes[INHERITED] and "attributes.material" in variant.attributes[INHERITED]  # type: ignore[operator]
    strip_inherited(variant)
    assert variant == Product(sku="P-R", parent_sku="P", attributes={"color": "red"})


def test_a_variant_follows_its_parent_when_the_parent_changes() -> None:
    variant = Product(sku="P-R", parent_sku="P", attributes={"color": "red"})
    inherit(parent(), variant)
    changed = parent()
    changed.name = "Zip Hoodie"
    changed.attributes.pop("material")
    reinherit(changed, variant)
    assert variant.name == "Zip Hoodie"
    assert "material" not in variant.attributes and variant.attributes["color"] == "red"


def test_inheriting_twice_changes_nothing() -> None:
    once = Product(sku="P-R", parent_sku="P")
    inherit(parent(), once)
    twice = Product.from_json(once.to_json())
    reinherit(parent(), twice)
    assert twice == once
