"""Index documents owed by review decisions, and how they are paid.

A decision writes the target's tags, its audit entry and an `index_pending` row in ONE
records transaction (the records are the truth), then `settle`s:
- on the embedded engine the request answers now; the `DocWriter` thread rebuilds the owed
  documents from the records in batches (several decisions on one document: one rebuild),
  commits them in one near-real-time commit and only then deletes the rows. Searches see a
  decision within about 0.1-0.3 s (the commit publishes this process's searcher; other
  processes follow within `FOLLOW_EVERY_S`).
- on OpenSearch the request writes its documents itself and makes them visible once
  (`make_visible`), as before; the rows go once the documents are written.

A process that dies between the two commits leaves the rows: any process's writer drains
them (at its start, then every `DRAIN_EVERY_S`; on OpenSearch rows older than
`LEFTOVER_AFTER_S`, which no live request is still writing). Drains on one embedded index
take turns across processes (`DRAIN_LOCK`), so a document rebuilt from older records is
never committed after one rebuilt from newer records.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import partial

from discovery.domain import Asset, Product
from discovery.services.asset_writes import asset_docs
from discovery.services.context import Context
from discovery.services.links import reindex_assets_for_products
from discovery.store.derive import family_roots, product_docs
from discovery.store.index.base import IndexDoc
from discovery.store.index_pending import Owed

BATCH = 500  # owed rows a drain takes at once
GATHER_S = 0.05  # after a wake-up: decisions arriving together share one rebuild and commit
SPACING_S = 0.4  # drains (index commits) start at least this far apart: visible within ~0.6 s
DRAIN_EVERY_S = 1.0  # unwoken: rows other processes (or a crash) left
LEFTOVER_AFTER_S = 10.0  # on OpenSearch the thread takes only rows this old (a crash's)
DRAIN_LOCK = ".owed-docs.lock"


def defers(ctx: Context) -> bool:
    """Whether decisions leave their documents to the writer thread: on the embedded engine,
    where a commit is shared by every writer anyway. OpenSearch writes them in the request,
    which then refreshes once (`make_visible`)."""
    return ctx.settings.backend == "embedded"


def start(ctx: Context) -> None:
    """Start the writer thread (once): it first writes what a crash left owed."""
    if defers(ctx):
        ctx.docs.start(partial(drain, ctx), every=DRAIN_EVERY_S, gather=GATHER_S, spacing=SPACING_S)
    else:
        ctx.docs.start(partial(drain, ctx), every=LEFTOVER_AFTER_S / 2, gather=0.0)


def settle(ctx: Context, keys: Sequence[str]) -> None:
    """These targets (`product:SKU` / `asset:ID`) were just owed their documents: wake the
    writer (embedded), or write them now (OpenSearch; the caller makes them visible)."""
    if not keys:
        return
    start(ctx)
    if defers(ctx):
        ctx.docs.wake()
        return
    # The rows first, then the records: what the rebuild reads is at least as new as what
    # each taken row stands for, so deleting them after the write loses nothing.
    owed = ctx.records.pending.take(targets=keys, limit=max(BATCH, 4 * len(keys)))
    if owed:
        write_owed(ctx, owed)
        ctx.records.pending.done(o.id for o in owed)


def drain(ctx: Context) -> int:
    """The owed documents, a batch at a time: rebuilt from the records, committed, then
    marked done. Returns how many rows it took (0: nothing owed)."""
    older = 0.0 if defers(ctx) else LEFTOVER_AFTER_S
    total = 0
    while True:
        with _drain_lock(ctx) if defers(ctx) else nullcontext():
            owed = ctx.records.pending.take(older_than=older, limit=BATCH)
            if owed:
                write_owed(ctx, owed)
                ctx.backend.refresh()  # committed before the rows go
                ctx.records.pending.done(o.id for o in owed)
        total += len(owed)
        if len(owed) < BATCH:  # what came in meanwhile waits for the next drain
            return total


def write_owed(ctx: Context, owed: Sequence[Owed]) -> None:
    """Rebuild and stage the documents of these rows' targets (each once). A target deleted
    since owes nothing: its deletion removed its document."""
    keys = list(dict.fromkeys(o.target for o in owed))
    skus = [k.partition(":")[2] for k in keys if k.startswith("product:")]
    ids = [k.partition(":")[2] for k in keys if k.startswith("asset:")]
    targets: list[Product | Asset] = [*ctx.records.get_products(skus).values(), *ctx.records.get_assets(ids).values()]
    reindex(ctx, targets)


def reindex(ctx: Context, targets: Sequence[Product | Asset]) -> None:
    """Stage the targets' new documents (one upsert for many); no refresh. An accepted
    product tag is inherited by the product's assets, which are staged too."""
    assets = [x for x in targets if isinstance(x, Asset)]
    products = [x for x in targets if isinstance(x, Product)]
    docs: list[IndexDoc] = []
    if assets:
        docs.extend(asset_docs(ctx, assets))
    gone: list[str] = []
    if products:
        product_docs_, gone = product_docs(ctx.records, family_roots(products))
        docs.extend(product_docs_)
    if docs:
        ctx.backend.upsert(docs)
    if gone:
        ctx.backend.delete(gone)
    if products:
        reindex_assets_for_products(ctx, [p.sku for p in products], refresh=False)


@contextmanager
def _drain_lock(ctx: Context) -> Iterator[None]:
    """Drains of one embedded index take turns, across processes (an `flock`, released by
    the kernel if the holder dies)."""
    root = ctx.settings.index_dir / ctx.settings.index_prefix
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / DRAIN_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
