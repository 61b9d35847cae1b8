"""Rebuild the search index from the records: a new index version, then an atomic swap."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from discovery.domain import JSONObject, JSONValue
from discovery.services.context import Context
from discovery.store.derive import all_docs
from discovery.store.index.base import IndexDoc

MAX_REPORTED = 100
# Records are stamped by the clock of the process that wrote them: allow for a little skew.
CLOCK_SLACK = timedelta(seconds=2)


def _scrub(value: JSONValue, path: str, bad: dict[str, float]) -> JSONValue:
    if isinstance(value, float) and not math.isfinite(value):
        bad.setdefault(path, value)
        return None
    if isinstance(value, dict):
        return {k: _scrub(v, f"{path}.{k}" if path else k, bad) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, path, bad) for v in value]
    return value


def drop_bad_numbers(doc: IndexDoc) -> list[str]:
    """Take out of a document the numbers no engine can hold (NaN, infinities, stored
    before the readers refused them) and say which; the rest of the document is kept."""
    bad = {name: number for name, number in doc.numbers.items() if not math.isfinite(number)}
    for name in bad:
        del doc.numbers[name]
    stored = _scrub(doc.stored, "", bad)
    assert isinstance(stored, dict)
    doc.stored = stored
    return [f"{name} is {number}, not a finite number: left out of the index" for name, number in sorted(bad.items())]


def reindex(ctx: Context, *, progress: Callable[[int], None] | None = None) -> JSONObject:
    """Build the next index version from every record and make it current. Searches keep
    answering from the old version until the swap; returns the counts and failures, and
    under `warnings` each record indexed without a value it holds that no engine can
    (fix the record: a reindex will never index it)."""
    warnings: list[JSONValue] = []

    def docs() -> Iterator[IndexDoc]:
        for n, doc in enumerate(all_docs(ctx.records), start=1):
            if progress is not None and n % 100 == 0:
                progress(n)
            for problem in drop_bad_numbers(doc):
                warnings.append({"id": doc.id, "error": problem})
            yield doc

    # Writes while the new version is built go to the old one, which the swap drops: what was
    # written since the build began is written again through the alias once it has moved.
    began = datetime.now(UTC) - CLOCK_SLACK
    report = ctx.backend.rebuild(docs())
    caught = catch_up(ctx, began)
    failed = report.failed
    return {
        "indexed": report.indexed,
        "failed": len(failed),
        "failures": [{"id": o.id, "error": o.error} for o in failed[:MAX_REPORTED]],
        "warned": len(warnings),
        "warnings": warnings[:MAX_REPORTED],
        "caught_up": caught,
        "documents": ctx.backend.count(),
    }


def catch_up(ctx: Context, since: datetime, *, batch: int = 500) -> int:
    """Write again the documents of every product and asset written at or after `since`, with
    the products an asset links to, as owed documents are written (`owed_docs.reindex`: a
    product's assets follow it, a product gone is deleted); how many records."""
    from discovery.services.owed_docs import reindex as restage
    from discovery.store import name_records

    skus = name_records.product_skus(ctx.records.engine, since)
    asset_ids = [asset_id for asset_id, _ in name_records.asset_names(ctx.records.engine, since)]
    for i in range(0, len(asset_ids), batch):
        assets = list(ctx.records.get_assets(asset_ids[i : i + batch]).values())
        restage(ctx, assets)
        skus += [str(link["sku"]) for a in assets for link in a.product_skus if link.get("sku")]
    skus = list(dict.fromkeys(skus))
    for i in range(0, len(skus), batch):
        restage(ctx, list(ctx.records.get_products(skus[i : i + batch]).values()))
    ctx.backend.refresh()
    return len(skus) + len(asset_ids)
