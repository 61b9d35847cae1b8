"""Ways to run CLIP's image tower: plain torch, or an int8 CPU path.

On a small CPU the image tower dominates ingest time. Two int8 paths quantise the
Linear/MatMul weights dynamically (activations quantised per batch at run time):
torch's eager dynamic quantisation, which needs nothing beyond torch, and an ONNX
export run by onnxruntime, which measured faster on the 2-core CI box (see
bench/bench_clip.py). Both keep embeddings within cosine 0.998 of float32; the tests
pin that on the tiny model. The text tower's own int8 paths are in `models.text_tower`.
"""

from __future__ import annotations

import copy
import importlib.util
import tempfile
import warnings
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import torch

CpuAccel = Literal["none", "int8", "onnx-int8", "auto"]
CPU_ACCEL_CHOICES: tuple[str, ...] = ("none", "int8", "onnx-int8", "auto")


class ImageTower(Protocol):
    """Pixels (n, 3, h, w) float32 in, unnormalised float32 features (n, dim) out."""

    runtime: str

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor: ...


class TorchTower:
    """The tower as open_clip built it, on `device` in `dtype`."""

    def __init__(self, visual: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> None:
        self.visual = visual
        self.device = device
        self.dtype = dtype
        self.runtime = f"torch-{device.type}-{str(dtype).removeprefix('torch.')}"

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.to(self.device, self.dtype, non_blocking=True)
        return self.visual(x).float()


class TorchInt8Tower:
    """torch dynamic quantisation of the Linear layers (CPU only)."""

    runtime = "torch-cpu-int8"

    def __init__(self, visual: torch.nn.Module) -> None:
        with warnings.catch_warnings():
            # Eager dynamic quantisation is deprecated in favour of torchao, which is not a
            # dependency here; it still works and is the no-extra-package fallback.
            warnings.simplefilter("ignore")
            from torch.ao.quantization import quantize_dynamic

            self.visual = quantize_dynamic(copy.deepcopy(visual).float(), {torch.nn.Linear}, dtype=torch.qint8)

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.visual(pixels.float()).float()


class OnnxInt8Tower:
    """The tower exported to ONNX, weights quantised to int8, run by onnxruntime."""

    runtime = "onnxruntime-cpu-int8"

    def __init__(self, visual: torch.nn.Module, image_size: int, cache_path: Path | None) -> None:
        import onnxruntime as ort

        graph = _quantised_graph(visual, image_size, cache_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        # Idle workers sleep instead of spinning between runs: the cores they would burn are
        # the ones decoding the next batch (files -> vectors 84% -> 86% of model-only on 2
        # cores, model-only unchanged).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        x = np.ascontiguousarray(pixels.float().numpy())
        (features,) = self.session.run(None, {"pixels": x})
        return torch.from_numpy(features)


def onnx_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def resolve_cpu_accel(cpu_accel: str) -> str:
    """`auto` becomes the fastest path installed here; other values are checked and kept."""
    if cpu_accel not in CPU_ACCEL_CHOICES:
        raise ValueError(f"cpu_accel must be one of {', '.join(CPU_ACCEL_CHOICES)}, got {cpu_accel!r}")
    if cpu_accel == "auto":
        return "onnx-int8" if onnx_available() else "int8"
    if cpu_accel == "onnx-int8" and not onnx_available():
        raise ImportError("cpu_accel=onnx-int8 needs the onnxruntime and onnx packages")
    return cpu_accel


def build_image_tower(
    visual: torch.nn.Module,
    *,
    device: torch.device,
    dtype: torch.dtype,
    cpu_accel: str,
    image_size: int,
    cache_path: Path | None = None,
) -> ImageTower:
    """The image tower to run: int8 when asked for on a float32 CPU model, torch otherwise."""
    accel = resolve_cpu_accel(cpu_accel)
    if device.type != "cpu" or dtype != torch.float32 or accel == "none":
        return TorchTower(visual, device, dtype)
    if accel == "int8":
        return TorchInt8Tower(visual)
    return OnnxInt8Tower(visual, image_size, cache_path)


def _quantised_graph(visual: torch.nn.Module, image_size: int, cache_path: Path | None) -> bytes:
    """Serialized int8 ONNX graph of `visual`, reused from `cache_path` when present."""
    if cache_path is not None and cache_path.is_file():
        return cache_path.read_bytes()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    example = torch.zeros(2, 3, image_size, image_size)
    with tempfile.TemporaryDirectory() as tmp:
        plain, quantised = Path(tmp) / "visual.onnx", Path(tmp) / "visual-int8.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                copy.deepcopy(visual).float().eval(),
                (example,),
                str(plain),
                input_names=["pixels"],
                output_names=["features"],
                dynamic_axes={"pixels": {0: "n"}, "features": {0: "n"}},
                opset_version=17,
                dynamo=False,
            )
        quantize_dynamic(plain, quantised, weight_type=QuantType.QInt8)
        graph = quantised.read_bytes()
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_path.with_suffix(".partial")
        partial.write_bytes(graph)
        partial.replace(cache_path)  # atomic: a concurrent reader never sees half a graph
    return graph
