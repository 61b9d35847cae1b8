"""The few columns linking needs of every product and asset, read without decoding records:
SKUs, asset file names, and (decoded, but only for the rows asked) product image references.

Rows are only ever inserted or rewritten (nothing deletes a product or an asset), and every
write stamps `updated_at`, so a reader that keeps what it read can catch up with the rows
stamped since its last look (`since`) and check the count to know it holds every row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine

from discovery.store import tables as t

Stamp = tuple[int, datetime | None]


def stamp(engine: Engine, table: Table) -> Stamp:
    """(rows, newest `updated_at`) of `products` or `assets`: changes whenever a row is
    written."""
    with engine.connect() as conn:
        count, newest = conn.execute(select(func.count(), func.max(table.c.updated_at)).select_from(table)).one()
    return int(count), newest


def asset_names(engine: Engine, since: datetime | None = None) -> list[tuple[str, str]]:
    """(asset id, file name) of every asset, or of those written at or after `since`."""
    query = select(t.assets.c.id, t.assets.c.filename)
    if since is not None:
        query = query.where(t.assets.c.updated_at >= since)
    with engine.connect() as conn:
        return [(str(i), str(f)) for i, f in conn.execute(query)]


def product_skus(engine: Engine, since: datetime | None = None) -> list[str]:
    """Every SKU, or those of products written at or after `since`."""
    query = select(t.products.c.sku)
    if since is not None:
        query = query.where(t.products.c.updated_at >= since)
    with engine.connect() as conn:
        return [str(s) for s in conn.execute(query).scalars()]


def product_image_refs(engine: Engine, since: datetime | None = None) -> dict[str, list[str]]:
    """SKU -> the image references its record names (empty list for none), for every
    product or those written at or after `since`."""
    query = select(t.products.c.sku, t.products.c.data)
    if since is not None:
        query = query.where(t.products.c.updated_at >= since)
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for sku, data in conn.execute(query):
            refs = data.get("image_refs") if isinstance(data, dict) else None
            out[str(sku)] = [str(r) for r in refs] if isinstance(refs, list) else []
    return out
