"""Where CLIP weights come from: the tiny random config, an open_clip tag, a checkpoint file.

Nothing here downloads unless the caller allows it, and every failure to find weights
becomes one `ModelUnavailable` naming the setting to change. open_clip's own
`create_model(name, pretrained=tag)` would try the hub first and fail with a long
traceback on an offline machine; we look in the local caches ourselves and hand
open_clip a file path, carrying over what the tag implies (QuickGELU, preprocessing).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import open_clip
import torch
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

from models import hub_download
from models.errors import ModelUnavailable
from models.hub_download import HubFile

MODEL_SETTING = "DISCOVERY_CLIP_MODEL"
PRETRAINED_SETTING = "DISCOVERY_CLIP_PRETRAINED"

TINY_NAME = "tiny"
# A second tiny model (same config, another seed, so another version and other vectors):
# what tests switch to when they need two models (`discovery models use tiny-b`).
TINY_VARIANTS: dict[str, int] = {TINY_NAME: 0, "tiny-b": 1}
# Bump when TINY_CONFIG changes: vectors from different tiny configs must not mix.
TINY_REVISION = 1
RANDOM_SEED = 0

# Small towers, the real ViT/text-transformer code, the real BPE vocabulary (49,408
# tokens) and the real 77-token context: only widths and depths are cut down.
TINY_CONFIG: dict[str, Any] = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "patch_size": 8, "layers": 2, "width": 96, "head_width": 32,
                   "mlp_ratio": 2.0},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2,
                 "mlp_ratio": 2.0},
}  # fmt: skip

# Preprocessing keys an open_clip pretrained tag may override (PreprocessCfg fields).
_TAG_PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode", "fill_color")


@dataclass(frozen=True, slots=True)
class ClipSource:
    """A loaded CLIP network with what identifies it."""

    model: torch.nn.Module
    tokenizer: Any  # open_clip tokenizer: callable list[str] -> LongTensor
    preprocess_cfg: dict[str, Any]
    version: str
    is_tiny: bool
    random_weights: bool


DEFAULT_HUB = "https://huggingface.co"


def load_source(
    name: str,
    pretrained: str,
    *,
    cache_dir: str | None = None,
    allow_download: bool = True,
    hub_url: str = DEFAULT_HUB,
) -> ClipSource:
    """Build the network `name` with weights `pretrained` (tag, file path, or "" for random)."""
    if name in TINY_VARIANTS:
        if pretrained:
            raise ModelUnavailable(
                f"the tiny CLIP config has no pretrained weights (got {pretrained!r}); "
                f"leave {PRETRAINED_SETTING} empty or set {MODEL_SETTING} to an open_clip "
                "architecture such as ViT-B-32",
                setting=PRETRAINED_SETTING,
            )
        return _tiny(TINY_VARIANTS[name])
    if name.startswith(("hf-hub:", "local-dir:")):
        return _schema_source(name, allow_download=allow_download)
    if name not in open_clip.list_models():
        raise ModelUnavailable(
            f"unknown CLIP architecture {name!r}; set {MODEL_SETTING} to `tiny` or one of "
            f"open_clip's architectures, e.g. ViT-B-32",
            setting=MODEL_SETTING,
        )
    if not pretrained:
        return _random(name)
    return _pretrained(name, pretrained, cache_dir=cache_dir, allow_download=allow_download, hub_url=hub_url)


def pull_weights(name: str, pretrained: str, *, cache_dir: str, hub_url: str = DEFAULT_HUB) -> str:
    """Fetch (or find) the weights of an open_clip tag into `cache_dir`; their local path."""
    tag_cfg = open_clip.get_pretrained_cfg(name, pretrained)
    if not tag_cfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
        raise ModelUnavailable(
            f"{name} has no pretrained tag {pretrained!r} (tags: {tags})", setting=PRETRAINED_SETTING
        )
    return _cached_tag_file(tag_cfg, cache_dir, hub_url) or _download(
        name, pretrained, tag_cfg, cache_dir=cache_dir, allow_download=True, hub_url=hub_url
    )


def tiny_source() -> ClipSource:
    """The tiny random network: what a service falls back to when real weights cannot be had."""
    return _tiny()


def _tiny(seed: int = RANDOM_SEED) -> ClipSource:
    with _seeded(seed):
        model = open_clip.CLIP(**TINY_CONFIG)
    cfg = asdict(open_clip.transform.PreprocessCfg(size=TINY_CONFIG["vision_cfg"]["image_size"]))
    open_clip.set_model_preprocess_cfg(model, cfg)
    tokenizer = open_clip.SimpleTokenizer(context_length=TINY_CONFIG["text_cfg"]["context_length"])
    return ClipSource(
        model.eval(), tokenizer, cfg, f"random-r{TINY_REVISION}-seed{seed}", is_tiny=True, random_weights=True
    )


def _random(name: str) -> ClipSource:
    with _seeded():
        model = open_clip.create_model(name, pretrained=None)
    return _wrap(model, name, f"random-seed{RANDOM_SEED}", random_weights=True)


def _pretrained(
    name: str, pretrained: str, *, cache_dir: str | None, allow_download: bool, hub_url: str
) -> ClipSource:
    tag_cfg = open_clip.get_pretrained_cfg(name, pretrained)
    if tag_cfg:
        path = _cached_tag_file(tag_cfg, cache_dir, hub_url) or _download(
            name, pretrained, tag_cfg, cache_dir=cache_dir, allow_download=allow_download, hub_url=hub_url
        )
        overrides = {k: tag_cfg[k] for k in _TAG_PREPROCESS_KEYS if k in tag_cfg}
        model = _create(name, path, quick_gelu=bool(tag_cfg.get("quick_gelu", False)), preprocess=overrides)
        return _wrap(model, name, pretrained, random_weights=False)
    if not Path(pretrained).is_file():
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
        raise ModelUnavailable(
            f"{PRETRAINED_SETTING}={pretrained!r} is neither an existing checkpoint file nor a "
            f"pretrained tag of {name} (tags: {tags}); point it at a local checkpoint, or leave "
            "it empty for random weights",
            setting=PRETRAINED_SETTING,
        )
    model = _create(name, pretrained, quick_gelu=False, preprocess={})
    return _wrap(model, name, f"file-{_file_digest(Path(pretrained))}", random_weights=False)


def _create(name: str, path: str, *, quick_gelu: bool, preprocess: dict[str, Any]) -> torch.nn.Module:
    try:
        return open_clip.create_model(
            name, pretrained=path, force_quick_gelu=quick_gelu, force_preprocess_cfg=preprocess
        )
    except Exception as exc:  # a corrupt or mismatched checkpoint: say which setting
        raise ModelUnavailable(
            f"could not load CLIP weights {path} into {name}: {exc}; check {PRETRAINED_SETTING} and {MODEL_SETTING}",
            setting=PRETRAINED_SETTING,
        ) from exc


def _hub_files(tag_cfg: dict[str, Any], hub_url: str) -> list[HubFile]:
    """The files a tag's `hf_hub` entry may name, safetensors first (no pickle to load)."""
    repo, filename = os.path.split(tag_cfg["hf_hub"])
    names = [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME] if not filename else [filename]
    return [HubFile(hub_url, repo, candidate) for candidate in names]


def _cached_tag_file(tag_cfg: dict[str, Any], cache_dir: str | None, hub_url: str = DEFAULT_HUB) -> str | None:
    """The tag's weights if a previous download left them on this machine."""
    if tag_cfg.get("file") and Path(tag_cfg["file"]).is_file():
        return str(tag_cfg["file"])
    hub = tag_cfg.get("hf_hub", "")
    if hub and cache_dir:
        for file in _hub_files(tag_cfg, hub_url):
            verified = hub_download.cached(file, Path(cache_dir))
            if verified is not None:
                return str(verified)
    if hub:
        from huggingface_hub import try_to_load_from_cache

        repo, filename = os.path.split(hub)
        names = [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME] if not filename else [filename]
        if filename.endswith((".bin", ".pth")):
            names.insert(0, filename[:-4] + ".safetensors")
        for candidate in names:
            found = try_to_load_from_cache(repo, candidate, cache_dir=cache_dir)
            if isinstance(found, str):
                return found
    url = tag_cfg.get("url", "")
    if url:
        target = Path(cache_dir or Path.home() / ".cache" / "clip") / os.path.basename(url)
        if target.is_file():
            return str(target)
    return None


def _download(
    name: str, tag: str, tag_cfg: dict[str, Any], *, cache_dir: str | None, allow_download: bool, hub_url: str
) -> str:
    hint = (
        f"CLIP weights {name}/{tag} are not on this machine and the model hub "
        f"{'is not to be contacted' if not allow_download else 'could not be reached'}; "
        f"set {PRETRAINED_SETTING} to a local checkpoint file, leave it empty for random "
        f"weights, or set {MODEL_SETTING}=tiny"
    )
    if not allow_download:
        raise ModelUnavailable(hint, setting=PRETRAINED_SETTING)
    if tag_cfg.get("hf_hub") and cache_dir:
        return _download_from_hub(name, tag, tag_cfg, Path(cache_dir), hub_url, hint)
    try:
        path = open_clip.download_pretrained(tag_cfg, cache_dir=cache_dir)
    except Exception as exc:  # network, auth, missing file: all mean "not available here"
        raise ModelUnavailable(f"{hint} ({type(exc).__name__})", setting=PRETRAINED_SETTING) from exc
    if not path:
        raise ModelUnavailable(hint, setting=PRETRAINED_SETTING)
    return str(path)


def _download_from_hub(
    name: str, tag: str, tag_cfg: dict[str, Any], cache_dir: Path, hub_url: str, hint: str
) -> str:
    """Our own fetch: verified, resumable, with a progress line, from the configured hub."""
    reasons: list[str] = []
    progress = hub_download.console_progress(f"CLIP {name}/{tag}")
    for file in _hub_files(tag_cfg, hub_url):
        try:
            return str(hub_download.fetch(file, cache_dir, progress=progress))
        except hub_download.HubUnavailable as exc:
            reasons.append(str(exc))  # the next candidate name may be there
        except (hub_download.DownloadInterrupted, hub_download.ChecksumMismatch) as exc:
            raise ModelUnavailable(f"{hint} ({exc})", setting=PRETRAINED_SETTING) from exc
    raise ModelUnavailable(f"{hint} ({'; '.join(dict.fromkeys(reasons))})", setting=PRETRAINED_SETTING)


def _schema_source(name: str, *, allow_download: bool) -> ClipSource:
    if name.startswith("hf-hub:") and not allow_download:
        raise ModelUnavailable(
            f"{MODEL_SETTING}={name!r} needs the model hub, which is not to be contacted here; "
            f"use a local-dir: path or an architecture with a local {PRETRAINED_SETTING} file",
            setting=MODEL_SETTING,
        )
    try:
        model = open_clip.create_model(name)
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as exc:
        raise ModelUnavailable(
            f"could not load CLIP {name!r}: {exc}; check {MODEL_SETTING}", setting=MODEL_SETTING
        ) from exc
    cfg = open_clip.get_model_preprocess_cfg(model)
    return ClipSource(model.eval(), tokenizer, cfg, name.split(":", 1)[1], False, False)


def _wrap(model: torch.nn.Module, name: str, version: str, *, random_weights: bool) -> ClipSource:
    cfg = open_clip.get_model_preprocess_cfg(model)
    return ClipSource(
        model.eval(), open_clip.get_tokenizer(name), cfg, version, is_tiny=False, random_weights=random_weights
    )


@contextmanager
def _seeded(seed: int = RANDOM_SEED) -> Iterator[None]:
    """Random initialisation from a fixed seed, leaving the caller's RNG state untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _file_digest(path: Path) -> str:
    """Content hash of a checkpoint: vectors are tied to the bytes, not to the file name."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]
