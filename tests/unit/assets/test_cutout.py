"""Cut-outs for marketplace renditions: the product separated from a busy scene with a
border colour model (no downloaded weights), placed on pure white at the asked fill."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from discovery.domain import Asset
from indexer.assets.cutout import cut_out, iou, on_white
from indexer.assets.renditions import Preset, cutout_state, record_cutout, render_cutout
from indexer.products.completeness import ImageRule, _image_fits
from indexer.sample.images import ImageSpec, draw_product_image_with_mask, encode


def _busy_scene(colour: str = "orange", shape: str = "cap", seed: int = 9004) -> tuple[Image.Image, np.ndarray]:
    drawn, truth = draw_product_image_with_mask(ImageSpec(colour, shape, "scene", 512, seed))
    image = Image.open(io.BytesIO(encode(drawn, "jpg", quality=90))).convert("RGB")
    return image, np.asarray(truth) >= 128


def test_a_product_is_cut_out_of_a_generated_busy_scene() -> None:
    image, truth = _busy_scene()
    cut = cut_out(image)
    assert iou(cut.mask, truth) >= 0.9
    assert cut.confidence > 0


def test_a_product_on_white_is_cut_out_with_confidence() -> None:
    drawn, truth = draw_product_image_with_mask(ImageSpec("red", "shoe", "white", 384, 3))
    cut = cut_out(drawn)
    assert iou(cut.mask, np.asarray(truth) >= 128) >= 0.9
    assert cut.confidence >= 0.6


def test_noise_has_no_confident_cutout() -> None:
    noise = np.random.default_rng(1).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    assert cut_out(Image.fromarray(noise)).confidence < 0.6


def test_the_cutout_is_placed_on_pure_white_filling_the_asked_share() -> None:
    image, truth = _busy_scene()
    placed = np.asarray(on_white(image, truth, fill=0.8, min_side=600)).astype(np.int16)
    assert placed.shape[:2] == (600, 600)
    product = (placed < 250).any(axis=-1)
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    assert abs(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) / 600 - 0.8) < 0.02
    assert (placed[~product] == 255).all()  # not near-white: exactly (255, 255, 255)


def test_a_cutout_preset_renders_a_jpeg_on_white_and_reports_confidence() -> None:
    image, _ = _busy_scene()
    preset = Preset(name="marketplace", format="jpeg", longest=1200, min_longest=1000, background="white", cutout=True)
    data, confidence = render_cutout(image, preset)
    out = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert out.shape[:2] == (1000, 1000) and (out[:10] == 255).all() and 0 < confidence <= 1


def test_cutout_presets_change_no_digest_of_other_presets() -> None:
    """Adding the cut-out keys must not remake every thumbnail."""
    assert Preset(name="t").digest == Preset(name="t", fill=0.5, min_confidence=0.1).digest
    assert Preset(name="m", cutout=True).digest != Preset(name="m", cutout=True, fill=0.5).digest


def test_a_scene_image_fits_a_white_background_channel_only_by_a_fit_or_accepted_cutout() -> None:
    rule = ImageRule(min=1, background="white", rendition="marketplace")
    asset = Asset(id="a1", sha256="x", filename="a.jpg", media_type="image/jpeg", background="other")
    assert not _image_fits(rule, name="a.jpg", asset=asset)
    record_cutout(asset, "marketplace", "review", 0.41)
    assert cutout_state(asset, "marketplace") == ("review", 0.41)
    assert not _image_fits(rule, name="a.jpg", asset=asset)
    record_cutout(asset, "marketplace", "accepted", 0.41)
    assert _image_fits(rule, name="a.jpg", asset=asset)
    record_cutout(asset, "marketplace", "fit", 0.93)
    assert _image_fits(rule, name="a.jpg", asset=asset)
    assert not _image_fits(ImageRule(min=1, background="white"), name="a.jpg", asset=asset)
