from __future__ import annotations

import pytest

from indexer.products.normalize import (
    attribute_name,
    category_path,
    clean_text,
    image_name,
    nfc,
    parse_bool,
    parse_currency,
    parse_date,
    parse_price,
    parse_status,
    strip_html,
)
from indexer.text import drop_controls


def test_text_is_nfc_with_whitespace_collapsed() -> None:
    assert nfc("Cafe\u0301") == "Café"
    assert clean_text("  Café\u00a0\u00a0noir \n\t x ") == "Café noir x"
    assert clean_text("Cafe\u0301  noir") == "Café noir"


def test_control_characters_are_dropped_tab_and_newline_kept() -> None:
    assert clean_text("Tee\x00 shirt\x07\x7f") == "Tee shirt"
    assert drop_controls("<p>a\x00b</p>\n\tc") == "<p>ab</p>\n\tc"


def test_html_is_stripped_to_searchable_text() -> None:
    html = "<p>Soft <b>cotton</b> &amp; wool</p><script>alert(1)</script><!-- note --><ul><li>Warm</li></ul>"
    assert strip_html(html) == "Soft cotton & wool Warm"


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("12.50", 12.5, None),
        ("12,50 €", 12.5, "EUR"),
        ("EUR 12.50", 12.5, "EUR"),
        ("$12.50", 12.5, "USD"),
        ("1 299,00 CHF", 1299.0, "CHF"),
        ("£7", 7.0, "GBP"),
    ],
)
def test_prices_carry_their_currency(text: str, amount: float, currency: str | None) -> None:
    assert parse_price(text) == (pytest.approx(amount), currency)


@pytest.mark.parametrize("text", ["abc", "12 EURO", "1.2.3", "free"])
def test_a_non_numeric_price_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"price|number"):
        parse_price(text)


def test_currency_codes_and_symbols() -> None:
    assert parse_currency("eur") == "EUR"
    assert parse_currency("€") == "EUR"
    with pytest.raises(ValueError, match="ISO 4217"):
        parse_currency("EURO")


def test_booleans_in_several_spellings() -> None:
    assert [parse_bool(v) for v in ("TRUE", "yes", "1", "oui", "false", "No", "0")] == [True] * 4 + [False] * 3
    with pytest.raises(ValueError, match="not a boolean"):
        parse_bool("maybe")


def test_dates_are_iso_or_the_given_format() -> None:
    assert parse_date("2024-05-01") == "2024-05-01"
    assert parse_date("2024-05-01T10:00:00Z") == "2024-05-01T10:00:00+00:00"
    assert parse_date("01/05/2024", "%d/%m/%Y") == "2024-05-01"
    with pytest.raises(ValueError, match="not a date"):
        parse_date("2023-13-45")


def test_statuses_are_case_folded_and_checked() -> None:
    assert parse_status("In Review") == "in_review"
    with pytest.raises(ValueError, match="unknown status"):
        parse_status("gone")


def test_category_paths_take_either_separator() -> None:
    assert category_path("Men > Tops > Hoodies") == "Men/Tops/Hoodies"
    assert category_path(" Men / Tops ") == "Men/Tops"
    assert category_path("Default Category/Gear/Bags", "/", drop_root=True) == "Gear/Bags"
    assert category_path("Home > T-Shirts/Tops") == "Home/T-Shirts-Tops"


def test_image_references_become_file_names() -> None:
    assert image_name("https://cdn.shopify.com/s/files/1/hoodie%20red.jpg?v=17") == "hoodie red.jpg"
    assert image_name("/m/h/mh01-black_main.jpg") == "mh01-black_main.jpg"
    assert image_name("C:\\images\\shoe.png") == "shoe.png"


def test_attribute_names_from_columns() -> None:
    assert attribute_name("Main Color") == "main_color"
    assert attribute_name("_inherited") == "inherited"


def test_html_character_references_are_decoded_in_plain_text_fields() -> None:
    assert clean_text("Fusion Backpack&trade;") == "Fusion Backpack™"
    assert clean_text("Caf&eacute; &#174; &#xAE;&nbsp;mug") == "Café ® ® mug"
    assert clean_text("AT&T R&D &amp; more") == "AT&T R&D & more"  # `&` alone is text
    assert clean_text("&notanentity; stays") == "&notanentity; stays"


def test_html_is_decoded_once() -> None:
    assert strip_html("<p>&amp;lt;b&amp;gt; is a tag</p>") == "&lt;b&gt; is a tag"


def test_colour_and_color_name_one_attribute() -> None:
    # Shopify's sample jewellery export names one product's option Color, another's Colour.
    assert attribute_name("Colour") == attribute_name("Color") == "color"
    assert attribute_name("Main Colour") == "main_colour"  # only the whole name is respelled
