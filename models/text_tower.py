"""CLIP's text tower as search queries use it: only the positions a text needs, optionally int8.

With a causal mask and pooling at the end-of-text token (the argmax of the ids, as in
OpenAI-style CLIP), positions after the last end-of-text token cannot change the
result, so a short query runs ~10 positions instead of 77. A single query is then
bound by reading the weights, which int8 quantisation of the Linear layers cuts by
about half again on CPU. Other text towers (HF, CoCa, other pooling) run as open_clip
built them.

Where onnxruntime is installed (`cpu_accel` auto or onnx-int8), queries run in int8
ONNX graphs of the same computation, one per length bucket (16, 32 and 77 tokens: the
exporter bakes the length in), built once and cached beside the image tower's graph.
ViT-B-32, one thread, 2 shared cores, interleaved in one run (bench/bench_clip_query.py):
p50 11.7 ms against torch int8's 30.1 ms at load average 5-6 (7.8 against 21.9 ms at
load 4), x2.6-2.8; cosine to float32 over 50 queries of 1-77 tokens mean 0.99930, min
0.99900 (torch int8: 0.99935, 0.99912). Building the three graphs took 42 s, once per
model and cache directory.
"""

from __future__ import annotations

import copy
import logging
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import torch

log = logging.getLogger("discovery.models")

TextEncoder = Callable[[torch.Tensor], torch.Tensor]

# Graph lengths for the ONNX path: most queries fit 16 tokens, a long one 32; the model's
# full context (77 for CLIP) takes the rest.
BUCKETS = (16, 32)


class TrimmedTextTower:
    """Runs a standard open_clip `CLIP` text tower over the shortest sufficient prefix."""

    def __init__(self, model: Any, *, int8: bool) -> None:
        self.token_embedding = model.token_embedding
        self.positional_embedding = model.positional_embedding
        self.attn_mask = model.attn_mask
        self.ln_final = model.ln_final
        self.text_projection = model.text_projection
        self.transformer = _quantised(model.transformer) if int8 else model.transformer
        self.runtime = "torch-int8-trimmed" if int8 else "torch-trimmed"

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        length = int(tokens.argmax(dim=-1).max().item()) + 1
        tokens = tokens[:, :length]
        cast = self.token_embedding.weight.dtype
        x = self.token_embedding(tokens).to(cast) + self.positional_embedding[:length].to(cast)
        x = self.transformer(x, attn_mask=self.attn_mask[:length, :length])
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
        if isinstance(self.text_projection, torch.nn.Linear):
            return self.text_projection(x)
        if self.text_projection is not None:
            x = x @ self.text_projection
        return x


def build_text_tower(
    model: Any, *, int8: bool = False, onnx: bool = False, cache_prefix: Path | None = None
) -> TextEncoder:
    """The trimmed tower where it is exact, else open_clip's own `encode_text`.

    `onnx` asks for the int8 onnxruntime graphs (graphs cached at `cache_prefix`-text<n>-int8.onnx);
    an export that fails leaves the torch tower, with one warning."""
    trimmable = type(model) is open_clip.CLIP and model.text_pool_type == "argmax" and model.attn_mask is not None
    if not trimmable:
        return model.encode_text
    if onnx:
        try:
            return OnnxTextTower(model, cache_prefix=cache_prefix)
        except Exception as exc:  # any export or runtime failure: torch still gives the vectors
            log.warning("CLIP text queries stay on torch: the ONNX export failed (%s: %s)", type(exc).__name__, exc)
    return TrimmedTextTower(model, int8=int8)


def _output_nodes(path: Path) -> list[str]:
    """Names of the nodes that write the graph's outputs (here: the final projection)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    outputs = {output.name for output in graph.output}
    return [node.name for node in graph.node if outputs & set(node.output)]


def _quantised(transformer: torch.nn.Module) -> torch.nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eager dynamic quantisation's deprecation notice
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(copy.deepcopy(transformer).float(), {torch.nn.Linear}, dtype=torch.qint8)


class OnnxTextTower:
    """The trimmed tower exported to ONNX at a few fixed lengths, int8, run by onnxruntime.

    The exporter bakes the sequence length into the attention, so there is one graph per
    length bucket; a batch runs in the smallest bucket that holds its longest text, the
    padding after the end-of-text token being invisible under the causal mask."""

    runtime = "onnxruntime-cpu-int8-bucketed"

    def __init__(self, model: Any, *, cache_prefix: Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        context = int(model.attn_mask.shape[0])
        self.buckets = tuple(sorted({length for length in BUCKETS if length < context} | {context}))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # A query is one short run: a sleeping pool leaves the busy cores to other work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.sessions = {
            length: ort.InferenceSession(
                _text_graph(model, length, _bucket_path(cache_prefix, length)),
                options,
                providers=["CPUExecutionProvider"],
            )
            for length in self.buckets
        }

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        needed = int(tokens.argmax(dim=-1).max().item()) + 1
        length = next(bucket for bucket in self.buckets if bucket >= needed)
        ids = np.ascontiguousarray(tokens[:, :length].cpu().numpy().astype(np.int64, copy=False))
        (features,) = self.sessions[length].run(None, {"tokens": ids})
        return torch.from_numpy(features)


class _Exported(torch.nn.Module):
    """`TrimmedTextTower`'s float32 computation at a fixed length, for the exporter to trace."""

    def __init__(self, model: Any, length: int) -> None:
        super().__init__()
        parts = copy.deepcopy(TrimmedTextTower(model, int8=False))  # the text tower's modules only
        self.token_embedding = parts.token_embedding.float()
        self.positional_embedding = torch.nn.Parameter(parts.positional_embedding.float()[:length])
        self.register_buffer("attn_mask", parts.attn_mask.float()[:length, :length])
        self.transformer = parts.transformer.float()
        self.ln_final = parts.ln_final.float()
        self.text_projection = parts.text_projection
        self.requires_grad_(False)  # else the exporter writes the weights out as inputs

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)[torch.arange(tokens.shape[0]), tokens.argmax(dim=-1)]
        if isinstance(self.text_projection, torch.nn.Linear):
            return self.text_projection(x)
        return x @ self.text_projection if self.text_projection is not None else x


def _bucket_path(prefix: Path | None, length: int) -> Path | None:
    return None if prefix is None else prefix.with_name(f"{prefix.name}-text{length}-int8.onnx")


def _text_graph(model: Any, length: int, cache_path: Path | None) -> bytes:
    """Serialized int8 graph of the text tower at `length` tokens, reused from `cache_path`."""
    if cache_path is not None and cache_path.is_file():
        return cache_path.read_bytes()
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    example = torch.zeros(1, length, dtype=torch.long)
    example[0, -1] = 1  # the argmax pooling traces as it runs, whatever the ids
    with tempfile.TemporaryDirectory() as tmp:
        plain, folded, quantised = (Path(tmp) / name for name in ("text.onnx", "folded.onnx", "int8.onnx"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                _Exported(model, length).eval(),
                (example,),
                str(plain),
                input_names=["tokens"],
                output_names=["features"],
                dynamic_axes={"tokens": {0: "n"}, "features": {0: "n"}},
                opset_version=17,
                dynamo=False,
            )
        # The export feeds each weight through a Transpose, which quantize_dynamic skips;
        # onnxruntime's basic optimisation folds them so the weights become initialisers.
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(plain), options, providers=["CPUExecutionProvider"])
        # Weights only, per output channel; attention's activation x activation products stay
        # float32, and so does the projection of the one pooled row, which costs nothing and
        # lifted the worst of 50 queries from cosine 0.99893 to 0.99900 (ViT-B-32, random).
        quantize_dynamic(
            folded,
            quantised,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=_output_nodes(folded),
            extra_options={"MatMulConstBOnly": True},
        )
        graph = quantised.read_bytes()
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_path.with_suffix(".partial")
        partial.write_bytes(graph)
        partial.replace(cache_path)  # atomic: a concurrent reader never sees half a graph
    return graph
