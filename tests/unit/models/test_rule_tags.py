"""Tags from image facts and from linked products: pure functions over the taxonomy."""

from __future__ import annotations

import pytest

from models.rules import category_tag, orientation, product_tags, rule_tags
from models.taxonomy import Taxonomy, load_taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def test_image_facts_give_colour_background_and_orientation_tags(taxonomy: Taxonomy) -> None:
    tags = rule_tags(taxonomy, colors=[{"name": "white", "share": 0.6}, {"name": "gray", "share": 0.3},
                                       {"name": "red", "share": 0.05}],
                     background="white", width=800, height=1200)  # fmt: skip
    by_name = {s.tag: s for s in tags}
    assert set(by_name) == {"background:white", "colour:grey", "orientation:portrait"}
    assert by_name["colour:grey"].confidence == 0.3 and by_name["colour:grey"].source == "rule"
    assert all(s.model == "rules@1" for s in tags)


def test_white_is_a_colour_when_the_background_is_not(taxonomy: Taxonomy) -> None:
    tags = rule_tags(taxonomy, colors=[{"name": "white", "share": 0.5}], background="other")
    assert [s.tag for s in tags] == ["colour:white"]


@pytest.mark.parametrize(("w", "h", "expected"), [(1000, 1000, "square"), (1000, 980, "square"),
                                                  (1200, 800, "landscape"), (600, 900, "portrait")])  # fmt: skip
def test_orientation_reads_the_dimensions(w: int, h: int, expected: str) -> None:
    assert orientation(w, h) == expected


def test_an_image_linked_to_a_black_hoodie_gets_its_colour_and_category(taxonomy: Taxonomy) -> None:
    tags = product_tags(
        taxonomy,
        categories=["Men/Tops/Hoodies"],
        attributes={"color": "Black", "material": ["cotton", "fleece"], "size": "M"},
    )
    assert {s.tag for s in tags} == {"category:hoodies", "colour:black", "material:cotton", "material:fleece"}
    assert all(s.source == "product" for s in tags)


def test_a_category_without_a_tag_inherits_its_nearest_ancestors(taxonomy: Taxonomy) -> None:
    assert category_tag(taxonomy, "Women/Shoes/Sneakers") == "category:sneakers"
    assert category_tag(taxonomy, "Women/Shoes/Sandals") == "category:shoes"
    assert category_tag(taxonomy, "Garden/Tools") is None
