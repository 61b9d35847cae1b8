from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from asset_factories import encode, gif_js_polyglot, text_pdf
from PIL import Image

from discovery.domain import Asset
from discovery.errors import NotFound
from discovery.store.blobs import FilesystemBlobStore
from indexer.assets.renditions import (
    STAMP,
    get_or_make_rendition,
    load_presets,
    rendition_names,
    target_longest,
)


def _stored(tmp_path: Path, data: bytes, media_type: str) -> tuple[Asset, FilesystemBlobStore]:
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    sha, size = blobs.put_bytes(data)
    return Asset(id="a1", sha256=sha, filename="f", media_type=media_type, bytes=size), blobs


def _open(blobs: FilesystemBlobStore, key: str) -> Image.Image:
    with blobs.open(key) as fh:
        return Image.open(io.BytesIO(fh.read()))


def test_default_presets_name_thumbnail_preview_marketplace_and_web() -> None:
    presets = load_presets()
    assert {"thumbnail", "preview", "marketplace", "web"} <= presets.keys()
    assert presets["thumbnail"].eager and not presets["preview"].eager
    assert presets["marketplace"].format == "jpeg" and presets["marketplace"].media_type == "image/jpeg"


def test_thumbnail_is_a_small_webp(tmp_path: Path) -> None:
    asset, blobs = _stored(tmp_path, encode(Image.new("RGB", (1200, 900), (200, 0, 0)), "JPEG"), "image/jpeg")
    image = _open(blobs, get_or_make_rendition(asset, "thumbnail", blobs, load_presets()))
    assert image.format == "WEBP" and image.size == (256, 192)


@pytest.mark.parametrize(("side", "expected"), [(400, 1000), (1500, 1500), (3000, 2000)])
def test_marketplace_is_a_jpeg_on_white_between_1000_and_2000(tmp_path: Path, side: int, expected: int) -> None:
    clear = Image.new("RGBA", (side, side // 2), (0, 0, 0, 0))
    clear.paste((30, 80, 200, 255), (side // 4, side // 8, side // 2, side // 4))
    asset, blobs = _stored(tmp_path, encode(clear, "PNG"), "image/png")
    image = _open(blobs, get_or_make_rendition(asset, "marketplace", blobs, load_presets()))
    assert image.format == "JPEG" and image.mode == "RGB"
    assert max(image.size) == expected
    r, g, b = image.getpixel((1, 1))  # type: ignore[misc]
    assert min(r, g, b) > 245  # transparency flattened onto white


def test_made_once_per_version_and_preset(tmp_path: Path) -> None:
    asset, blobs = _stored(tmp_path, encode(Image.new("RGB", (900, 600), (0, 120, 0)), "JPEG"), "image/jpeg")
    presets = load_presets()
    key = get_or_make_rendition(asset, "web", blobs, presets)
    made = blobs.path(key).stat().st_mtime_ns
    assert get_or_make_rendition(asset, "web", blobs, presets) == key
    assert blobs.path(key).stat().st_mtime_ns == made
    assert asset.renditions["web" + STAMP] == f"{asset.sha256}:{presets['web'].digest}"
    assert rendition_names(asset) == ["web"]


def test_a_changed_preset_remakes_its_rendition(tmp_path: Path) -> None:
    asset, blobs = _stored(tmp_path, encode(Image.new("RGB", (900, 600), (0, 120, 0)), "JPEG"), "image/jpeg")
    presets = load_presets()
    first = get_or_make_rendition(asset, "web", blobs, presets)
    smaller = {**presets, "web": dataclasses.replace(presets["web"], longest=400)}
    second = get_or_make_rendition(asset, "web", blobs, smaller)
    assert second != first and max(_open(blobs, second).size) == 400


def test_a_new_version_remakes_its_renditions(tmp_path: Path) -> None:
    asset, blobs = _stored(tmp_path, encode(Image.new("RGB", (900, 600), (0, 120, 0)), "JPEG"), "image/jpeg")
    presets = load_presets()
    first = get_or_make_rendition(asset, "web", blobs, presets)
    asset.sha256, _ = blobs.put_bytes(encode(Image.new("RGB", (900, 600), (200, 0, 0)), "JPEG"))
    assert get_or_make_rendition(asset, "web", blobs, presets) != first


def test_pdf_renditions_come_from_the_first_page(tmp_path: Path) -> None:
    asset, blobs = _stored(tmp_path, text_pdf(["Lookbook"]), "application/pdf")
    image = _open(blobs, get_or_make_rendition(asset, "preview", blobs, load_presets()))
    assert max(image.size) == 1024


def test_renditions_carry_no_metadata_and_no_script(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (52.0, 30.0, 0.0)
    asset, blobs = _stored(tmp_path, encode(Image.new("RGB", (300, 300)), "JPEG", exif=exif), "image/jpeg")
    key = get_or_make_rendition(asset, "marketplace", blobs, load_presets())
    assert not _open(blobs, key).getexif()
    polyglot, pblobs = _stored(tmp_path / "p", gif_js_polyglot(), "image/gif")
    with pblobs.open(get_or_make_rendition(polyglot, "thumbnail", pblobs, load_presets())) as fh:
        assert b"alert" not in fh.read()


def test_unknown_preset_is_not_found(tmp_path: Path) -> None:
    asset, blobs = _stored(tmp_path, encode(Image.new("RGB", (10, 10)), "PNG"), "image/png")
    with pytest.raises(NotFound):
        get_or_make_rendition(asset, "poster", blobs, load_presets())


def test_presets_file_is_validated(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("thumb:\n  format: bmp\n  longest: 100\n")
    with pytest.raises(ValueError, match="format"):
        load_presets(bad)
    bad.write_text("thumb:\n  size: 100\n")
    with pytest.raises(ValueError, match="unknown keys"):
        load_presets(bad)


def test_target_size_clamps_to_the_preset_range() -> None:
    market = load_presets()["marketplace"]
    assert [target_longest(s, market) for s in (500, 1200, 5000)] == [1000, 1200, 2000]
    assert target_longest(100, load_presets()["thumbnail"]) == 100  # never upscaled without min_longest
