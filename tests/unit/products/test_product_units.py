from __future__ import annotations

import pytest

from indexer.products.units import UnitError, parse_number, quantity


def test_grams_become_kilograms_and_the_written_value_is_kept() -> None:
    assert quantity("1500 g") == {"value": 1.5, "unit": "kg", "original": "1500 g"}
    assert quantity("1.5 kg") == {"value": 1.5, "unit": "kg", "original": "1.5 kg"}
    assert quantity("300g")["value"] == pytest.approx(0.3)


def test_inches_become_centimetres() -> None:
    assert quantity("12 in") == {"value": 30.48, "unit": "cm", "original": "12 in"}
    assert quantity('12"')["value"] == pytest.approx(30.48)


def test_a_bare_number_takes_the_column_unit_and_says_so_in_the_original() -> None:
    assert quantity("650", default_unit="g") == {"value": 0.65, "unit": "kg", "original": "650 g"}


def test_akeneo_unit_codes_are_understood() -> None:
    assert quantity("180", default_unit="GRAM")["value"] == pytest.approx(0.18)
    assert quantity("2 KILOGRAM", target_unit="g")["value"] == pytest.approx(2000)


def test_a_length_where_a_mass_is_expected_is_refused() -> None:
    with pytest.raises(UnitError, match="length"):
        quantity("12 in", target_unit="kg")


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(UnitError, match="unknown unit"):
        quantity("3 parsecs")


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.5", 1.5), ("1,5", 1.5), ("1 234,50", 1234.5), ("1,234.50", 1234.5), ("1'234.5", 1234.5), ("1,500", 1500.0)],
)
def test_numbers_as_people_write_them(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "1.2.3x"])
def test_what_is_not_a_finite_number_is_refused(text: str) -> None:
    with pytest.raises(UnitError):
        parse_number(text)
