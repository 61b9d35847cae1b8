"""The search service over a generated sample catalog, as the match-set and relevance tests take it."""

from __future__ import annotations

from dataclasses import dataclass

from discovery.services.context import Context


@dataclass
class Service:
    """A search service over the generated sample catalog, imported and embedded by the
    real import job with the real text model; `seed`/`products` say which catalog."""

    ctx: Context
    seed: int
    products: int
