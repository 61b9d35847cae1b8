"""CLIP through open_clip, on the tiny random config: the real preprocessing, tokenizer,
towers and batching, without weights or network."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import pytest
import torch
from model_factories import catalog, draw_product
from PIL import Image

from models.clip import ClipModel
from models.errors import ModelUnavailable
from models.factory import ClipConfig, clip_for, load_clip
from models.image_files import open_for_model
from models.image_tower import onnx_available
from models.text_tower import TrimmedTextTower, build_text_tower


@pytest.fixture(scope="module")
def clip() -> ClipModel:
    return load_clip("tiny", device="cpu", batch_size=4).load()


@pytest.fixture(scope="module")
def images() -> list[Image.Image]:
    return [image for _, image in catalog(seed=3, count=10)]


def test_same_image_gives_the_same_vector(clip: ClipModel, images: list[Image.Image]) -> None:
    first = clip.encode_images(images[:1])
    again = clip.encode_images([images[0].copy()])
    assert np.array_equal(first, again)
    assert first.dtype == np.float32 and first.shape == (1, clip.dim)


def test_vectors_are_unit_length(clip: ClipModel, images: list[Image.Image]) -> None:
    vectors = np.vstack([clip.encode_images(images), clip.encode_texts(["a red shoe", "blue"])])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batched_results_equal_one_by_one(clip: ClipModel, images: list[Image.Image]) -> None:
    batched = clip.encode_images(images)  # batch size 4: three uneven batches
    single = np.vstack([clip.encode_images([image]) for image in images])
    assert np.allclose(batched, single, atol=1e-5)
    texts = ["a red hoodie", "a photo of a blue running shoe on a white background", "mug"]
    assert np.allclose(clip.encode_texts(texts), np.vstack([clip.encode_texts([t]) for t in texts]), atol=1e-5)


def test_empty_input_gives_an_empty_matrix(clip: ClipModel) -> None:
    assert clip.encode_images([]).shape == (0, clip.dim)
    assert clip.encode_texts([]).shape == (0, clip.dim)


def test_tokenizer_and_preprocessing_are_open_clips_own(clip: ClipModel) -> None:
    source = clip._load().source
    assert isinstance(source.tokenizer, open_clip.SimpleTokenizer)
    tokens = source.tokenizer(["a red shoe"])
    assert tokens.shape == (1, 77)
    assert torch.equal(tokens, open_clip.tokenize(["a red shoe"]))  # the real BPE vocabulary
    cfg = open_clip.get_model_preprocess_cfg(source.model)
    assert tuple(cfg["mean"]) == open_clip.OPENAI_DATASET_MEAN
    assert cfg["size"] == clip.input_size == 64


def test_short_queries_run_only_the_positions_they_need(clip: ClipModel) -> None:
    model: Any = clip._load().source.model
    tokens = clip._load().source.tokenizer(["a red shoe", "a much longer query about a blue hoodie"])
    with torch.inference_mode():
        tower = build_text_tower(model)
        trimmed = tower(tokens)
        full = model.encode_text(tokens)
    assert isinstance(tower, TrimmedTextTower)
    assert torch.allclose(trimmed, full, atol=1e-5)


def test_identity_says_tiny_and_random(clip: ClipModel) -> None:
    assert clip.is_tiny and clip.random_weights
    assert clip.model_id == "tiny@random-r1-seed0"
    assert clip.runtime == "torch-cpu-float32"
    assert clip.logit_scale == pytest.approx(1 / 0.07, rel=1e-4)


def test_tiny_weights_are_the_same_in_every_instance() -> None:
    a = ClipModel("tiny", device="cpu").encode_texts(["hoodie"])
    torch.manual_seed(1234)  # the caller's RNG state must not matter, nor be changed
    state = torch.random.get_rng_state()
    b = ClipModel("tiny", device="cpu").encode_texts(["hoodie"])
    assert np.array_equal(a, b)
    assert torch.equal(state, torch.random.get_rng_state())


def test_image_files_match_in_memory_images(clip: ClipModel, images: list[Image.Image], tmp_path: Path) -> None:
    paths = []
    for i, image in enumerate(images[:5]):
        paths.append(tmp_path / f"{i}.png")
        image.save(paths[-1])
    result = clip.encode_image_files(paths)
    assert not result.failed
    assert np.allclose(result.vectors, clip.encode_images(images[:5]), atol=1e-5)


def test_an_unreadable_file_is_reported_and_the_rest_embedded(
    clip: ClipModel, images: list[Image.Image], tmp_path: Path
) -> None:
    good = tmp_path / "good.png"
    images[0].save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    result = clip.encode_image_files([bad, good, tmp_path / "missing.png"])
    assert set(result.failed) == {0, 2}
    assert np.allclose(result.vectors[1], clip.encode_images(images[:1])[0], atol=1e-5)
    assert not result.vectors[0].any()


def test_large_jpegs_are_decoded_at_reduced_size_and_embed_alike(clip: ClipModel, tmp_path: Path) -> None:
    image = draw_product(random.Random(1), "blue", busy=True, size=800)
    path = tmp_path / "big.jpg"
    image.save(path, quality=92)
    reduced = open_for_model(path, clip.input_size)
    assert min(reduced.size) >= clip.input_size and reduced.size[0] <= 800 // 8 * 2
    with Image.open(path) as full:
        full_vector = clip.encode_images([full.convert("RGB")])[0]
    assert float(clip.encode_image_files([path]).vectors[0] @ full_vector) > 0.99


@pytest.mark.parametrize("accel", ["int8", "onnx-int8"])
def test_accelerated_image_tower_stays_within_cosine_0_998_of_float32(
    clip: ClipModel, images: list[Image.Image], accel: str
) -> None:
    if accel == "onnx-int8" and not onnx_available():
        pytest.skip("onnxruntime/onnx not installed")
    fast = ClipModel("tiny", device="cpu", cpu_accel=accel)
    assert "int8" in fast.runtime
    cosines = np.sum(fast.encode_images(images) * clip.encode_images(images), axis=1)
    assert cosines.min() >= 0.998
    texts = ["a red hoodie", "black leather boots on a white background", "mug"]
    assert np.sum(fast.encode_texts(texts) * clip.encode_texts(texts), axis=1).min() >= 0.998
    assert fast.model_id == clip.model_id  # same weights, same vector space


def test_absent_pretrained_weights_name_the_setting_to_change() -> None:
    model = ClipModel("ViT-B-32", "laion2b_s34b_b79k", cache_dir="/nonexistent-cache", allow_download=False)
    with pytest.raises(ModelUnavailable) as caught:
        model.load()
    assert "DISCOVERY_CLIP_PRETRAINED" in str(caught.value)
    assert caught.value.setting == "DISCOVERY_CLIP_PRETRAINED"


def test_a_missing_checkpoint_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="DISCOVERY_CLIP_PRETRAINED"):
        ClipModel("ViT-B-32", str(tmp_path / "nope.pt"), allow_download=False).load()


def test_an_unknown_architecture_names_the_model_setting() -> None:
    with pytest.raises(ModelUnavailable, match="DISCOVERY_CLIP_MODEL") as caught:
        ClipModel("ViT-Nope-99").load()
    assert caught.value.setting == "DISCOVERY_CLIP_MODEL"


def test_a_checkpoint_file_loads_its_weights_and_records_their_hash(tmp_path: Path) -> None:
    random_init = ClipModel("ViT-S-32-alt", device="cpu")  # a small built-in architecture
    path = tmp_path / "weights.pt"
    torch.save(random_init._load().source.model.state_dict(), path)
    from_file = ClipModel("ViT-S-32-alt", str(path), device="cpu")
    assert from_file.version.startswith("file-") and not from_file.random_weights
    assert np.allclose(from_file.encode_texts(["red"]), random_init.encode_texts(["red"]), atol=1e-6)


def test_a_corrupt_checkpoint_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "broken.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelUnavailable, match="DISCOVERY_CLIP_PRETRAINED"):
        ClipModel("ViT-S-32-alt", str(path), device="cpu").load()


def test_the_factory_returns_one_instance_per_configuration() -> None:
    assert load_clip("tiny", device="cpu", batch_size=4) is load_clip("tiny", device="cpu", batch_size=4)
    assert load_clip("tiny", device="cpu", batch_size=8) is not load_clip("tiny", device="cpu", batch_size=4)
    assert clip_for(ClipConfig(device="cpu", batch_size=4)) is load_clip("tiny", device="cpu", batch_size=4)


def test_transparent_pixels_are_seen_as_white(clip: ClipModel) -> None:
    cut_out = Image.new("RGBA", (80, 80), (255, 0, 0, 0))  # fully transparent red
    white = Image.new("RGB", (80, 80), (255, 255, 255))
    assert np.allclose(clip.encode_images([cut_out]), clip.encode_images([white]), atol=1e-6)
