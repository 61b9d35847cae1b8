"""The sentence-transformers text model, loaded offline from the packaged MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.errors import ModelUnavailable
from models.factory import load_text
from models.text import TextModel


@pytest.fixture(scope="module")
def text() -> TextModel:
    return load_text(device="cpu").load()


def test_minilm_loads_offline_with_384_dimensions(text: TextModel) -> None:
    assert text.dim == 384
    assert text.model_id == "all-MiniLM-L6-v2@pkg-0.1.0"


def test_hiking_jacket_query_is_closer_to_a_rain_jacket_than_to_a_yoga_mat(text: TextModel) -> None:
    query, rain, yoga = text.encode([
        "waterproof hiking jacket",
        "A lightweight rain jacket with taped seams that keeps you dry on mountain trails.",
        "A non-slip yoga mat with extra cushioning for floor exercises and stretching.",
    ])  # fmt: skip
    assert float(query @ rain) > float(query @ yoga) + 0.2


def test_vectors_are_float32_unit_length_and_batch_independent(text: TextModel) -> None:
    texts = ["red hoodie", "blue mug", "leather boots"]
    vectors = text.encode(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[1], text.encode(["blue mug"])[0], atol=1e-5)
    assert text.encode([]).shape == (0, 384)


def test_a_model_that_is_not_on_this_machine_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="DISCOVERY_TEXT_MODEL") as caught:
        TextModel("some-org/not-downloaded-model").load()
    assert caught.value.setting == "DISCOVERY_TEXT_MODEL"
    with pytest.raises(ModelUnavailable, match="DISCOVERY_TEXT_MODEL"):
        TextModel(str(tmp_path)).load()  # an empty directory is no model


def test_the_factory_returns_one_text_model_per_configuration(text: TextModel) -> None:
    assert load_text(device="cpu") is text


def _torch(text: TextModel, texts: list[str]) -> np.ndarray:
    """sentence-transformers' own `encode`, in torch: the reference vectors."""
    model = text.load()._load()
    return np.asarray(model.encode(texts, convert_to_numpy=True, normalize_embeddings=True), dtype=np.float32)


def test_a_single_query_runs_in_onnxruntime_and_gives_the_vector_torch_gives(text: TextModel) -> None:
    assert text.query_runtime == "onnxruntime-cpu-float32"
    alone = text.encode(["waterproof hiking jacket"])[0]
    assert float(alone @ _torch(text, ["waterproof hiking jacket"])[0]) > 0.99999
    assert np.allclose(alone, text.encode(["waterproof hiking jacket", "blue mug"])[0], atol=1e-5)
    # Every length, up to the 256-token cut, and any script give what torch gives.
    queries = ["", "a", "é ü ß 日本語", "waterproof hiking jacket with taped seams " * 40]
    for query in queries:
        assert np.allclose(text.encode([query])[0], _torch(text, [query])[0], atol=1e-5)


def test_onnx_batch_vectors_match_torch_vectors_in_the_callers_order(text: TextModel) -> None:
    # Lengths from empty to past the 256-token cut, shuffled: the encoder sorts them by
    # length into padded batches and must hand each vector back in the caller's place.
    words = ["soft", "organic", "cotton", "hoodie", "with", "a", "relaxed", "fit", "and", "ribbed", "cuffs"]
    texts = [" ".join(words[: i % 12]) + f" item {i}" + " long tail" * (i * 7 % 150) for i in range(70)]
    texts[3] = ""
    batched = TextModel(text.name, device="cpu", batch_size=16)
    batched._model = text.load()._load()  # the same weights, a small batch: several batches
    vectors = batched.encode(texts)
    reference = _torch(text, texts)
    cosines = (vectors * reference).sum(axis=1)
    assert vectors.shape == (70, 384) and vectors.dtype == np.float32
    assert float(cosines.min()) >= 0.99, cosines.min()
    assert np.allclose(vectors, reference, atol=1e-4)
