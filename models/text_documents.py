"""Document texts (an import's product texts) through the model in bfloat16, where the CPU
has bfloat16 matrix units (AMX tiles).

A document batch is arithmetic-bound: float32 in onnxruntime ran MiniLM at ~150 texts per
CPU-second on the import's texts (~36 tokens) and was within reach of the core's float32
peak, so graph fusion could not help it (measured slower, see `models.text_query`). Under
torch's bfloat16 autocast the matrix products run on AMX tiles, accumulating in float32:
~250 texts per CPU-second in sorted batches of 16-32 (the same texts, one thread; 1.4x on
Shopify's sample catalog, whose texts are shorter and vary more), and the vectors keep a
cosine of 0.99998 (mean; min 0.99996) to the float32 ones, so stored vectors stay
comparable with queries and with vectors stored before. Short batches gain least: 8 texts
ran ~180 per CPU-second.

A CPU without AMX, a model on a GPU or with a prompt (which `encode` prepends) keeps the
float32 path; so does any failure of the bfloat16 forward pass, logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from models.text import text_features

log = logging.getLogger(__name__)


def bf16_matrix_units() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX tiles): elsewhere the
    autocast would convert without the speed, so documents stay on float32."""
    try:
        import torch

        return bool(torch.cpu._is_amx_tile_supported())
    except Exception:  # an older torch without the probe: assume no
        return False


def usable(model: Any) -> bool:
    """Whether documents of this model may run in bfloat16 here."""
    return model.device.type == "cpu" and getattr(model, "default_prompt_name", None) is None and bf16_matrix_units()


def encode_bf16(model: Any, texts: Sequence[str], batch_size: int) -> np.ndarray:
    """(n, dim) float32 unit vectors in the texts' order, computed in bfloat16 in batches of
    similar lengths (sorted by characters, as `models.text` does for float32)."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for start in range(0, len(order), batch_size):
            features = text_features(model, [texts[i] for i in order[start : start + batch_size]])
            vectors = model(features)["sentence_embedding"].float()
            parts.append(torch.nn.functional.normalize(vectors, dim=1).numpy())
    out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    out[order] = np.concatenate(parts)
    return out
