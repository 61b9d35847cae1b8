"""What linking needs to know of the whole catalog, kept between batches.

Linking a chunk of products (or a batch of assets) asks about every stored asset's file
name, every SKU and every product's image references. Read and decoded in full for each
500-row chunk, that was ~7 s per chunk at 100,000 products and 100,000 assets: the import
ran at ~28 rows/s. Here they are read once per process and brought up to date by the rows
written since the last look (`discovery.store.name_records`); a count that does not add up
reads everything again. Each structure handed out is a snapshot, never changed afterwards
(an update builds new ones), so batches on other threads can keep reading theirs.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from discovery.store import name_records as nr
from discovery.store import tables as t
from discovery.store.records import Records
from indexer.assets import links as lk
from indexer.assets.links import FilenameRule

# Rows are read again from this long before the newest stamp seen: a write whose
# transaction began earlier (its `updated_at`) may commit after the last look.
SLACK = timedelta(seconds=120)


def _since(newest: datetime | None) -> datetime | None:
    return None if newest is None else newest - SLACK


class CatalogNames:
    """Asset file names, SKUs and image references of one records database."""

    def __init__(self, records: Records) -> None:
        self._engine = records.engine
        self._lock = threading.Lock()
        self._asset_stamp: nr.Stamp | None = None
        self._names: dict[str, str] = {}  # asset id -> file name
        self._by_name: dict[str, list[str]] = {}  # name_key -> asset ids
        self._sku_stamp: nr.Stamp | None = None
        self._skus: set[str] = set()
        self._sku_index = lk.SkuIndex(())
        self._ref_stamp: nr.Stamp | None = None
        self._refs_of: dict[str, list[str]] = {}  # sku -> its image references
        self._refs: dict[str, list[str]] = {}  # name_key -> skus naming it
        # per set of file-name rules: asset id -> (file name, the SKU keys its name carries)
        self._tokens: dict[tuple[FilenameRule, ...], dict[str, tuple[str, frozenset[str]]]] = {}

    # --- assets ---------------------------------------------------------------------

    def asset_names(self) -> Mapping[str, str]:
        """Asset id -> file name, every stored asset."""
        with self._lock:
            self._catch_up_assets()
            return self._names

    def ids_by_name(self) -> Mapping[str, Sequence[str]]:
        """`name_key(file name)` -> ids of the stored assets of that name."""
        with self._lock:
            self._catch_up_assets()
            return self._by_name

    def _catch_up_assets(self) -> None:
        now = nr.stamp(self._engine, t.assets)
        if now == self._asset_stamp:
            return
        names = dict(self._names)
        changed = nr.asset_names(self._engine, _since(self._asset_stamp[1])) if self._asset_stamp else []
        names.update(changed)
        if self._asset_stamp is None or len(names) != now[0]:
            names = dict(nr.asset_names(self._engine))
            by_name = lk.ids_by_name(names.items())
        else:
            by_name = dict(self._by_name)
            for asset_id, filename in changed:
                old = self._names.get(asset_id)
                if old is not None and old != filename:
                    kept = [i for i in by_name.get(lk.name_key(old), []) if i != asset_id]
                    by_name[lk.name_key(old)] = kept
                key = lk.name_key(filename)
                ids = by_name.get(key, [])
                if asset_id not in ids:
                    by_name[key] = [*ids, asset_id]
        self._names, self._by_name, self._asset_stamp = names, by_name, now

    def rule_tokens(self, rules: Sequence[FilenameRule]) -> dict[str, tuple[str, frozenset[str]]]:
        """Asset id -> (file name, the SKU tokens `rules` find in it, separators dropped).
        Kept per set of rules; an asset whose name changed is read again."""
        key = tuple(rules)
        names = self.asset_names()
        with self._lock:
            known = self._tokens.get(key, {})
            fresh: dict[str, tuple[str, frozenset[str]]] = {}
            for asset_id, filename in names.items():
                held = known.get(asset_id)
                fresh[asset_id] = (
                    held if held is not None and held[0] == filename else (filename, _tokens(filename, key))
                )
            self._tokens[key] = fresh
            return fresh

    # --- products -------------------------------------------------------------------

    def sku_index(self, extra: Sequence[str] = ()) -> lk.SkuIndex:
        """Every stored SKU (and `extra`), indexed for the file-name rule."""
        with self._lock:
            now = nr.stamp(self._engine, t.products)
            if now != self._sku_stamp:
                since = _since(self._sku_stamp[1]) if self._sku_stamp is not None else None
                fresh = nr.product_skus(self._engine, since) if self._sku_stamp is not None else []
                new = [s for s in fresh if s not in self._skus]
                if self._sku_stamp is None or len(self._skus) + len(new) != now[0]:
                    self._skus = set(nr.product_skus(self._engine))
                    self._sku_index = lk.SkuIndex(self._skus)
                elif new:
                    self._skus = self._skus | set(new)
                    self._sku_index = self._sku_index.with_skus(new)
                self._sku_stamp = now
            missing = [s for s in extra if s not in self._skus]
            return self._sku_index.with_skus(missing) if missing else self._sku_index

    def image_refs(self) -> Mapping[str, Sequence[str]]:
        """`name_key(image reference)` -> SKUs of the products whose export names it."""
        with self._lock:
            now = nr.stamp(self._engine, t.products)
            if now == self._ref_stamp:
                return self._refs
            changed = nr.product_image_refs(self._engine, _since(self._ref_stamp[1])) if self._ref_stamp else {}
            refs_of = {**self._refs_of, **changed}
            if self._ref_stamp is None or len(refs_of) != now[0]:
                refs_of = nr.product_image_refs(self._engine)
                refs = _by_ref(refs_of, refs_of, {})
            else:
                refs = _by_ref(changed, self._refs_of, self._refs)
            self._refs_of, self._refs, self._ref_stamp = refs_of, refs, now
            return self._refs


def _tokens(filename: str, rules: Sequence[FilenameRule]) -> frozenset[str]:
    name = lk.name_key(filename)
    found = (m["sku"] for rule in rules if (m := rule.pattern.match(name)))
    return frozenset(lk.compact_sku(token) for token in found)


def _by_ref(
    changed: Mapping[str, Sequence[str]], before: Mapping[str, Sequence[str]], refs: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """`refs` (name -> SKUs, SKU order) with the `changed` products' references replacing
    what they named `before`; lists that change are new lists."""
    out = dict(refs)
    for sku in changed:
        for ref in before.get(sku, ()) if refs else ():
            key = lk.name_key(ref)
            if sku in out.get(key, ()):
                out[key] = [s for s in out[key] if s != sku]
        for ref in changed[sku]:
            key = lk.name_key(ref)
            skus = out.get(key, [])
            if sku not in skus:
                out[key] = sorted([*skus, sku])
    return out


_KEPT: weakref.WeakKeyDictionary[Records, CatalogNames] = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def catalog_names(records: Records) -> CatalogNames:
    """The process's `CatalogNames` for these records."""
    with _KEPT_LOCK:
        found = _KEPT.get(records)
        if found is None:
            found = _KEPT[records] = CatalogNames(records)
        return found
