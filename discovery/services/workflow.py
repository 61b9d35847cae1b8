"""Product workflow: draft -> in_review -> approved, audited; a channel may require approved."""

from __future__ import annotations

from discovery.domain import JSONObject, Product
from discovery.errors import Conflict, InvalidQuery, NotFound
from discovery.services import webhooks
from discovery.services.context import Context
from discovery.services.links import reindex_assets_for_products
from discovery.store.derive import family_roots, product_docs

STATUSES = ("draft", "in_review", "approved")
# Where a product may go from each status; withdrawn comes back only through an import.
MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("in_review",),
    "in_review": ("approved", "draft"),
    "approved": ("draft", "in_review"),
    "withdrawn": ("draft",),
}


def set_status(ctx: Context, sku: str, status: str, *, actor: str, note: str | None = None) -> JSONObject:
    if status not in STATUSES:
        raise InvalidQuery(f"status must be one of {', '.join(STATUSES)}", field="status")
    product = ctx.records.get_product(sku)
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}")
    before = product.status
    if before == status:
        return {"sku": sku, "status": status, "changed": False}
    if status not in MOVES.get(before, ()):
        raise Conflict(f"a {before} product cannot move to {status}", field="status")

    def move(stored: Product) -> bool:
        if stored.status != before:  # another person moved it since it was read here
            raise Conflict(f"{sku} is {stored.status} now, not {before}; look again", field="status")
        stored.status = status
        return True

    product = ctx.records.edits.product(sku, move) or product
    ctx.records.audit(
        actor=actor,
        action="product.status",
        target=f"product:{sku}",
        detail={"from": before, "to": status, "note": note},
    )
    webhooks.emit(ctx, "product.changed", {"sku": sku, "status": status, "from": before})
    docs, gone = product_docs(ctx.records, family_roots([product]))
    ctx.backend.upsert(docs, refresh=True)
    if gone:
        ctx.backend.delete(gone, refresh=True)
    # Only listed products lend their words to their assets: approving or unlisting a
    # product (and with it its variants) changes what their assets are found by.
    family = [sku, *(v.sku for v in ctx.records.variants_of([sku]).get(sku, []))]
    reindex_assets_for_products(ctx, family)
    return {"sku": sku, "status": status, "changed": True, "from": before}
