"""CLIP text queries through the bucketed int8 onnxruntime graphs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import pytest
import torch

import models.text_tower as text_tower
from models.clip import ClipModel
from models.image_tower import onnx_available
from models.text_tower import OnnxTextTower, TrimmedTextTower, build_text_tower

pytestmark = pytest.mark.skipif(not onnx_available(), reason="onnxruntime/onnx not installed")

# From one word to past the 77-token context (cut there by the tokenizer): every bucket runs.
TEXTS = [
    "mug",
    "a red hoodie",
    "black leather boots on a white background with a side zip",
    " ".join(["striped cotton shirt with two chest pockets"] * 5),  # ~35 tokens: the 77 bucket
    " ".join(["vintage floral summer dress"] * 25),  # past the context
]


@pytest.fixture(scope="module")
def small_clip() -> Any:
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-S-32-alt", pretrained=None)  # a standard CLIP text tower, small
    return model.eval()


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx") / "small"


@pytest.fixture(scope="module")
def onnx_tower(small_clip: Any, graphs: Path) -> OnnxTextTower:
    return OnnxTextTower(small_clip, cache_prefix=graphs)


def _unit(features: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(features.float(), dim=-1).numpy()


def test_padding_after_the_end_of_text_token_leaves_the_vector_unchanged(small_clip: Any) -> None:
    tokens = open_clip.get_tokenizer("ViT-S-32-alt")(["a red hoodie", "mug"])
    tower = TrimmedTextTower(small_clip, int8=False)
    with torch.inference_mode():
        full = small_clip.encode_text(tokens)  # all 77 positions
        for length in (8, 16, 32):
            assert torch.allclose(tower(tokens[:, :length]), full, atol=1e-5)


def test_onnx_text_vectors_match_torch_for_short_and_long_texts(small_clip: Any, onnx_tower: OnnxTextTower) -> None:
    tokens = open_clip.get_tokenizer("ViT-S-32-alt")(TEXTS)
    lengths = tokens.argmax(dim=-1) + 1
    assert lengths.min() <= 16 and 32 < int(lengths[3]) < 77 and int(lengths[4]) == 77
    with torch.inference_mode():
        expected = _unit(TrimmedTextTower(small_clip, int8=False)(tokens))
        one_by_one = np.concatenate([_unit(onnx_tower(tokens[i : i + 1])) for i in range(len(TEXTS))])
        batched = _unit(onnx_tower(tokens))
    assert onnx_tower.buckets == (16, 32, 77)
    assert np.sum(one_by_one * expected, axis=1).min() >= 0.999
    assert np.sum(batched * expected, axis=1).min() >= 0.999


def test_text_graphs_are_cached_and_reused_without_exporting(
    small_clip: Any, onnx_tower: OnnxTextTower, graphs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = sorted(path.name for path in graphs.parent.glob("*.onnx"))
    assert cached == ["small-text16-int8.onnx", "small-text32-int8.onnx", "small-text77-int8.onnx"]

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(torch.onnx, "export", no_export)
    again = OnnxTextTower(small_clip, cache_prefix=graphs)
    tokens = open_clip.get_tokenizer("ViT-S-32-alt")(["a red hoodie"])
    with torch.inference_mode():
        assert np.allclose(again(tokens).numpy(), onnx_tower(tokens).numpy(), atol=1e-6)


def test_a_failed_text_export_leaves_queries_on_torch_with_a_warning(
    small_clip: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> bytes:
        raise RuntimeError("exporter says no")

    monkeypatch.setattr(text_tower, "_text_graph", broken)
    with caplog.at_level(logging.WARNING, logger="discovery.models"):
        tower = build_text_tower(small_clip, int8=True, onnx=True)
    assert isinstance(tower, TrimmedTextTower) and tower.runtime == "torch-int8-trimmed"
    assert [r.message for r in caplog.records if "exporter says no" in r.message]


def test_clip_model_reports_the_onnx_text_runtime_and_caches_its_graphs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_tower, "BUCKETS", ())  # the full-context graph only: one export, not three
    model = ClipModel("ViT-S-32-alt", device="cpu", cpu_accel="onnx-int8", cache_dir=str(tmp_path))
    assert model.text_runtime == "onnxruntime-cpu-int8-bucketed"
    assert [path.name.endswith("-text77-int8.onnx") for path in (tmp_path / "onnx").glob("*text*")] == [True]
    vectors = model.encode_texts(TEXTS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_tiny_model_keeps_the_torch_text_path() -> None:
    tiny = ClipModel("tiny", device="cpu", cpu_accel="onnx-int8")
    assert tiny.text_runtime.startswith("torch")
    assert tiny.encode_texts(["a red hoodie"]).shape == (1, tiny.dim)
