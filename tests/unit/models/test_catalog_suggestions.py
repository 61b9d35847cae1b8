"""Category suggestions from product text, and attribute values among allowed options."""

from __future__ import annotations

import numpy as np
import pytest
from model_factories import catalog

from models.attributes import AttributeSuggester
from models.categories import CategorySuggester
from models.clip import ClipModel
from models.factory import load_clip, load_text
from models.taxonomy import Taxonomy, load_taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def clip() -> ClipModel:
    return load_clip("tiny", device="cpu", batch_size=32).load()


@pytest.fixture(scope="module")
def categories(taxonomy: Taxonomy) -> CategorySuggester:
    return CategorySuggester(load_text(device="cpu"), taxonomy)


@pytest.mark.parametrize(
    ("name", "description", "leaf"),
    [
        ("Aurora Trail Hoodie", "Soft cotton hoodie made to last.", "Tops/Hoodies"),
        ("Summit Ridge Boots", "Durable leather boots that keep their shape.", "Shoes/Boots"),
        ("Harbor Wave Mug", "Our classic mug in ceramic.", "Kitchen/Mugs"),
        ("Coastal Storm Jacket", "A waterproof rain jacket for mountain trails.", "Outerwear/Jackets"),
    ],
)
def test_the_text_model_ranks_the_right_category_first(
    categories: CategorySuggester, name: str, description: str, leaf: str
) -> None:
    top = categories.suggest(name, description, top_k=3)
    assert top[0].path.endswith(leaf)
    assert top[0].source == "text" and top[0].model.startswith("all-MiniLM-L6-v2@")
    assert top[0].confidence >= top[1].confidence >= top[2].confidence


def test_category_suggestions_are_leaves_of_the_tree(categories: CategorySuggester, taxonomy: Taxonomy) -> None:
    for s in categories.suggest("Lunar Orbit Beanie", "Warm wool beanie.", top_k=5):
        assert taxonomy.categories[s.path].is_leaf


def test_attribute_from_text_is_one_of_the_allowed_options(clip: ClipModel, taxonomy: Taxonomy) -> None:
    suggester = AttributeSuggester(clip, taxonomy)
    found = suggester.suggest("material", ["Leather", "Cotton", "Wool"], text="Soft merino wool sweater")
    assert found is not None and (found.value, found.source) == ("Wool", "text")  # via synonym
    # Text naming two options is ambiguous: no text suggestion, and here no other evidence.
    assert suggester.suggest("material", ["Leather", "Cotton"], text="leather upper, cotton lining") is None


def test_colour_attribute_uses_measured_colours_when_text_is_silent(clip: ClipModel, taxonomy: Taxonomy) -> None:
    found = AttributeSuggester(clip, taxonomy).suggest(
        "color",
        ["Black", "Grey", "Navy"],
        text="Aurora Trail Hoodie",
        colors=[{"name": "white", "share": 0.5}, {"name": "gray", "share": 0.4}],
    )
    assert found is not None and (found.value, found.source) == ("Grey", "rule")


def test_attribute_from_images_picks_among_the_options_only(clip: ClipModel, taxonomy: Taxonomy) -> None:
    vectors = clip.encode_images([image for _, image in catalog(seed=1, count=4)])
    suggester = AttributeSuggester(clip, taxonomy)
    options = ["Striped", "Checked", "Floral"]
    found = suggester.suggest("pattern", options, image_vectors=vectors)
    assert found is not None and found.value in options
    assert found.source == "clip" and found.model == clip.model_id
    protos = suggester._option_prototypes("pattern", tuple(options))
    assert protos.shape == (3, clip.dim) and np.allclose(np.linalg.norm(protos, axis=1), 1.0, atol=1e-5)
    assert suggester.suggest("pattern", [], image_vectors=vectors) is None


def test_gender_comes_from_the_words_spelled_as_the_catalog_spells_it(clip: ClipModel, taxonomy: Taxonomy) -> None:
    suggester = AttributeSuggester(clip, taxonomy)
    options = ["Male", "Female", "Unisex"]  # a Shopify export's Google Shopping / Gender values
    found = suggester.suggest("gender", options, fields=[("the name", "Women's Trail Runner"), ("the description", "")])
    assert found is not None and (found.value, found.source) == ("Female", "text")
    assert found.evidence == "the name says “women's”"
    fields = [("the name", "Trail Runner"), ("its category", "Men/Shoes")]
    from_path = suggester.suggest("gender", options, fields=fields)
    assert from_path is not None and from_path.value == "Male" and from_path.evidence == "its category says “men”"


def test_what_a_picture_cannot_show_is_never_guessed_from_it(clip: ClipModel, taxonomy: Taxonomy) -> None:
    vectors = clip.encode_images([image for _, image in catalog(seed=1, count=2)])
    suggester = AttributeSuggester(clip, taxonomy)
    assert suggester.suggest("material", ["Leather", "Cotton", "Wool"], image_vectors=vectors) is None
    assert suggester.suggest("gender", ["Male", "Female"], image_vectors=vectors) is None


def test_the_name_speaks_before_the_description(clip: ClipModel, taxonomy: Taxonomy) -> None:
    found = AttributeSuggester(clip, taxonomy).suggest(
        "color",
        ["Black", "Navy", "Grey"],
        fields=[("the name", "Navy Harbour Hoodie"), ("the description", "With black drawstrings.")],
    )
    assert found is not None and found.value == "Navy" and found.evidence == "the name says “navy”"


def test_a_field_naming_two_options_is_not_outvoted_by_a_quieter_one(clip: ClipModel, taxonomy: Taxonomy) -> None:
    found = AttributeSuggester(clip, taxonomy).suggest(
        "color",
        ["Black", "White", "Red"],
        fields=[("the name", "Black and white tee"), ("the description", "A red logo.")],
    )
    assert found is None


def test_every_attribute_suggestion_says_what_it_rests_on(clip: ClipModel, taxonomy: Taxonomy) -> None:
    suggester = AttributeSuggester(clip, taxonomy)
    measured = suggester.suggest("color", ["Black", "Grey"], colors=[{"name": "gray", "share": 0.62}])
    assert measured is not None and measured.evidence == "62% of the picture measures gray"
    vectors = clip.encode_images([image for _, image in catalog(seed=1, count=1)])
    seen = suggester.suggest("pattern", ["Striped", "Checked"], image_vectors=vectors)
    if seen is not None:  # the tiny random model may be unsure; when it speaks it says why
        assert seen.evidence.startswith("the picture look") and f"“{seen.value}”" in seen.evidence
