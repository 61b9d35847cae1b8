"""Texts through a sentence-transformers model exported to ONNX: single queries and batches.

A query is a few tokens, so its cost is the framework's per-layer overhead and reading
the weights, not arithmetic: MiniLM took 8.1 ms per query in torch on one thread and
2.5 ms in onnxruntime (4.0 and 8.7 with the caches cold), with the same float32 weights
and the same vector (cosine 1.0000 to `SentenceTransformer.encode`).

Documents (an import's product texts) are arithmetic-bound: the same graph runs them in
padded batches, sorted by length so a batch pads little. On 256 texts of ~120 tokens it
ran 31 texts/s on one busy core against 22 for `SentenceTransformer.encode` (which pads
a whole batch to its longest text), with cosine 0.99999 to torch's vectors. On an import's
texts (~36 tokens; Shopify's sample catalog: 23 median, 81 at most) one thread runs ~150
texts per CPU-second in batches of 8, near the core's float32 peak: onnxruntime's
transformer optimiser (fused Attention, SkipLayerNorm, BiasGelu, EmbedLayerNorm; the export
traced with eager attention, since the SDPA trace fuses no Attention) ran 5-12 % slower at
the same vectors, with or without the attention fusion; batches of 64 ran slower than 8 (they
pad more and leave the cache); two threads ran 1.3x one thread's texts/s with spinning off
and were slower with it on (measured on the busy 2-core machine, load 3-8). On a CPU with
AMX tiles an import's documents therefore run in bfloat16 instead (`models.text_documents`).
int8 graphs are not used: dynamic quantisation moved query vectors to a cosine of
0.94-0.97, and document vectors to 0.90 (per tensor) or 0.988 (per channel, p50 0.992),
below the 0.99 that keeps them comparable with float32 vectors, and ran no faster on a
busy 2-core machine.
The export runs once per process, in memory, at the first use (1.8-2.6 s for MiniLM on the
busy machine).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.text import text_features

# Probe texts of different lengths: the batch is padded, so the trace keeps the attention
# mask's path (with no padding, transformers skips the mask, and the graph would too).
_PROBE = ["a probe query", "a longer probe text, padded to the longest one in its batch"]


class OnnxTextEncoder:
    """`model`'s modules (transformer, pooling, normalisation) as one ONNX graph."""

    runtime = "onnxruntime-cpu-float32"

    def __init__(self, model: Any, threads: int) -> None:
        import onnxruntime as ort
        import torch

        self._model = model
        probe = text_features(model, _PROBE)
        self._names = [name for name, value in probe.items() if isinstance(value, torch.Tensor)]
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Threads that spin between ops burn the core a request needs on a shared machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        graph = _graph(model, self._names, probe)
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, text: str) -> np.ndarray:
        return self.batch([text])

    def batch(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) unit vectors of texts in one padded forward pass (callers sort by length)."""
        features = text_features(self._model, texts)
        feed = {name: features[name].numpy().astype(np.int64) for name in self._names}
        (vectors,) = self._session.run(None, feed)
        return np.asarray(vectors, dtype=np.float32)


def _graph(model: Any, names: list[str], probe: dict[str, Any]) -> bytes:
    import torch

    class Forward(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            features = dict(zip(names, tensors, strict=True))
            return torch.nn.functional.normalize(self.model(features)["sentence_embedding"], dim=1)

    axes = {name: {0: "n", 1: "tokens"} for name in names}
    # The trace warns of branches on shapes, which hold for every batch traced with
    # padding; the tests compare the graph with torch from 0 to 256 tokens, alone and in
    # padded batches. Filters rather than `catch_warnings`, which is not thread-safe: the
    # export runs on whichever thread asks first.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message="Exporting aten::index operator")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "query.onnx"
        torch.onnx.export(
            Forward().eval(),
            tuple(probe[name] for name in names),
            str(out),
            input_names=names,
            output_names=["vector"],
            dynamic_axes={**axes, "vector": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
        return out.read_bytes()
