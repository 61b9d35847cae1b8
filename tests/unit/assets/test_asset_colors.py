from __future__ import annotations

import io

import numpy as np
import pytest
from asset_factories import NAMES, draw_product
from PIL import Image

from indexer.assets.background import classify_background, subject_weights
from indexer.assets.colors import PALETTE, dominant_colors, name_pixels
from indexer.assets.facts import image_facts, orientation, resolution_class
from indexer.assets.safe_image import decode


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((0, 0, 0), "black"), ((255, 255, 255), "white"), ((128, 128, 128), "grey"), ((210, 30, 35), "red"),
        ((245, 130, 20), "orange"), ((245, 215, 30), "yellow"), ((40, 160, 60), "green"), ((30, 80, 200), "blue"),
        ((120, 50, 170), "purple"), ((240, 120, 180), "pink"), ((255, 192, 203), "pink"), ((120, 70, 30), "brown"),
        ((225, 205, 165), "beige"), ((139, 0, 0), "maroon"), ((15, 15, 40), "navy"), ((20, 20, 90), "navy"),
        ((128, 128, 0), "olive"), ((250, 240, 120), "yellow"), ((150, 100, 200), "purple"),
        ((230, 30, 40), "red"), ((200, 180, 140), "beige"), ((8, 8, 8), "black"),
    ],
)  # fmt: skip
def test_pixels_are_named_as_people_name_them(rgb: tuple[int, int, int], name: str) -> None:
    assert PALETTE[int(name_pixels(np.array([[rgb]], dtype=np.uint8))[0, 0])] == name


def test_dominant_colours_come_with_shares_largest_first() -> None:
    pixels = np.zeros((10, 10, 3), dtype=np.uint8)
    pixels[:7] = (210, 30, 35)
    pixels[7:] = (30, 80, 200)
    assert dominant_colors(pixels) == [{"name": "red", "share": 0.7}, {"name": "blue", "share": 0.3}]


def test_weights_decide_which_pixels_count() -> None:
    pixels = np.zeros((2, 2, 3), dtype=np.uint8)
    pixels[0, 0] = (210, 30, 35)
    weights = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert dominant_colors(pixels, weights) == [{"name": "red", "share": 1.0}]


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


def test_background_white_transparent_or_other() -> None:
    white = Image.new("RGB", (50, 50), (255, 255, 255))
    clear = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    scene = draw_product(3, scene=True)[0]
    assert classify_background(_pixels(white)) == "white"
    assert classify_background(_pixels(clear)) == "transparent"
    assert classify_background(_pixels(scene)) == "other"


def test_a_red_shoe_on_white_reads_as_red_not_white() -> None:
    image, _, _ = draw_product(11, colour="red", scene=False, shape="shoe")
    facts = image_facts(image, *image.size)
    assert facts.background == "white"
    assert facts.colors[0]["name"] == "red"
    assert all(c["name"] != "white" for c in facts.colors)


def test_a_product_on_transparency_reads_as_its_colour() -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    image.paste((40, 160, 60, 255), (30, 30, 70, 70))
    facts = image_facts(image, 100, 100)
    assert (facts.background, facts.colors) == ("transparent", [{"name": "green", "share": 1.0}])


def test_a_white_product_outlined_on_white_reads_as_white() -> None:
    image, _, _ = draw_product(5, colour="white", scene=False, shape="ellipse")
    pixels = np.asarray(image.resize((96, 96)))
    weights = subject_weights(pixels, "white")
    assert 0.1 < weights.mean() < 0.9  # the inside kept, the page around it removed
    assert image_facts(image, *image.size).colors[0]["name"] == "white"


def test_colour_and_background_match_the_drawing_on_a_seeded_catalog() -> None:
    """Acceptance: >= 95% of >= 100 drawn product pictures, saved as JPEG, name the drawn
    colour first, and >= 95% get the background (white vs scene) right."""
    colour_hits = background_hits = 0
    total = 120
    for seed in range(total):
        image, colour, background = draw_product(1000 + seed, colour=NAMES[seed % len(NAMES)], size=192)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        decoded = decode(buffer.getvalue(), "JPEG")
        facts = image_facts(decoded.image, decoded.width, decoded.height)
        colour_hits += facts.colors[0]["name"] == colour
        background_hits += facts.background == background
    assert colour_hits / total >= 0.95, colour_hits
    assert background_hits / total >= 0.95, background_hits


def test_orientation_and_resolution_classes() -> None:
    assert orientation(1000, 1000) == "square" and orientation(1000, 980) == "square"
    assert orientation(1200, 800) == "landscape" and orientation(800, 1200) == "portrait"
    assert resolution_class(799, 200) == "small"
    assert resolution_class(800, 800) == "medium"
    assert resolution_class(1000, 2000) == "large"


def test_colour_and_background_match_on_the_sample_catalog_pictures() -> None:
    """The same acceptance on the pictures the demo catalog draws (indexer.sample)."""
    from indexer.sample.images import ImageSpec, draw_product_image, encode
    from indexer.sample.palette import COLOUR_NAMES
    from indexer.sample.shapes import SILHOUETTES

    shapes = sorted(SILHOUETTES)
    colour_hits = background_hits = 0
    total = 120
    for i in range(total):
        scene = i % 2 == 1
        spec = ImageSpec(COLOUR_NAMES[i % 12], shapes[i % len(shapes)], "scene" if scene else "white", 192, 500 + i)
        data = encode(draw_product_image(spec), "jpg", quality=85)
        decoded = decode(data, "JPEG")
        facts = image_facts(decoded.image, decoded.width, decoded.height)
        colour_hits += facts.colors[0]["name"] == spec.colour
        background_hits += facts.background == ("other" if scene else "white")
    assert colour_hits / total >= 0.95, colour_hits
    assert background_hits / total >= 0.95, background_hits
