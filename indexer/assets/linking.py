"""Links for the assets of one ingest batch: the records-facing side of `links`.

What the pure matchers need (product image references, known SKUs, assets by file name)
is read from the records once per batch, and only when first needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from discovery.domain import Asset, JSONObject, Product
from discovery.store.records import Records
from indexer.assets import links as lk


class BatchLinker:
    """Links each asset of a batch by manifest, image reference and file-name rule, and
    collects what was ambiguous or unmatched."""

    def __init__(self, records: Records, *, manifest: Path | None, rules: Sequence[lk.FilenameRule]) -> None:
        self.records = records
        self.rules = rules
        self.ambiguous: list[JSONObject] = []
        self.warnings: list[lk.ProblemRow] = []
        self.rows: dict[str, list[lk.ManifestRow]] = {}
        self.batch_names: dict[str, list[str]] = {}
        # manifest key -> (asset id, rights before the manifest, skus it added)
        self.applied: dict[str, tuple[str, JSONObject, list[str]]] = {}
        self.ambiguous_keys: set[str] = set()
        self.refs_applied: dict[str, tuple[str, list[str]]] = {}  # name key -> (asset id, skus)
        self.ambiguous_refs: set[str] = set()
        self._refs: dict[str, list[str]] | None = None
        self._skus: lk.SkuIndex | None = None
        self._existing: dict[str, list[str]] | None = None
        if manifest is not None:
            rows, problems = lk.parse_manifest(manifest.read_text(encoding="utf-8-sig"))
            self.warnings.extend({**p.to_json(), "file": p.file or manifest.name} for p in problems)
            for row in rows:
                self.rows.setdefault(lk.name_key(row.file), []).append(row)

    # --- what the records know, read once ------------------------------------------

    def refs(self) -> dict[str, list[str]]:
        """Image file name -> SKUs of the products that name it."""
        if self._refs is None:
            self._refs = {}
            for batch in self.records.iter_products():
                for product in batch:
                    for ref in product.image_refs:
                        skus = self._refs.setdefault(lk.name_key(ref), [])
                        if product.sku not in skus:
                            skus.append(product.sku)
        return self._refs

    def skus(self) -> lk.SkuIndex:
        if self._skus is None:
            self._skus = lk.SkuIndex(self.records.product_skus())
        return self._skus

    def existing(self) -> dict[str, list[str]]:
        """Stored assets by file name (a scan: only read when a name needs checking)."""
        if self._existing is None:
            pairs = ((a.id, a.filename) for batch in self.records.iter_assets() for a in batch)
            self._existing = lk.ids_by_name(pairs)
        return self._existing

    # --- linking one asset ------------------------------------------------------------

    def link(self, asset: Asset, name: str, current: Callable[[str], Asset | None]) -> None:
        """Add the links `name` earns `asset`. `current(asset_id)` returns the live copy of
        an asset linked earlier in the batch, for undoing a manifest link that turned out
        ambiguous."""
        key = lk.name_key(name)
        ids = self.batch_names.setdefault(key, [])
        if asset.id not in ids:
            ids.append(asset.id)
        new: list[lk.LinkMatch] = []
        new.extend(self._by_manifest(asset, key, name, current))
        new.extend(self._by_image_ref(asset, key, name, current))
        found = lk.match_filename(asset.id, name, self.rules, self.skus())
        if isinstance(found, lk.Ambiguity):
            self.ambiguous.append(found.to_json())
        elif found is not None:
            new.append(found)
        asset.product_skus = lk.merge_links(asset.product_skus, new)

    def _by_manifest(
        self, asset: Asset, key: str, name: str, current: Callable[[str], Asset | None]
    ) -> list[lk.LinkMatch]:
        rows = self.rows.get(key)
        if not rows or key in self.ambiguous_keys:
            return []
        earlier = self.applied.get(key)
        if earlier is not None and earlier[0] != asset.id:
            self.ambiguous_keys.add(key)
            ids = (earlier[0], asset.id)
            self.ambiguous.append(lk.Ambiguity(name, "manifest", ids, "2 files in the batch have this name").to_json())
            if (first := current(earlier[0])) is not None:
                first.rights = dict(earlier[1])
                _drop_links(first, "manifest", earlier[2])
            return []
        before = dict(asset.rights)
        for row in rows:
            asset.rights.update(row.rights)
        self.applied[key] = (asset.id, before, [r.sku for r in rows])
        return [lk.LinkMatch(asset.id, r.sku, "manifest") for r in rows]

    def _by_image_ref(
        self, asset: Asset, key: str, name: str, current: Callable[[str], Asset | None]
    ) -> list[lk.LinkMatch]:
        skus = self.refs().get(key)
        if not skus or key in self.ambiguous_refs:
            return []
        others = {*self.existing().get(key, ()), *self.batch_names.get(key, ())} - {asset.id}
        if others:
            self.ambiguous_refs.add(key)
            ids = tuple(sorted({asset.id, *others}))
            self.ambiguous.append(
                lk.Ambiguity(name, "image_ref", ids, f"{len(ids)} assets have this file name").to_json()
            )
            earlier = self.refs_applied.pop(key, None)
            if earlier is not None and (first := current(earlier[0])) is not None:
                _drop_links(first, "image_ref", earlier[1])
            return []
        self.refs_applied[key] = (asset.id, list(skus))
        return [lk.LinkMatch(asset.id, sku, "image_ref") for sku in skus]

    def unmatched_rows(self) -> list[lk.ProblemRow]:
        """Manifest rows whose file was not in the batch."""
        return [
            {"line": row.line, "file": row.file, "field": "file", "reason": "no file of this name in the batch"}
            for key, rows in self.rows.items()
            if key not in self.batch_names
            for row in rows
        ]


def _drop_links(asset: Asset, how: str, skus: Sequence[str]) -> None:
    """Take back links made one way, once they turned out ambiguous."""
    asset.product_skus = [
        link for link in asset.product_skus if not (link.get("how") == how and link.get("sku") in skus)
    ]


def link_products(
    records: Records, products: Sequence[Product], *, rules: Sequence[lk.FilenameRule] = lk.DEFAULT_RULES
) -> tuple[list[Asset], list[JSONObject]]:
    """The other half of "whichever arrives first": link stored assets to products that
    arrive after them, by the products' image references and by file-name rules meeting
    their SKUs. Returns the assets whose links changed (save them with
    `pipeline.save_assets`) and the ambiguous matches, which are not linked."""
    new_skus = {p.sku for p in products}
    pairs = [(a.id, a.filename) for batch in records.iter_assets() for a in batch]
    refs = {p.sku: list(p.image_refs) for p in products if p.image_refs}
    links, ambiguous = lk.match_image_refs(refs, lk.ids_by_name(pairs))
    skus = lk.SkuIndex([*records.product_skus(), *new_skus])
    for asset_id, filename in pairs:
        found = lk.match_filename(asset_id, filename, rules, skus)
        if isinstance(found, lk.LinkMatch) and found.sku in new_skus:
            links.append(found)
        elif isinstance(found, lk.Ambiguity) and new_skus & set(found.candidates):
            ambiguous.append(found)
    by_asset: dict[str, list[lk.LinkMatch]] = {}
    for link in links:
        by_asset.setdefault(link.asset_id, []).append(link)
    changed: list[Asset] = []
    for asset_id, found_links in by_asset.items():
        asset = records.get_asset(asset_id)
        if asset is None:
            continue
        merged = lk.merge_links(asset.product_skus, found_links)
        if merged != asset.product_skus:
            asset.product_skus = merged
            changed.append(asset)
    return changed, [a.to_json() for a in ambiguous]
