"""Category suggestions in the catalog's own tree, from the products it already files (real MiniLM)."""

from __future__ import annotations

import pytest

from models.catalog_categories import CatalogCategories
from models.factory import load_text
from models.text import TextModel

FILED = {
    "Kitchen/Cookware/Frying Pans": ["Nonstick frying pan 24 cm", "Stainless steel saute pan", "Ceramic coated skillet",
                                     "Carbon steel wok pan", "Aluminium omelette pan", "Grill pan with ridges"],
    "Garden/Tools/Spades": ["Border spade with ash handle", "Digging spade, steel blade", "Trenching shovel",
                            "Compact garden shovel", "Stainless digging spade", "Transplanting spade"],
    "Office/Paper/Notebooks": ["Dotted A5 notebook", "Spiral bound notepad", "Hardcover ruled journal",
                               "Pocket memo book", "Squared exercise book", "Softcover lined notebook"],
    "Women/Bottoms/Trousers": ["Slim fit chino trousers", "Wide leg linen trousers", "Pleated wool slacks",
                               "Tailored cigarette trousers", "Cropped cotton trousers", "Relaxed cargo trousers"],
    "Women/Tops/Knitwear": ["Cable knit wool sweater", "Merino crew neck jumper", "Chunky knit cardigan",
                            "Ribbed turtleneck sweater", "Cashmere v-neck pullover", "Oversized knitted jumper"],
}  # fmt: skip
SYNONYMS = {"trouser": ["pants", "slacks", "chinos"], "knitwear": ["sweater", "jumper", "cardigan"]}


@pytest.fixture(scope="module")
def text() -> TextModel:
    return load_text(device="cpu")


@pytest.fixture(scope="module")
def suggester(text: TextModel) -> CatalogCategories:
    names = [name for names in FILED.values() for name in names]
    labels = [(path,) for path, names in FILED.items() for _ in names]
    return CatalogCategories(text.encode(names), labels, texts=names, synonyms=SYNONYMS)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("Cast iron skillet 28 cm", "Kitchen/Cookware/Frying Pans"),
        ("Lined A4 writing pad", "Office/Paper/Notebooks"),
        ("Heavy duty border shovel", "Garden/Tools/Spades"),
    ],
)
def test_a_product_gets_the_path_its_nearest_filed_products_carry(
    suggester: CatalogCategories, text: TextModel, name: str, path: str
) -> None:
    [found] = suggester.suggest(text.encode([name]), [name])
    assert found[0].path == path
    assert len(found) == 3 and found[0].confidence >= found[1].confidence
    # The reviewer sees why: how many near neighbours are filed there, and one of them by name.
    assert " nearest products are filed here, like “" in found[0].evidence


def test_a_taxonomy_synonym_in_the_name_finds_the_catalogs_category(
    suggester: CatalogCategories, text: TextModel
) -> None:
    [found] = suggester.suggest(text.encode(["Zeppelin Yoga Pant"]), ["Zeppelin Yoga Pant"])
    assert found[0].path == "Women/Bottoms/Trousers"
    assert "pant" in found[0].evidence


def test_confidences_are_probabilities_that_rank_a_clear_case_above_an_unclear_one(
    suggester: CatalogCategories, text: TextModel
) -> None:
    names = ["Nonstick saute pan with lid", "Gift for the home"]
    clear, unclear = suggester.suggest(text.encode(names), names)
    assert all(0 < s.confidence < 1 for s in clear + unclear)
    assert clear[0].confidence > unclear[0].confidence


def test_only_paths_the_catalog_uses_are_offered(suggester: CatalogCategories, text: TextModel) -> None:
    [found] = suggester.suggest(text.encode(["Red rain jacket"]), ["Red rain jacket"])
    assert {s.path for s in found} <= set(FILED)
