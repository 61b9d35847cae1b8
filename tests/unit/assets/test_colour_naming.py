"""Colour names for product photos agree with how catalogs name colours: CIELAB and
CIEDE2000 against the catalog palette, background, shadow and skin set aside."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from indexer.assets.colors import REFERENCES, dominant_colors, name_pixels, name_pixels_exact
from indexer.assets.facts import image_facts
from indexer.assets.lab import ciede2000, srgb_to_lab
from indexer.assets.subject import colour_weights, find_subject, thin_structures

RGB = tuple[int, int, int]


def _product_photo(colour: RGB, background: RGB = (255, 255, 255), *, size: int = 160) -> Image.Image:
    """A garment-like blob lit from one side (darker to the right), with a soft grey
    shadow under it, on a studio background."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    shadow = tuple(max(0, round(c * 0.85)) for c in background)
    draw.ellipse((size * 0.22, size * 0.80, size * 0.82, size * 0.92), fill=shadow)
    mask = Image.new("L", (size, size), 0)
    box = (size * 0.25, size * 0.18, size * 0.75, size * 0.84)
    ImageDraw.Draw(mask).rounded_rectangle(box, radius=size // 10, fill=255)
    ramp = np.linspace(1.05, 0.85, size)
    lit = np.clip(np.asarray(colour, dtype=np.float64)[None, None, :] * ramp[None, :, None], 0, 255)
    layer = Image.fromarray(np.repeat(lit, size, axis=0).astype(np.uint8), "RGB")
    image.paste(layer, mask=mask)
    return image


def _first_colour(image: Image.Image) -> str:
    return str(image_facts(image, *image.size).colors[0]["name"])


def test_ciede2000_matches_the_published_test_pairs() -> None:
    """Sharma, Wu & Dalal (2005), pairs 1, 7 (hue wrap-around) and 17."""
    lab1 = np.array([[50, 2.6772, -79.7751], [50, 0, 0], [50, 2.5, 0]])
    lab2 = np.array([[50, 0, -82.7485], [50, -1, 2], [73, 25, -18]])
    assert np.allclose(ciede2000(lab1, lab2), [2.0425, 2.3669, 27.1492], atol=1e-4)


def test_srgb_white_is_lab_white() -> None:
    assert np.allclose(srgb_to_lab(np.array([255, 255, 255])), [100, 0, 0], atol=1e-3)


def test_the_palette_covers_the_usual_catalog_colours() -> None:
    for name in ("black", "white", "grey", "red", "pink", "orange", "yellow", "beige", "brown", "green",
                 "olive", "blue", "navy", "purple", "maroon"):  # fmt: skip
        assert REFERENCES[name]


@pytest.mark.parametrize(
    ("colour", "name"),
    [((245, 215, 30), "yellow"), ((250, 232, 90), "yellow"), ((120, 50, 170), "purple"), ((150, 110, 200), "purple"),
     ((210, 30, 35), "red"), ((230, 45, 50), "red"), ((240, 120, 180), "pink"), ((225, 205, 165), "beige"),
     ((30, 40, 80), "navy"), ((105, 105, 45), "olive"), ((40, 90, 190), "blue")],
)  # fmt: skip
def test_a_product_on_white_is_named_its_catalog_colour(colour: RGB, name: str) -> None:
    assert _first_colour(_product_photo(colour)) == name


def test_yellow_is_yellow_not_beige() -> None:
    assert _first_colour(_product_photo((240, 220, 80))) == "yellow"


def test_purple_is_purple_not_blue() -> None:
    assert _first_colour(_product_photo((100, 60, 170))) == "purple"


def test_red_is_red_not_pink_on_a_white_background() -> None:
    assert _first_colour(_product_photo((215, 35, 45))) == "red"


def test_a_red_product_on_a_grey_background_is_red() -> None:
    image = _product_photo((205, 30, 40), background=(150, 150, 150))
    colours = image_facts(image, *image.size).colors
    assert colours[0]["name"] == "red"
    assert all(c["name"] != "grey" for c in colours)  # the sweep and its shadow are background


def test_a_grey_gradient_background_is_background() -> None:
    image = _product_photo((40, 150, 60))
    pixels = np.asarray(image).astype(np.float64)
    gradient = np.linspace(0.85, 1.0, image.size[1])[:, None, None]
    background = np.all(pixels == 255, axis=-1)[..., None]
    graded = np.where(background, 235 * gradient, pixels).astype(np.uint8)
    assert _first_colour(Image.fromarray(graded)) == "green"


def test_skin_is_set_aside_so_a_model_wears_the_colour() -> None:
    """A face and arms above a blue shirt: the photo is of a blue shirt."""
    image = _product_photo((40, 90, 190))
    draw = ImageDraw.Draw(image)
    draw.ellipse((58, 2, 102, 40), fill=(205, 150, 120))  # face
    draw.rectangle((20, 40, 40, 130), fill=(195, 140, 110))  # arms
    draw.rectangle((120, 40, 140, 130), fill=(195, 140, 110))
    weights = colour_weights(np.asarray(image))
    assert weights[20, 80] == 0 and weights[80, 80] > 0
    assert _first_colour(image) == "blue"


def test_a_skin_coloured_product_keeps_its_colour() -> None:
    """When nearly all of the product is skin-toned, it is the product, not skin."""
    assert _first_colour(_product_photo((200, 150, 120))) in ("beige", "brown", "orange", "pink")


def test_a_product_cropped_by_the_frame_is_not_background() -> None:
    """A shirt running off the bottom edge touches one side only: still the product."""
    image = Image.new("RGB", (120, 120), (240, 240, 240))
    ImageDraw.Draw(image).rectangle((30, 40, 90, 119), fill=(200, 30, 40))
    subject = find_subject(np.asarray(image)).mask
    assert subject[100, 60] and not subject[10, 10]
    assert _first_colour(image) == "red"


def test_a_multicoloured_product_lists_its_colours_with_shares() -> None:
    pixels = np.full((100, 100, 3), 255, dtype=np.uint8)
    pixels[20:80, 20:50] = (30, 40, 80)
    pixels[20:80, 50:80] = (245, 215, 30)
    names = {str(c["name"]) for c in dominant_colors(pixels, colour_weights(pixels))}
    assert {"navy", "yellow"} <= names


def _model_in(shirt: RGB) -> Image.Image:
    """A 60x80 catalog thumbnail (the size of the real photo set), JPEG-coded: a model
    with face and arms in a shirt and jeans that run off the bottom edge, on studio white."""
    image = Image.new("RGB", (60, 80), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((23, 2, 37, 18), fill=(200, 145, 115))  # face
    draw.rectangle((10, 22, 15, 50), fill=(195, 140, 110))  # arms
    draw.rectangle((45, 22, 50, 50), fill=(195, 140, 110))
    draw.rounded_rectangle((16, 18, 44, 54), radius=3, fill=shirt)
    draw.rectangle((18, 54, 42, 79), fill=(50, 70, 120))  # jeans
    data = io.BytesIO()
    image.save(data, "JPEG", quality=85)
    return Image.open(io.BytesIO(data.getvalue())).convert("RGB")


@pytest.mark.parametrize("shirt", [(238, 238, 236), (245, 240, 225), (235, 235, 235)])
def test_a_white_or_cream_garment_on_a_white_backdrop_is_named_white(shirt: RGB) -> None:
    """The flood takes a pale garment for backdrop (it is within NEAR of white); what was
    left was skin and jeans. The pale region the backdrop reaches only through slightly
    different pixels is the garment."""
    colours = [str(c["name"]) for c in image_facts(_model_in(shirt), 60, 80).colors]
    assert colours[0] == "white"
    assert colours[1:2] == ["navy"]  # the jeans second; the skin set aside


def test_only_a_large_pale_region_off_the_border_counts_as_the_product() -> None:
    """A pale patch of 2 % of the picture (a JPEG halo, a reflection) stays background;
    one of 25 % is the product."""
    pixels = np.full((80, 60, 3), 255, dtype=np.uint8)
    pixels[10:50, 12:42] = (238, 238, 236)  # 25 %
    pixels[60:70, 46:56] = (238, 238, 236)  # 2 %
    weights = colour_weights(pixels)
    assert weights[30, 27] > 0
    assert weights[65, 51] == 0 and weights[3, 3] == 0


def test_a_pale_region_on_a_grey_backdrop_stays_background() -> None:
    """Only a clipped white backdrop has no gradient of its own: on a grey sweep a lighter
    spot is the lighting, not a product."""
    pixels = np.full((80, 60, 3), 200, dtype=np.uint8)
    pixels[10:50, 12:42] = 204  # a spot 1.5 L* lighter
    pixels[55:70, 20:40] = (200, 30, 40)
    weights = colour_weights(pixels)
    assert weights[30, 27] == 0 and weights[60, 30] > 0


def test_a_black_garment_under_warm_light_is_black_not_brown() -> None:
    """L* 16 with a faint warm cast (chroma 5, hue 40): a black T-shirt in a warm studio."""
    assert _first_colour(_product_photo((48, 38, 35))) == "black"


@pytest.mark.parametrize("colour", [(60, 45, 30), (80, 60, 40), (95, 70, 45)])
def test_a_dark_brown_garment_stays_brown(colour: RGB) -> None:
    assert _first_colour(_product_photo(colour)) == "brown"


def test_a_thin_line_is_a_thin_structure_and_a_broad_area_is_not() -> None:
    """Laces, a sole's rim, an outline: a colour only one or two pixels wide is a thin
    structure; the inside of a broad area of one colour is not."""
    pixels = np.full((40, 40, 3), 255, dtype=np.uint8)
    pixels[5:35, 5:35] = (40, 90, 190)  # a blue garment
    pixels[20, 5:35] = (10, 10, 10)  # a black line across it, one pixel wide
    pixels[28:30, 5:35] = (10, 10, 10)  # and one two pixels wide
    subject = np.zeros((40, 40), dtype=bool)
    subject[5:35, 5:35] = True
    thin = thin_structures(pixels, subject)
    assert thin[20, 5:35].all() and thin[28:30, 5:35].all()
    assert not thin[10:18, 8:32].any()  # the blue area's inside
    assert not thin[~subject].any()  # only subject pixels are thin


def test_a_garment_covered_in_a_fine_print_is_named_by_its_broad_colour() -> None:
    """A yellow shirt whose middle is a fine black grid print (more black pixels than
    yellow ones): the strokes are thin structures, the shirt is yellow."""
    pixels = np.full((80, 60, 3), 255, dtype=np.uint8)
    pixels[12:70, 10:50] = (245, 215, 30)
    rows, cols = np.mgrid[0:80, 0:60]
    grid = (rows >= 16) & (rows < 66) & (cols >= 14) & (cols < 46) & ((rows % 2 == 0) | (cols % 2 == 0))
    pixels[grid] = (15, 15, 15)
    assert grid.sum() > ((pixels == (245, 215, 30)).all(-1)).sum()
    assert _first_colour(Image.fromarray(pixels)) == "yellow"


@pytest.mark.parametrize("denim", [(105, 120, 143), (85, 100, 123), (117, 133, 158)])
def test_faded_denim_is_blue_not_grey_or_navy(denim: RGB) -> None:
    """Jeans photograph at L* 40-55 with little chroma (10-18) at hue 265-275; a catalog
    calls them blue."""
    assert _first_colour(_product_photo(denim)) == "blue"


def test_a_navy_garment_in_shade_is_navy_not_black() -> None:
    """L* 15, chroma 10, hue 257 (lit down to L* 12): a navy T-shirt in shade on a model,
    bluer than black but greener than the navies at hue 285."""
    assert _first_colour(_product_photo((25, 40, 52))) == "navy"


@pytest.mark.parametrize(("colour", "name"), [((174, 57, 69), "red"), ((170, 50, 60), "red"),
                                              ((120, 30, 40), "maroon"), ((100, 25, 35), "maroon")])  # fmt: skip
def test_a_red_in_shade_is_red_and_a_maroon_stays_maroon(colour: RGB, name: str) -> None:
    """A red T-shirt in shade (L* 40-46, chroma 50-57, hue 13-23) is red to a catalog; a
    maroon is darker and duller."""
    assert _first_colour(_product_photo(colour)) == name


@pytest.mark.parametrize(("colour", "name"), [((232, 91, 62), "orange"), ((237, 58, 60), "red"),
                                              ((226, 45, 49), "red")])  # fmt: skip
def test_a_red_orange_is_orange_and_a_red_stays_red(colour: RGB, name: str) -> None:
    """Catalog oranges photograph down to hue 35-45 (L* 57, chroma 69, hue 40 is orange);
    catalog reds up to hue 35."""
    assert _first_colour(_product_photo(colour)) == name


def test_pixel_names_are_the_exact_names_of_their_colour_cells_named_on_first_sight() -> None:
    """`name_pixels` names only the colour cells an image holds (no 32768-cell table built
    on the first image), and gives each pixel its cell centre's exact CIEDE2000 name."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(40, 60, 3), dtype=np.uint8)
    centres = ((pixels >> 3).astype(np.uint16) * 8 + 4).astype(np.uint8)
    assert np.array_equal(name_pixels(pixels), name_pixels_exact(centres))
    assert np.array_equal(name_pixels(pixels), name_pixels_exact(centres))  # named once, looked up after
