"""Documents (an import's product texts) in bfloat16 on AMX: vectors kept, float32 elsewhere."""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest

import models.text_documents as text_documents
from models.factory import load_text
from models.text import TextModel

WORDS = ["soft", "organic", "cotton", "hoodie", "with", "a", "relaxed", "fit", "ribbed", "cuffs", "in", "navy", "blue"]


@pytest.fixture(scope="module")
def text() -> TextModel:
    return load_text(device="cpu").load()


def _torch(text: TextModel, texts: list[str]) -> np.ndarray:
    """sentence-transformers' own float32 `encode`, in torch: the reference vectors."""
    model = text._load()
    return np.asarray(model.encode(texts, convert_to_numpy=True, normalize_embeddings=True), dtype=np.float32)


def _texts_of_every_length(text: TextModel) -> list[str]:
    """Texts from 1 to 256 tokens (the model's cut; the last runs past it), in random order."""
    rnd = random.Random(5)
    counts = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 254, 400)
    texts = [" ".join(rnd.choice(WORDS) for _ in range(n)) for n in counts]
    texts += [f"Product {i} Tee . Northwind . Men Tops . item {i}" + " fit" * (i * 7 % 40) for i in range(25)]
    rnd.shuffle(texts)
    tokens = [len(text._load().tokenizer(t)["input_ids"]) for t in texts]
    assert min(tokens) <= 2 and max(tokens) > 256
    return texts


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


@pytest.mark.skipif(not text_documents.bf16_matrix_units(), reason="this CPU has no AMX tiles: documents stay float32")
def test_bf16_document_vectors_keep_torch_float32_vectors_alone_and_in_padded_batches(text: TextModel) -> None:
    texts = _texts_of_every_length(text)
    reference = _torch(text, texts)
    batched = TextModel(text.name, device="cpu", batch_size=8)
    batched._model = text._load()  # the same weights, a small batch: several padded batches
    assert batched.document_runtime == "torch-cpu-bfloat16"
    in_batches = batched.encode_documents(texts)
    alone = np.concatenate([text_documents.encode_bf16(text._load(), [t], 8) for t in texts])
    for vectors in (in_batches, alone):
        assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        cosines = _cosines(vectors, reference)  # each vector in its text's place
        assert float(cosines.mean()) >= 0.9999 and float(cosines.min()) >= 0.999, (cosines.mean(), cosines.min())
    assert float(_cosines(in_batches, alone).min()) >= 0.999


def test_documents_stay_float32_on_a_cpu_without_bf16_units(text: TextModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_documents, "bf16_matrix_units", lambda: False)
    plain = TextModel(text.name, device="cpu")
    plain._model = text._load()
    texts = ["red hoodie", "blue mug with a handle", "leather boots"]
    assert plain.document_runtime == plain.query_runtime == "onnxruntime-cpu-float32"
    assert np.array_equal(plain.encode_documents(texts), plain.encode(texts))


def test_a_failing_bf16_forward_pass_falls_back_to_float32_with_one_warning(
    text: TextModel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> np.ndarray:
        raise RuntimeError("no bf16 kernel")

    monkeypatch.setattr(text_documents, "usable", lambda model: True)
    monkeypatch.setattr(text_documents, "encode_bf16", broken)
    failing = TextModel(text.name, device="cpu")
    failing._model = text._load()
    texts = ["red hoodie", "blue mug with a handle"]
    with caplog.at_level(logging.WARNING, logger="models.text"):
        first = failing.encode_documents(texts)
        second = failing.encode_documents(texts)
    assert [r.getMessage() for r in caplog.records if "bfloat16" in r.getMessage()] == [
        "documents stay on float32: the bfloat16 forward pass failed (RuntimeError: no bf16 kernel)"
    ]
    assert np.array_equal(first, failing.encode(texts)) and np.array_equal(second, first)
    assert failing.document_runtime == "onnxruntime-cpu-float32"


def test_one_document_runs_as_a_query_does(text: TextModel) -> None:
    # A batch of one has nothing to gain from bfloat16: it keeps the query's exact vector.
    one = ["waterproof hiking jacket"]
    assert np.array_equal(text.encode_documents(one), text.encode(one))
    assert text.encode_documents([]).shape == (0, 384)
