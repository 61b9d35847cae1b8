"""Keep completeness current when a channel's rules change (it must never go stale).

Call `refresh_completeness_if_stale` at start-up and after the channel file changes: it
compares the rules' digest with the one last applied (stored in `marker`) and recomputes
every product only when they differ. `recompute_completeness` does the work: products
whose completeness changed are saved and reindexed (with their parents), a batch at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from discovery.domain import JSONObject
from discovery.store.index.base import SearchBackend
from discovery.store.records import Records
from indexer.products.completeness import ChannelSpec, channels_digest, completeness
from indexer.products.indexing import index_products, linked_assets, save_products


@dataclass(slots=True)
class RefreshReport:
    checked: int = 0
    changed: int = 0
    index_failed: int = 0
    dead_letters: list[JSONObject] = field(default_factory=list)


def recompute_completeness(
    *, records: Records, backend: SearchBackend, channels: Mapping[str, ChannelSpec], batch: int = 500
) -> RefreshReport:
    """Recompute every product's completeness under `channels`; save and reindex changes."""
    report = RefreshReport()
    for products in records.iter_products(batch=batch):
        report.checked += len(products)
        assets = linked_assets(records, products)
        touched = []
        for product in products:
            fresh = completeness(product, channels, assets)
            if fresh != product.completeness:
                product.completeness = fresh
                touched.append(product)
        if not touched:
            continue
        _, changed = save_products(records, touched)
        report.changed += len(changed)
        bulk = index_products(records, backend, changed, known={p.sku: p for p in touched})
        for outcome in bulk.failed:
            report.index_failed += 1
            report.dead_letters.append({"id": outcome.id, "reason": outcome.error or "index write failed"})
    return report


def refresh_completeness_if_stale(
    *, records: Records, backend: SearchBackend, channels: Mapping[str, ChannelSpec], marker: Path
) -> RefreshReport | None:
    """Recompute when the channel rules differ from those last applied; None when current.
    The new digest is stored only once every product was recomputed and reindexed."""
    digest = channels_digest(channels)
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == digest:
        return None
    report = recompute_completeness(records=records, backend=backend, channels=channels)
    if report.index_failed == 0:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(digest + "\n", encoding="utf-8")
    return report
