"""The one place models are built: process-wide instances keyed by their configuration.

Callers pass plain values (the API and workers take them from `Settings.clip` and
`Settings.text`); the same configuration always returns the same instance, so a
model loads once per process however many services ask for it. Instances load lazily:
call `.load()` at start-up to fail fast with `ModelUnavailable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from models.clip import ClipModel
from models.clip_source import DEFAULT_HUB
from models.text import DEFAULT_TEXT_MODEL, TextModel


@dataclass(frozen=True, slots=True)
class ClipConfig:
    """Everything that decides which CLIP instance a caller gets."""

    model: str = "tiny"
    pretrained: str = ""
    device: str = "auto"
    batch_size: int = 32
    precision: str = "auto"
    cpu_accel: str = "none"  # none | int8 | onnx-int8 | auto (see models.image_tower)
    cache_dir: str | None = None  # open_clip downloads and the exported ONNX graph
    allow_download: bool = True  # False: never contact the hub, fail with ModelUnavailable
    hub_url: str = DEFAULT_HUB  # where pretrained weights are fetched from
    fallback_to_tiny: bool = False  # weights that cannot be had: run the tiny model, say why


def load_clip(
    model: str = "tiny",
    pretrained: str = "",
    device: str = "auto",
    batch_size: int = 32,
    precision: str = "auto",
    *,
    cpu_accel: str = "none",
    cache_dir: str | None = None,
    allow_download: bool = True,
    hub_url: str = DEFAULT_HUB,
    fallback_to_tiny: bool = False,
) -> ClipModel:
    """The process-wide `ClipModel` for this configuration (not yet loaded)."""
    return clip_for(
        ClipConfig(
            model, pretrained, device, batch_size, precision, cpu_accel, cache_dir, allow_download, hub_url,
            fallback_to_tiny,
        )
    )


@lru_cache(maxsize=8)
def clip_for(config: ClipConfig) -> ClipModel:
    return ClipModel(
        config.model,
        config.pretrained,
        device=config.device,
        batch_size=config.batch_size,
        precision=config.precision,
        cpu_accel=config.cpu_accel,
        cache_dir=config.cache_dir,
        allow_download=config.allow_download,
        hub_url=config.hub_url,
        fallback_to_tiny=config.fallback_to_tiny,
    )


@lru_cache(maxsize=4)
def load_text(model: str = DEFAULT_TEXT_MODEL, *, device: str = "auto", batch_size: int = 64) -> TextModel:
    """The process-wide `TextModel` for this configuration (not yet loaded)."""
    return TextModel(model, device=device, batch_size=batch_size)


def clear_models() -> None:
    """Forget every cached instance (tests, or a model change at run time)."""
    clip_for.cache_clear()
    load_text.cache_clear()
