"""A person's edit of stored records, applied to the newest record under its row lock.

An edit built on a record read earlier and written back whole loses whatever another writer
committed in between: a review decision, a usage flush, a link made in another tab, a
rendition first made by a download. Here the caller gives the change as a function; it runs
on the record as stored now, read locked (`row_locks.locked_records`) in the transaction that
writes it back with its tag and link index rows, so nothing committed meanwhile is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, update

from discovery.domain import Asset, Product
from discovery.store import tables as t
from discovery.store.link_records import mirror_links
from discovery.store.row_locks import locked_records, write_product
from discovery.store.tag_records import mirror

# A change edits the record it is given in place and says whether it changed anything (only
# those are written). It may raise to refuse: nothing of the edit is written then.
AssetChange = Callable[[Asset], bool]
ProductChange = Callable[[Product], bool]


class RecordEdits:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def assets(self, ids: Sequence[str], change: AssetChange) -> list[Asset]:
        """Apply `change` to each of these assets as stored now; returns the ones it changed,
        as written (in the order of `ids`; an id with no record is skipped)."""
        wanted = list(dict.fromkeys(ids))
        changed: list[Asset] = []
        for i in range(0, len(wanted), 500):
            with self.engine.begin() as conn:
                stored = locked_records(conn, t.assets, "id", wanted[i : i + 500])
                now = datetime.now(UTC)
                batch: list[Asset] = []
                for asset_id in wanted[i : i + 500]:
                    if asset_id not in stored:
                        continue
                    asset = Asset.from_json(stored[asset_id])
                    if not change(asset):
                        continue
                    asset.updated_at = now.isoformat()
                    stmt = update(t.assets).where(t.assets.c.id == asset.id)
                    conn.execute(stmt.values(data=asset.to_json(), updated_at=now))
                    batch.append(asset)
                mirror(conn, batch)
                mirror_links(conn, batch)
            changed.extend(batch)
        return changed

    def asset(self, asset_id: str, change: AssetChange) -> Asset | None:
        """`assets` for one: the asset as written, or None when `change` changed nothing or
        there is no such asset."""
        written = self.assets([asset_id], change)
        return written[0] if written else None

    def product(self, sku: str, change: ProductChange) -> Product | None:
        """Apply `change` to the product as stored now; the product as written, or None when
        `change` changed nothing or there is no such product. The edit is a person's, not an
        import's: the next re-import reads the product's row in full again."""
        with self.engine.begin() as conn:
            stored = locked_records(conn, t.products, "sku", [sku]).get(sku)
            if stored is None:
                return None
            product = Product.from_json(stored)
            if not change(product):
                return None
            write_product(conn, sku, product.to_json(), keeps_import_hash=False, stamp=datetime.now(UTC))
            mirror(conn, [product])
        return product
