from __future__ import annotations

import time

import pytest
from asset_factories import decompression_bomb_png, encode, gif_js_polyglot, swapped_rgb_profile, truncated_jpeg
from PIL import Image

from indexer.assets.safe_image import UnsafeImage, decode, open_checked


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused_from_its_header_before_decoding() -> None:
    data = decompression_bomb_png()  # 100 MP in ~12 KB
    started = time.perf_counter()
    with pytest.raises(UnsafeImage, match=r"over the limit of 50\.0 MP"):
        decode(data, "PNG")
    assert time.perf_counter() - started < 0.5  # never inflated


def test_pixel_limit_is_per_call_and_leaves_pillow_global_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    data = encode(Image.new("RGB", (200, 100)), "PNG")
    with pytest.raises(UnsafeImage, match="decompression bomb"):
        open_checked(data, "PNG", max_pixels=10_000)
    assert decode(data, "PNG", max_pixels=20_000).width == 200
    assert before == Image.MAX_IMAGE_PIXELS


def test_truncated_jpeg_is_refused_with_a_reason() -> None:
    with pytest.raises(UnsafeImage, match="truncated"):
        decode(truncated_jpeg(), "JPEG")


def test_only_the_sniffed_decoder_may_open_the_bytes() -> None:
    png = encode(Image.new("RGB", (8, 8)), "PNG")
    with pytest.raises(UnsafeImage, match="corrupt or unreadable JPEG"):
        decode(png, "JPEG")


def test_exif_orientation_is_applied_and_size_is_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    data = encode(Image.new("RGB", (60, 20), (200, 0, 0)), "JPEG", exif=exif)
    decoded = decode(data, "JPEG")
    assert decoded.image.size == (20, 60)
    assert (decoded.width, decoded.height) == (20, 60)


def test_colour_profile_is_converted_to_srgb() -> None:
    # Under this profile a stored pure red is green; the decoded sRGB pixel must say so.
    data = encode(Image.new("RGB", (16, 16), (255, 0, 0)), "JPEG", quality=95, icc_profile=swapped_rgb_profile())
    r, g, b = decode(data, "JPEG").image.getpixel((8, 8))  # type: ignore[misc]
    assert g > 200 and r < 60 and b < 60


def test_a_broken_colour_profile_is_noted_not_fatal() -> None:
    data = encode(Image.new("RGB", (16, 16), (255, 0, 0)), "PNG", icc_profile=b"not a profile")
    decoded = decode(data, "PNG")
    assert decoded.image.getpixel((1, 1)) == (255, 0, 0)
    assert any("colour profile ignored" in n for n in decoded.notes)


def test_jpeg_is_decoded_at_reduced_size_when_the_caller_needs_less() -> None:
    data = encode(Image.new("RGB", (1000, 800), (0, 0, 200)), "JPEG")
    decoded = decode(data, "JPEG", longest=256)
    assert 256 <= max(decoded.image.size) < 1000
    assert (decoded.width, decoded.height) == (1000, 800)


def test_transparency_is_kept_and_opaque_alpha_dropped() -> None:
    clear = encode(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), "PNG")
    opaque = encode(Image.new("RGBA", (8, 8), (9, 9, 9, 255)), "PNG")
    assert decode(clear, "PNG").image.mode == "RGBA"
    assert decode(opaque, "PNG").image.mode == "RGB"


def test_sixteen_bit_greyscale_is_scaled_not_clipped_to_white() -> None:
    image = Image.new("I;16", (8, 8), 1000)
    image.putpixel((0, 0), 4000)
    decoded = decode(encode(image, "PNG"), "PNG")
    assert decoded.image.getpixel((1, 1))[0] < 100  # type: ignore[index]


def test_gif_javascript_polyglot_decodes_as_the_image_it_is() -> None:
    decoded = decode(gif_js_polyglot(), "GIF")
    assert decoded.image.mode in ("RGB", "RGBA")
