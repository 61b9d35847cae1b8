"""From image files to model input, overlapped with inference.

Decoding and resizing release the GIL (PIL works in C), so a small thread pool keeps
the next batch's pixels ready while the model runs the current one. The number of
images in flight is bounded, so memory stays flat however many paths come in.
JPEGs are decoded at a reduced scale (libjpeg's DCT scaling through `Image.draft`)
when the model's input is much smaller than the file: a 1000x1000 photo for a
224-pixel model decodes at 250x250, several times cheaper, and the resize that
follows sees enough pixels.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

Preprocess = Callable[[Image.Image], torch.Tensor]
RunBatch = Callable[[torch.Tensor], np.ndarray]


@dataclass(slots=True)
class EncodedFiles:
    """Vectors in the order of the paths; rows of files that failed are zero."""

    vectors: np.ndarray
    failed: dict[int, str] = field(default_factory=dict)  # path index -> reason


def open_for_model(path: str | Path, min_side: int) -> Image.Image:
    """An RGB image whose shorter side is still at least `min_side` (when the file is)."""
    with Image.open(path) as image:
        if image.format == "JPEG":
            # draft() picks the largest DCT reduction keeping both sides >= the request.
            image.draft("RGB", (min_side, min_side))
        image.load()
        return to_rgb(ImageOps.exif_transpose(image))


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with transparency flattened onto white (how product cut-outs are shown)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image if image.mode == "RGB" else image.convert("RGB")


def encode_files(
    paths: Sequence[str | Path],
    *,
    load: Callable[[str | Path], torch.Tensor],
    run: RunBatch,
    dim: int,
    batch_size: int,
    pool: Executor | None = None,
    workers: int = 2,
) -> EncodedFiles:
    """Decode+preprocess in `pool` (or a pool of `workers` made for this call) while `run` embeds.

    At most two batches of images are decoded ahead of the model.
    """
    vectors = np.zeros((len(paths), dim), dtype=np.float32)
    result = EncodedFiles(vectors)
    if not paths:
        return result
    if pool is None:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clip-decode") as own:
            return encode_files(paths, load=load, run=run, dim=dim, batch_size=batch_size, pool=own)
    ahead: deque[tuple[int, Future[torch.Tensor]]] = deque()
    pending = iter(enumerate(paths))
    _submit(ahead, pending, pool, load, 2 * batch_size)
    while ahead:
        indices, tensors = _take_batch(ahead, batch_size, result.failed)
        _submit(ahead, pending, pool, load, 2 * batch_size)
        if tensors:
            vectors[indices] = run(torch.stack(tensors))
    return result


def _submit(
    ahead: deque[tuple[int, Future[torch.Tensor]]],
    pending: Iterable[tuple[int, str | Path]],
    pool: Executor,
    load: Callable[[str | Path], torch.Tensor],
    limit: int,
) -> None:
    for index, path in pending:
        ahead.append((index, pool.submit(load, path)))
        if len(ahead) >= limit:
            return


def _take_batch(
    ahead: deque[tuple[int, Future[torch.Tensor]]], batch_size: int, failed: dict[int, str]
) -> tuple[list[int], list[torch.Tensor]]:
    indices: list[int] = []
    tensors: list[torch.Tensor] = []
    while ahead and len(indices) < batch_size:
        index, future = ahead.popleft()
        try:
            tensors.append(future.result())
        except Exception as exc:  # one unreadable file must not sink the batch
            failed[index] = f"{type(exc).__name__}: {exc}"
            continue
        indices.append(index)
    return indices, tensors
