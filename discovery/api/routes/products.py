"""Products: one product with its variants and linked assets."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter

from discovery.api.deps import CallerDep, CtxDep
from discovery.services import catalog

router = APIRouter(prefix="/api", tags=["products"])


@router.get("/products/{sku}")
def get_product(sku: str, ctx: CtxDep, caller: CallerDep) -> Mapping[str, object]:
    """A product with its variants and linked assets (public callers get the shopper view)."""
    return catalog.product_view(ctx, sku, public=caller.public)
