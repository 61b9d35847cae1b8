"""CLIP image and text embeddings through open_clip.

A `ClipModel` is cheap to construct; the network loads on first use, once, behind a
lock. Outputs are float32, L2-normalised here explicitly (open_clip leaves
`normalize=False` by default), and identify their model as `name@version`, so
vectors from two models are never compared by accident.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image

from models.clip_source import DEFAULT_HUB, TINY_NAME, TINY_VARIANTS, ClipSource, load_source, tiny_source
from models.errors import ModelUnavailable
from models.image_files import EncodedFiles, encode_files, open_for_model, to_rgb
from models.image_tower import ImageTower, build_image_tower, resolve_cpu_accel
from models.text_tower import TextEncoder, build_text_tower

log = logging.getLogger("discovery.models")

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True, slots=True)
class _Loaded:
    name: str  # the architecture that runs: `tiny` after a fallback
    fallback: str | None  # why the configured model is not the one running
    source: ClipSource
    device: torch.device
    dtype: torch.dtype
    image_tower: ImageTower
    text_tower: TextEncoder
    preprocess: Any  # torchvision Compose: PIL image -> (3, h, w) tensor
    input_size: int
    dim: int
    logit_scale: float


class ClipModel:
    """open_clip model: `name` is an architecture (or `tiny`), `pretrained` a tag or file."""

    def __init__(
        self,
        name: str = "tiny",
        pretrained: str = "",
        *,
        device: str = "auto",
        batch_size: int = 32,
        precision: str = "auto",
        cpu_accel: str = "none",
        cache_dir: str | None = None,
        allow_download: bool = True,
        hub_url: str = DEFAULT_HUB,
        fallback_to_tiny: bool = False,
    ) -> None:
        self.configured = name
        self.name = name
        self.pretrained = pretrained
        self.batch_size = max(1, batch_size)
        self._device, self._precision, self._cpu_accel = device, precision, cpu_accel
        self._cache_dir, self._allow_download = cache_dir, allow_download
        self._hub_url, self._fallback_to_tiny = hub_url, fallback_to_tiny
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    # -- identity ---------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self._load().source.version

    @property
    def model_id(self) -> str:
        """`name@version`: what vectors and tags record (the model that runs, after any fallback)."""
        version = self.version  # loads first: a fallback renames the model
        return f"{self.name}@{version}"

    @property
    def dim(self) -> int:
        return self._load().dim

    @property
    def is_tiny(self) -> bool:
        """True for the random tiny config (configured, or fallen back to): its vectors carry no meaning."""
        return self.name in TINY_VARIANTS

    @property
    def fallback(self) -> str | None:
        """Why the configured model could not be had, when the tiny one runs in its place."""
        loaded = self._loaded
        return loaded.fallback if loaded is not None else None

    def status(self) -> dict[str, object]:
        """What runs, without loading anything: for /readyz and the console."""
        return {
            "model": self.name,
            "configured": self.configured,
            "pretrained": self.pretrained or None,
            "tiny": self.is_tiny,
            "loaded": self._loaded is not None,
            "fallback": self.fallback,
        }

    @property
    def random_weights(self) -> bool:
        return self._load().source.random_weights

    @property
    def logit_scale(self) -> float:
        """The temperature CLIP was trained with: similarity * scale gives its logits."""
        return self._load().logit_scale

    @property
    def runtime(self) -> str:
        """How the image tower runs here, e.g. `torch-cpu-float32` or `onnxruntime-cpu-int8`."""
        return self._load().image_tower.runtime

    @property
    def text_runtime(self) -> str:
        """How text queries run, e.g. `torch-int8-trimmed` or `onnxruntime-cpu-int8-bucketed`."""
        return str(getattr(self._load().text_tower, "runtime", "torch"))

    @property
    def input_size(self) -> int:
        return self._load().input_size

    def load(self) -> ClipModel:
        """Load now (start-up) rather than on the first request; returns self."""
        self._load()
        return self

    # -- embeddings -------------------------------------------------------------------
    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Unit-length float32 vectors (n, dim) for PIL images, in batches."""
        loaded = self._load()
        out = np.zeros((len(images), loaded.dim), dtype=np.float32)
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            pixels = torch.stack([loaded.preprocess(to_rgb(image)) for image in chunk])
            out[start : start + len(chunk)] = self._run_images(pixels)
        return out

    def encode_image_files(
        self, paths: Sequence[str | Path], *, pool: Executor | None = None, workers: int = 2
    ) -> EncodedFiles:
        """Vectors for image files, decoding in `pool` while the model runs; failures listed."""
        loaded = self._load()

        def load(path: str | Path) -> torch.Tensor:
            return loaded.preprocess(open_for_model(path, loaded.input_size))

        return encode_files(
            paths,
            load=load,
            run=self._run_images,
            dim=loaded.dim,
            batch_size=self.batch_size,
            pool=pool,
            workers=workers,
        )

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors (n, dim) for texts, through the CLIP text tower."""
        loaded = self._load()
        out = np.zeros((len(texts), loaded.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            tokens = loaded.source.tokenizer(list(texts[start : start + self.batch_size]))
            with torch.inference_mode():
                features = loaded.text_tower(tokens.to(loaded.device))
            out[start : start + tokens.shape[0]] = _normalised(features)
        return out

    def encode_pixels(self, pixels: torch.Tensor) -> np.ndarray:
        """Unit-length vectors for already preprocessed pixels (n, 3, size, size), one batch."""
        return self._run_images(pixels)

    def _run_images(self, pixels: torch.Tensor) -> np.ndarray:
        loaded = self._load()
        if loaded.device.type == "cuda":
            pixels = pixels.pin_memory()
        with torch.inference_mode():
            return _normalised(loaded.image_tower(pixels))

    # -- loading ----------------------------------------------------------------------
    def _load(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._build()
            return self._loaded

    def _source(self) -> tuple[ClipSource, str | None]:
        try:
            return load_source(
                self.configured,
                self.pretrained,
                cache_dir=self._cache_dir,
                allow_download=self._allow_download,
                hub_url=self._hub_url,
            ), None
        except ModelUnavailable as exc:
            if not self._fallback_to_tiny:
                raise
            reason = str(exc)
        log.warning(
            "CLIP %s/%s could not be loaded, so the tiny random model runs instead: image tags and "
            "similarity are not meaningful until it can (%s)", self.configured, self.pretrained or "-", reason
        )
        # Dynamic int8 scales depend on the batch, which moves the tiny model's near-identical
        # vectors past each other: the fallback stays float32 as a configured tiny model does.
        if self._cpu_accel == "auto":
            self._cpu_accel = "none"
        self.name = TINY_NAME
        return tiny_source(), reason

    def _build(self) -> _Loaded:
        source, fallback = self._source()
        device = resolve_device(self._device)
        dtype = resolve_dtype(self._precision, device)
        model: Any = source.model.to(device=device, dtype=dtype).eval()
        cfg = PreprocessCfg(**source.preprocess_cfg)
        size = max(cfg.size) if isinstance(cfg.size, tuple) else int(cfg.size)
        tower = build_image_tower(
            model.visual,
            device=device,
            dtype=dtype,
            cpu_accel=self._cpu_accel,
            image_size=size,
            cache_path=self._graph_cache(source, size),
        )
        accelerated = device.type == "cpu" and dtype == torch.float32
        accel = resolve_cpu_accel(self._cpu_accel) if accelerated else "none"
        text = build_text_tower(
            model,
            int8=accel != "none",
            # The tiny model keeps torch: an export per process would cost more than its queries.
            onnx=accel == "onnx-int8" and not source.is_tiny,
            cache_prefix=self._graph_prefix(source),
        )
        with torch.inference_mode():
            dim = int(text(source.tokenizer([""]).to(device)).shape[-1])
        return _Loaded(
            self.name,
            fallback,
            source,
            device,
            dtype,
            tower,
            text,
            image_transform_v2(cfg, is_train=False),
            size,
            dim,
            float(model.logit_scale.exp().item()),
        )

    def _graph_cache(self, source: ClipSource, size: int) -> Path | None:
        prefix = self._graph_prefix(source)
        return None if prefix is None else prefix.with_name(f"{prefix.name}-{size}-visual-int8.onnx")

    def _graph_prefix(self, source: ClipSource) -> Path | None:
        """Where this model's ONNX graphs are cached, less the tower's suffix."""
        if not self._cache_dir or source.is_tiny:
            return None
        safe = f"{self.name}@{source.version}".replace("/", "_").replace(":", "_")
        return Path(self._cache_dir) / "onnx" / safe


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """`auto` is bf16 on CUDA (fp16 where bf16 is unsupported) and float32 on CPU."""
    if precision == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision not in _DTYPES:
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}")
    return _DTYPES[precision]


def _normalised(features: torch.Tensor) -> np.ndarray:
    vectors = torch.nn.functional.normalize(features.float(), dim=-1)
    return vectors.cpu().numpy().astype(np.float32, copy=False)
