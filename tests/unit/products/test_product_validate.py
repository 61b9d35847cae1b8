from __future__ import annotations

import pytest

from discovery.domain import Product
from indexer.products.mapping_spec import RuleSpec
from indexer.products.validate import Validator


def product(**values: object) -> Product:
    return Product(**{"sku": "A1", **values})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "values", "reason"),
    [
        (RuleSpec(field="name", required=True), {}, "name is required"),
        (
            RuleSpec(field="attributes.ean", regex=r"\d{13}"),
            {"attributes": {"ean": "12345"}},
            r"attributes.ean '12345' does not match \d{13}",
        ),
        (RuleSpec(field="name", max_length=5), {"name": "Sweater"}, "name is 7 long, longer than 5"),
        (RuleSpec(field="name", min_length=3), {"name": "ab"}, "name is 2 long, shorter than 3"),
        (RuleSpec(field="price", min=1, max=100), {"price": 0.5}, "price 0.5 is below the minimum 1"),
        (
            RuleSpec(field="attributes.weight", max=30),
            {"attributes": {"weight": {"value": 31.0, "unit": "kg"}}},
            "attributes.weight 31.0 is above the maximum 30",
        ),
        (
            RuleSpec(field="attributes.tags", options=["a", "b"]),
            {"attributes": {"tags": ["a", "c"]}},
            "attributes.tags 'c' is not one of a, b",
        ),
        (
            RuleSpec(field="attributes.size", type="number"),
            {"attributes": {"size": "M"}},
            "attributes.size is not a number: 'M'",
        ),
        (
            RuleSpec(field="locales.fr_FR.name", required=True),
            {"locales": {"de_DE": {"name": "x"}}},
            "locales.fr_FR.name is required",
        ),
        (RuleSpec(field="price", min=1, message="too cheap"), {"price": 0.0}, "too cheap"),
    ],
)
def test_each_rule_kind_names_the_field_and_why(rule: RuleSpec, values: dict[str, object], reason: str) -> None:
    assert Validator([rule]).check(product(**values)) == (rule.field, reason)


def test_a_product_meeting_every_rule_passes() -> None:
    rules = [RuleSpec(field="name", required=True, max_length=20), RuleSpec(field="attributes.ean", regex=r"\d{13}")]
    assert Validator(rules).check(product(name="Tee", attributes={"ean": "1234567890123"})) is None


def test_the_sku_is_always_required_and_bounded() -> None:
    assert Validator().check(product(sku="")) == ("sku", "sku is required")
    assert Validator().check(product(sku="x" * 256)) == ("sku", "sku is 256 long, longer than 255")


def test_a_variant_row_may_leave_required_fields_to_its_parent_until_it_has_inherited() -> None:
    validator = Validator([RuleSpec(field="name", required=True)], {"web": [RuleSpec(field="price", required=True)]})
    variant = product(parent_sku="P", channels=["web"])
    assert validator.check(variant, relaxed=True) is None
    assert validator.check(variant) == ("name", "name is required")


def test_channel_rules_apply_to_products_assigned_to_the_channel() -> None:
    validator = Validator(channel_rules={"marketplace": [RuleSpec(field="price", min=0.01)]})
    assert validator.check(product(price=0.0)) is None
    assert validator.check(product(price=0.0, channels=["marketplace"])) == (
        "price",
        "channel marketplace: price 0.0 is below the minimum 0.01",
    )


def test_a_product_cannot_be_its_own_parent() -> None:
    assert Validator().check(product(parent_sku="A1")) == ("parent_sku", "parent_sku is the product's own SKU")
