"""CLIP's text tower as search queries use it: only the positions a text needs, optionally int8.

With a causal mask and pooling at the end-of-text token (the argmax of the ids, as in
OpenAI-style CLIP), positions after the last end-of-text token cannot change the
result, so a short query runs ~10 positions instead of 77. A single query is then
bound by reading the weights, which int8 quantisation of the Linear layers cuts by
about half again on CPU. Other text towers (HF, CoCa, other pooling) run as open_clip
built them.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import open_clip
import torch

TextEncoder = Callable[[torch.Tensor], torch.Tensor]


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


def build_text_tower(model: Any, *, int8: bool = False) -> TextEncoder:
    """The trimmed tower where it is exact, else open_clip's own `encode_text`."""
    trimmable = type(model) is open_clip.CLIP and model.text_pool_type == "argmax" and model.attn_mask is not None
    if not trimmable:
        return model.encode_text
    return TrimmedTextTower(model, int8=int8)


def _quantised(transformer: torch.nn.Module) -> torch.nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eager dynamic quantisation's deprecation notice
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(copy.deepcopy(transformer).float(), {torch.nn.Linear}, dtype=torch.qint8)
