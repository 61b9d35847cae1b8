from __future__ import annotations

import pytest
from asset_factories import encode, gif_js_polyglot, html_as_jpg, jpeg, png, text_pdf
from PIL import Image, features

from indexer.assets.sniff import ZIP, UnsupportedType, allowed_media_types, serve_headers, sniff


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_each_allowed_image_kind_is_known_by_its_bytes(fmt: str, media_type: str) -> None:
    data = encode(Image.new("RGB", (8, 8), (10, 20, 30)), fmt)
    assert sniff(data[:64]).media_type == media_type
    assert sniff(data[:64]).is_image


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")
def test_avif_is_allowed_when_pillow_decodes_it() -> None:
    data = encode(Image.new("RGB", (8, 8), (10, 20, 30)), "AVIF")
    assert sniff(data[:64]).media_type == "image/avif"
    assert "image/avif" in allowed_media_types()


def test_pdf_and_zip_are_known() -> None:
    assert sniff(text_pdf(["x"])[:64]).media_type == "application/pdf"
    assert sniff(b"PK\x03\x04" + b"\x00" * 60).media_type == ZIP


def test_html_named_like_a_jpeg_is_refused_with_a_reason() -> None:
    with pytest.raises(UnsupportedType, match="markup"):
        sniff(html_as_jpg()[:64])


@pytest.mark.parametrize("data", [b"", b"BM\x00\x00 a bitmap", b"just some text", b"\x00\x01\x02\x03"])
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedType, match="unsupported file type"):
        sniff(data)


def test_the_type_comes_from_bytes_never_the_name() -> None:
    # A PNG is a PNG whatever it is called; nothing in sniff sees a name.
    assert sniff(png()[:64]).media_type == "image/png"
    assert sniff(jpeg()[:64]).media_type == "image/jpeg"


def test_a_gif_javascript_polyglot_is_an_image_served_as_one() -> None:
    data = gif_js_polyglot()
    assert data.startswith(b"GIF89a/*") or data.startswith(b"GIF87a/*")
    assert sniff(data[:64]).media_type == "image/gif"
    headers = serve_headers("image/gif")
    assert headers["Content-Type"] == "image/gif"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
