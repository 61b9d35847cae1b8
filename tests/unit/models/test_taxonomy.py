"""The taxonomy file: the default loads, and every mistake is reported by its key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.errors import TaxonomyError
from models.taxonomy import DEFAULT_TAXONOMY, load_taxonomy, parse_taxonomy


@pytest.fixture
def doc() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def test_default_taxonomy_has_the_vocabulary_and_the_sample_catalog_tree() -> None:
    taxonomy = load_taxonomy()
    colours = {t.name.split(":")[1] for t in taxonomy.in_group("colour")}
    assert colours == {"black", "white", "red", "blue", "green", "yellow", "orange", "purple",
                       "pink", "brown", "grey", "beige"}  # fmt: skip
    assert {"material:leather", "material:cotton", "material:denim", "material:wool"} <= set(taxonomy.tags)
    assert {"background:white", "background:lifestyle", "pattern:striped"} <= set(taxonomy.tags)
    for path in ("Men/Tops/Hoodies", "Women/Shoes/Sneakers", "Kids/Bottoms/Jeans",
                 "Accessories/Bags/Backpacks", "Home/Kitchen/Mugs"):  # fmt: skip
        assert taxonomy.categories[path].is_leaf
    assert taxonomy.categories["Men/Tops/Hoodies"].tag == "category:hoodies"


def test_tags_carry_labels_per_locale_synonyms_prompts_and_parents() -> None:
    taxonomy = load_taxonomy()
    black = taxonomy.tag("colour:black")
    assert black.label_in("fr") == "noir" and black.label_in("de") == "schwarz"
    assert black.label_in("it") == "black"
    assert "a photo of a black product." in black.prompts
    assert "a photo of a jet black product." in black.prompts  # synonyms fill templates too
    assert taxonomy.ancestors("category:sneakers") == ["category:shoes"]
    assert taxonomy.find("colour", "Gray") is taxonomy.tag("colour:grey")
    assert taxonomy.find("colour", "noir") is black
    assert taxonomy.tag("background:white").prompts[0] == "a product photo on a plain white background."
    assert "orientation:square" not in {t.name for t in taxonomy.zero_shot_tags()}


def test_every_label_has_french_and_german() -> None:
    taxonomy = load_taxonomy()
    for tag in taxonomy.tags.values():
        assert set(tag.labels) == {"fr", "de"}, tag.name
    for category in taxonomy.categories.values():
        assert set(category.labels) == {"fr", "de"}, category.path


def test_taxonomy_json_lists_groups_tags_and_categories() -> None:
    data = load_taxonomy().to_json()
    assert {"version", "locales", "groups", "tags", "categories"} <= set(data)
    assert any(c["path"] == "Men/Tops/Hoodies" for c in data["categories"])


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d["groups"]["colour"]["tags"]["black"].update(colour="x"), "groups.colour.tags.black.colour"),
        (lambda d: d["groups"]["colour"]["tags"]["red"]["labels"].update(it="rosso"),
         "groups.colour.tags.red.labels.it"),
        (lambda d: d["groups"]["category"]["tags"]["hoodies"].update(parents=["category:nope"]),
         "groups.category.tags.hoodies.parents[0]"),
        (lambda d: d["groups"]["colour"].update(threshold=1.5), "groups.colour.threshold"),
        (lambda d: d["groups"]["material"]["prompts"].append("no placeholder"), "groups.material.prompts[3]"),
        (lambda d: d["groups"]["pattern"]["tags"]["striped"].update(synonyms="stripes"),
         "groups.pattern.tags.striped.synonyms"),
        (lambda d: d["categories"]["Home"]["children"]["Kitchen"]["children"]["Mugs"].update(tag="category:cups"),
         "categories.Home.children.Kitchen.children.Mugs.tag"),
        (lambda d: d.update(colours={}), "colours"),
        (lambda d: d.update(groups=[]), "groups"),
    ],
)  # fmt: skip
def test_an_invalid_entry_is_reported_by_its_key(doc: dict[str, Any], mutate: Any, key: str) -> None:
    mutate(doc)
    with pytest.raises(TaxonomyError) as caught:
        parse_taxonomy(doc, source="taxonomy.yaml")
    assert caught.value.key == key
    assert str(caught.value).startswith(f"taxonomy.yaml: {key}: ")


def test_a_file_that_is_not_yaml_says_so(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("groups: [unclosed", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(path)
