"""Readable asset titles from file names and linked products (pure)."""

from __future__ import annotations

from discovery.services.asset_titles import clean_stem, display_title


def test_a_worded_file_stem_becomes_a_title() -> None:
    assert clean_stem("summer-lookbook_beach.jpg") == "Summer lookbook beach"
    assert clean_stem("folder/red.dress.final.png") == "Red dress final"


def test_camera_counters_and_hashes_are_not_titles() -> None:
    for name in ("IMG_0042.JPG", "DSC-1234.jpg", "20260101_120000.jpg", "3f2a9c0d1e2b4a5c6d7e8f90.png"):
        assert clean_stem(name) is None, name


def test_a_title_of_its_own_wins() -> None:
    assert display_title(title=" Hero shot ", filename="img_1.jpg", products=[("A-1", "Kettle")]) == "Hero shot"


def test_a_linked_product_names_the_asset_with_what_the_file_name_adds() -> None:
    products = [("mn-tsh-0001", "Classic Tee")]
    assert display_title(title="", filename="mn-tsh-0001-red_main.jpg", products=products) == "Classic Tee (red, main)"
    assert display_title(title="", filename="IMG_0042.jpg", products=products) == "Classic Tee"


def test_a_title_equal_to_the_file_name_is_no_title() -> None:
    assert display_title(title="IMG_0042.jpg", filename="IMG_0042.jpg") == "IMG_0042.jpg"
    assert display_title(title="beach_day.jpg", filename="beach_day.jpg") == "Beach day"


def test_the_product_the_file_is_named_after_lends_its_name_before_a_variant() -> None:
    products = [("MN-TSH-0001-RED-M", "Classic Tee - Red, M"), ("MN-TSH-0001", "Classic Tee")]
    assert display_title(title="", filename="mn-tsh-0001-red_main.jpg", products=products) == "Classic Tee (red, main)"
