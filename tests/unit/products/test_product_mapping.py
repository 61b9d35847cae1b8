from __future__ import annotations

from pathlib import Path

import pytest

from discovery.errors import NotFound
from indexer.products.mapping import MappedRow, Mapper
from indexer.products.mapping_spec import MappingError, list_mappings, load_mapping, parse_mapping, save_mapping
from indexer.products.report import Reject


def mapped(row: dict[str, object], mapping: str | None = None) -> MappedRow:
    result = Mapper(parse_mapping(mapping) if mapping else None).map(2, row)  # type: ignore[arg-type]
    assert isinstance(result, MappedRow), result
    return result


def refused(row: dict[str, object], mapping: str | None = None) -> Reject:
    result = Mapper(parse_mapping(mapping) if mapping else None).map(7, row)  # type: ignore[arg-type]
    assert isinstance(result, Reject), result
    return result


def test_canonical_headers_need_no_mapping() -> None:
    product = mapped(
        {
            "sku": " A1 ",
            "parent_sku": "",
            "name": "Cafe\u0301  noir",
            "description": "<p>Hot &amp; <b>strong</b></p>",
            "brand": "Acme",
            "categories": "Drinks > Coffee|Gifts/Mugs",
            "price": "3,50 €",
            "status": "Approved",
            "channels": "web|Marketplace",
            "Country of Origin": "Colombia",
        }
    ).product
    assert product is not None
    assert (product.sku, product.parent_sku, product.name, product.brand) == ("A1", None, "Café noir", "Acme")
    assert (product.description, product.description_text) == ("<p>Hot &amp; <b>strong</b></p>", "Hot & strong")
    assert product.categories == ["Drinks/Coffee", "Gifts/Mugs"]
    assert (product.price, product.currency, product.status) == (3.5, "EUR", "approved")
    assert product.channels == ["web", "marketplace"]
    assert product.attributes == {"country_of_origin": "Colombia"}


def test_locale_suffixed_columns_fill_locales() -> None:
    product = mapped(
        {
            "sku": "A",
            "name": "Tee",
            "name-fr_FR": "T-shirt",
            "description-de_DE": "<p>Weich</p>",
            "material-fr_FR": "Coton",
        }
    ).product
    assert product is not None
    assert product.locales == {
        "fr_FR": {"name": "T-shirt", "material": "Coton"},
        "de_DE": {"description": "Weich", "description_html": "<p>Weich</p>"},
    }


def test_image_columns_become_file_names() -> None:
    product = mapped(
        {
            "sku": "A",
            "image": "https://cdn.example.com/a/front.jpg?v=2",
            "images": "back.jpg|side.png",
            "image_3": "/x/top.webp",
        }
    ).product
    assert product is not None and product.image_refs == ["front.jpg", "back.jpg", "side.png", "top.webp"]


MAPPING = """
name: shop
columns:
  Code: sku
  Title: name
  Price: price
  Specs: {to: attributes, pairs: true}
  Colour: attributes.color
  Weight: {to: attributes.weight, unit: g}
  Tags: {to: attributes.tags, split: ","}
  Range: {to: categories, delimiter: ">", split: ";"}
  Internal: ignore
constants:
  channels: web
defaults:
  currency: EUR
attributes:
  color: {type: enum, options: [Red, Navy Blue], aliases: {marine: Navy Blue}}
  weight: {type: number, unit: kg}
  eco: {type: boolean}
  launch: {type: date}
  fabrics: {type: multi-enum, options: [cotton, wool]}
"""


def test_a_mapping_renames_splits_converts_and_sets_constants() -> None:
    product = mapped(
        {
            "Code": "X1",
            "Title": "Jumper",
            "Price": "40",
            "Colour": "navy BLUE",
            "Weight": "650",
            "Specs": "eco=yes, launch=2024-03-01,fabrics=Cotton|WOOL",
            "Tags": "warm, winter",
            "Range": "Men > Knitwear;Sale",
            "Internal": "do not import",
        },
        MAPPING,
    ).product
    assert product is not None
    assert (product.sku, product.name, product.price, product.currency, product.channels) == (
        "X1",
        "Jumper",
        40.0,
        "EUR",
        ["web"],
    )
    assert product.categories == ["Men/Knitwear", "Sale"]
    assert product.attributes == {
        "color": "Navy Blue",
        "weight": {"value": 0.65, "unit": "kg", "original": "650 g"},
        "eco": True,
        "launch": "2024-03-01",
        "fabrics": ["cotton", "wool"],
        "tags": ["warm", "winter"],
    }


def test_enum_aliases_resolve_to_the_option() -> None:
    product = mapped({"Code": "X1", "Colour": "Marine"}, MAPPING).product
    assert product is not None and product.attributes["color"] == "Navy Blue"


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (
            {"Code": "X1", "Colour": "chartreuse"},
            "Colour",
            "unknown option 'chartreuse' for color (allowed: Red, Navy Blue)",
        ),
        ({"Code": "X1", "Price": "cheap"}, "Price", "not a price: 'cheap'"),
        ({"Code": "X1", "Weight": "12 in"}, "Weight", "'12 in' is a length, expected a mass (kg)"),
        ({"Code": "X1", "Specs": "launch=2023-13-45"}, "Specs", "not a date: '2023-13-45' (expected YYYY-MM-DD)"),
        ({"Code": "X1", "Specs": "eco"}, "Specs", "expected key=value, got 'eco'"),
        ({"Code": "X1", "Specs": "fabrics=silk"}, "Specs", "unknown option 'silk' for fabrics (allowed: cotton, wool)"),
        ({"Code": "", "Title": "No code"}, "Code", "missing SKU"),
    ],
)
def test_a_bad_value_is_refused_naming_the_column(row: dict[str, object], field: str, reason: str) -> None:
    reject = refused(row, MAPPING)
    assert (reject.line, reject.field, reject.reason) == (7, field, reason)


def test_a_price_whose_currency_disagrees_is_refused() -> None:
    reject = refused({"sku": "A", "price": "5 USD", "currency": "EUR"})
    assert (reject.field, reject.reason) == ("price", "price is in USD but the currency says EUR")


def test_a_reject_keeps_the_sku_it_names() -> None:
    assert refused({"sku": "A", "price": "abc"}).sku == "A"


def test_unknown_mapping_keys_and_targets_are_refused_at_load() -> None:
    with pytest.raises(MappingError, match="colums"):
        parse_mapping("name: x\ncolums: {}\n")
    with pytest.raises(MappingError, match="unknown target 'nme'"):
        parse_mapping("name: x\ncolumns: {Title: nme}\n")
    with pytest.raises(MappingError, match="regex does not compile"):
        parse_mapping("name: x\nrules: [{field: sku, regex: '('}]\n")


def test_user_mappings_are_stored_by_name_and_shadow_shipped_ones(tmp_path: Path) -> None:
    assert {"shopify", "magento2", "akeneo"} <= set(list_mappings())
    save_mapping("shopify", "columns: {Handle: sku}\n", data_dir=tmp_path)
    save_mapping("mine", "columns: {Ref: sku}\n", data_dir=tmp_path)
    assert load_mapping("shopify", data_dir=tmp_path).column("Handle").to == "sku"  # type: ignore[union-attr]
    assert "mine" in list_mappings(data_dir=tmp_path)
    with pytest.raises(NotFound):
        load_mapping("nope", data_dir=tmp_path)
    with pytest.raises(MappingError, match="invalid mapping name"):
        load_mapping("../etc/passwd", data_dir=tmp_path)


def test_shopify_groups_share_option_names_and_feed_their_parent() -> None:
    mapper = Mapper(load_mapping("shopify"))
    first = mapper.map(
        2,
        {
            "Handle": "tee",
            "Title": "Tee",
            "Option1 Name": "Color",
            "Option1 Value": "Red",
            "Variant SKU": "T-R",
            "Variant Grams": "200",
            "Image Src": "https://x/t.jpg",
        },
    )
    second = mapper.map(
        3,
        {
            "Handle": "tee",
            "Title": "",
            "Option1 Name": "",
            "Option1 Value": "Blue",
            "Variant SKU": "T-B",
            "Variant Grams": "210",
            "Image Src": "",
        },
    )
    image_row = mapper.map(
        4,
        {
            "Handle": "tee",
            "Title": "",
            "Option1 Name": "",
            "Option1 Value": "",
            "Variant SKU": "",
            "Variant Grams": "",
            "Image Src": "https://x/t2.jpg",
        },
    )
    assert isinstance(first, MappedRow) and isinstance(second, MappedRow) and isinstance(image_row, MappedRow)
    assert first.product is not None and second.product is not None
    assert (first.product.parent_sku, first.product.attributes["color"], first.product.name) == ("tee", "Red", "")
    assert second.product.attributes["color"] == "Blue"
    assert first.parent is not None and (first.parent.name, first.parent.image_refs) == ("Tee", ["t.jpg"])
    assert image_row.product is None and image_row.parent is not None and image_row.parent.image_refs == ["t2.jpg"]


def test_a_shopify_variant_without_a_sku_is_named_by_its_handle_and_options() -> None:
    # Shopify lets variants go without a SKU; its public sample exports have none at all.
    mapper = Mapper(load_mapping("shopify"))
    row = {"Handle": "classic-varsity-top", "Title": "Classic Varsity Top", "Option1 Name": "Size",
           "Option1 Value": "Small", "Option2 Name": "Colour", "Option2 Value": "Navy Blue",
           "Variant SKU": "", "Variant Price": "60"}  # fmt: skip
    mapped = mapper.map(2, row)
    assert isinstance(mapped, MappedRow) and mapped.product is not None
    variant = mapped.product
    assert (variant.sku, variant.parent_sku) == ("classic-varsity-top-small-navy-blue", "classic-varsity-top")
    assert (mapped.product.price, mapped.product.attributes["size"]) == (60.0, "Small")


def test_a_shopify_product_with_one_default_variant_and_no_sku_is_its_handle() -> None:
    mapper = Mapper(load_mapping("shopify"))
    row = {"Handle": "ocean-blue-shirt", "Title": "Ocean Blue Shirt", "Option1 Name": "Title",
           "Option1 Value": "Default Title", "Variant SKU": "", "Variant Price": "50"}  # fmt: skip
    mapped = mapper.map(2, row)
    assert isinstance(mapped, MappedRow) and mapped.product is None  # no variant: the product itself
    parent = mapped.parent
    assert parent is not None
    assert (parent.sku, parent.name, parent.price) == ("ocean-blue-shirt", "Ocean Blue Shirt", 50.0)


def test_akeneo_scoped_columns_read_the_chosen_channel_and_the_default_locale_fills_plain_fields() -> None:
    mapper = Mapper(load_mapping("akeneo"))
    result = mapper.map(
        2,
        {
            "sku": "A",
            "name-en_US": "Mug",
            "name-fr_FR": "Tasse",
            "description-en_US-ecommerce": "<p>Big</p>",
            "description-en_US-mobile": "Small",
            "weight": "12",
            "weight-unit": "OUNCE",
        },
    )
    assert isinstance(result, MappedRow) and result.product is not None
    product = result.product
    assert (product.name, product.description, product.description_text) == ("Mug", "<p>Big</p>", "Big")
    assert product.locales["fr_FR"] == {"name": "Tasse"}
    assert product.attributes["weight"] == {"value": pytest.approx(0.3401943), "unit": "kg", "original": "12 OUNCE"}


def test_magento_children_and_store_view_translations() -> None:
    mapper = Mapper(load_mapping("magento2"))
    parent = mapper.map(
        2,
        {
            "sku": "MH01",
            "store_view_code": "",
            "name": "Hoodie",
            "configurable_variations": "sku=MH01-S,size=S|sku=MH01-M,size=M",
        },
    )
    french = mapper.map(3, {"sku": "MH01", "store_view_code": "fr", "name": "Sweat", "configurable_variations": ""})
    unknown = mapper.map(4, {"sku": "MH01", "store_view_code": "xx", "name": "?", "configurable_variations": ""})
    assert isinstance(parent, MappedRow) and parent.children == ["MH01-S", "MH01-M"]
    assert isinstance(french, MappedRow) and (french.translation, french.texts) == ("fr_FR", {"name": "Sweat"})
    assert isinstance(unknown, Reject) and unknown.field == "store_view_code"


def test_a_magento_multi_select_becomes_separate_values() -> None:
    spec = load_mapping("magento2")
    row = {"sku": "MB-1", "name": "Fusion Backpack&trade;", "additional_attributes":
           "material=Nylon|Polyester,activity=Gym|Hiking,color=Black"}
    product = Mapper(spec).map(2, row)
    assert isinstance(product, MappedRow) and product.product is not None
    assert product.product.name == "Fusion Backpack™"
    attributes = product.product.attributes
    assert (attributes["material"], attributes["activity"], attributes["color"]) == (
        ["Nylon", "Polyester"], ["Gym", "Hiking"], "Black"  # one value stays one value
    )


def test_akeneo_splits_only_multi_valued_attributes_on_commas() -> None:
    spec = load_mapping("akeneo")
    product = Mapper(spec).map(2, {"sku": "A1", "color": "red,blue", "care": "wash cold, dry flat"})
    assert isinstance(product, MappedRow) and product.product is not None
    assert product.product.attributes["color"] == ["red", "blue"]
    assert product.product.attributes["care"] == "wash cold, dry flat"  # text keeps its commas


def test_the_value_separator_is_configurable() -> None:
    spec = parse_mapping("name: mine\nvalue_separator: ';'\nmulti_valued: [tags]\n")
    product = Mapper(spec).map(2, {"sku": "A1", "tags": "a; b", "size": "S;M"})
    assert isinstance(product, MappedRow) and product.product is not None
    assert (product.product.attributes["tags"], product.product.attributes["size"]) == (["a", "b"], "S;M")
