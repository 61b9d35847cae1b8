"""Links between assets and products, mirrored row per (asset, sku) from `Asset.product_skus`.

The asset record holds its links (with how each was made); this table answers the other
direction, "which assets belong to these SKUs", for product views, thumbnails and
completeness. `mirror_links` runs inside the asset upsert's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Column, Connection, Engine, Index, Integer, String, Table, delete, insert, select

from discovery.domain import Asset
from discovery.store import tables as t

asset_links = Table(
    "asset_links",
    t.metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("sku", String(255), primary_key=True),
    Column("how", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Index("ix_asset_links_sku", "sku"),
)


def mirror_links(conn: Connection, assets: Sequence[Asset]) -> None:
    if not assets:
        return
    conn.execute(delete(asset_links).where(asset_links.c.asset_id.in_([a.id for a in assets])))
    rows: list[dict[str, object]] = []
    for asset in assets:
        seen: set[str] = set()
        for position, link in enumerate(asset.product_skus):
            sku = str(link.get("sku") or "")
            if sku and sku not in seen:
                seen.add(sku)
                rows.append({"asset_id": asset.id, "sku": sku, "how": str(link.get("how") or ""), "position": position})
    if rows:
        conn.execute(insert(asset_links), rows)


class LinkRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def assets_for_skus(self, skus: Iterable[str]) -> dict[str, list[str]]:
        """Asset ids linked to each SKU, in a stable order (first linked first)."""
        wanted = list(dict.fromkeys(skus))
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(asset_links.c.sku, asset_links.c.asset_id)
                    .where(asset_links.c.sku.in_(wanted[i : i + 500]))
                    .order_by(asset_links.c.sku, asset_links.c.position, asset_links.c.asset_id)
                )
                for sku, asset_id in rows:
                    out.setdefault(sku, []).append(asset_id)
        return out
