"""Links for the assets of one ingest batch: the records-facing side of `links`.

What the pure matchers need (product image references, known SKUs, assets by file name)
is read from the records once per batch, and only when first needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from discovery.domain import Asset, JSONObject, Product, Tag
from discovery.store.records import Records
from indexer.assets import links as lk
from indexer.assets.catalog_names import CatalogNames, catalog_names


class BatchLinker:
    """Links each asset of a batch by manifest, image reference and file-name rule, and
    collects what was linked (by how), suggested, ambiguous or unmatched (`report`)."""

    def __init__(self, records: Records, *, manifest: Path | None, rules: Sequence[lk.FilenameRule]) -> None:
        self.records = records
        self.rules = rules
        self.ambiguous: list[JSONObject] = []
        self.report: list[JSONObject] = []  # link_report_entry()s: linked, suggested, ambiguous
        self.warnings: list[lk.ProblemRow] = []
        self.rows: dict[str, list[lk.ManifestRow]] = {}
        self.batch_names: dict[str, list[str]] = {}
        # manifest key -> (asset id, rights before the manifest, skus it added)
        self.applied: dict[str, tuple[str, JSONObject, list[str]]] = {}
        self.ambiguous_keys: set[str] = set()
        self.refs_applied: dict[str, tuple[str, list[str]]] = {}  # name key -> (asset id, skus)
        self.ambiguous_refs: set[str] = set()
        self._refs: Mapping[str, Sequence[str]] | None = None
        self._skus: lk.SkuIndex | None = None
        self._existing: Mapping[str, Sequence[str]] | None = None
        self._explicit: set[str] | None = None
        if manifest is not None:
            rows, problems = lk.parse_manifest(manifest.read_text(encoding="utf-8-sig"))
            self.warnings.extend({**p.to_json(), "file": p.file or manifest.name} for p in problems)
            for row in rows:
                self.rows.setdefault(lk.name_key(row.file), []).append(row)

    # --- what the records know, read once ------------------------------------------

    def refs(self) -> Mapping[str, Sequence[str]]:
        """Image file name -> SKUs of the products that name it."""
        if self._refs is None:
            self._refs = catalog_names(self.records).image_refs()
        return self._refs

    def explicit(self) -> set[str]:
        """SKUs whose images are named explicitly: by their export's image columns, or by
        this batch's manifest. The file-name rule only suggests links to these."""
        if self._explicit is None:
            manifest = {row.sku for rows in self.rows.values() for row in rows}
            self._explicit = {sku for skus in self.refs().values() for sku in skus} | manifest
        return self._explicit

    def skus(self) -> lk.SkuIndex:
        if self._skus is None:
            self._skus = catalog_names(self.records).sku_index()
        return self._skus

    def existing(self) -> Mapping[str, Sequence[str]]:
        """Stored assets by file name (read when a name first needs checking)."""
        if self._existing is None:
            self._existing = catalog_names(self.records).ids_by_name()
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
        refused = refused_skus(asset)
        new: list[lk.LinkMatch] = []
        new.extend(self._by_manifest(asset, key, name, current))
        new.extend(self._by_image_ref(asset, key, name, current))
        new = [m for m in new if m.sku not in refused]
        found = lk.match_filename(asset.id, name, self.rules, self.skus())
        if isinstance(found, lk.Ambiguity):
            self.ambiguous.append(found.to_json())
            self.report.append({"outcome": "ambiguous", "asset_id": asset.id, **found.to_json()})
        elif found is not None and found.sku not in refused:
            placed = {m.sku for m in new} | explicit_links(asset)
            if found.sku in placed:
                pass  # linked already, by a more trusted way
            elif found.sku not in self.explicit() and not placed:
                new.append(found)
            elif suggest_link(asset, found.sku, names_own_images=found.sku in self.explicit()):
                self.report.append(suggested_entry(asset, name, found.sku, self.explicit()))
        self.report.extend(linked_entry(asset.id, name, m) for m in new)
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


def refused_skus(asset: Asset) -> set[str]:
    """SKUs a person took this asset away from (a rejected suggested link, or an unlink):
    no rule or reference links them again."""
    return {t.name[len(lk.LINK_TAG) :] for t in asset.tags if t.name.startswith(lk.LINK_TAG) and t.status == "rejected"}


def explicit_links(asset: Asset) -> set[str]:
    """SKUs the asset is linked to by a person, a manifest or an image reference."""
    return {str(x.get("sku")) for x in asset.product_skus if x.get("how") in lk.EXPLICIT}


def suggest_link(asset: Asset, sku: str, *, names_own_images: bool = True) -> bool:
    """Add a suggested link to `sku` (a `link:<SKU>` tag for the review queue) unless the
    asset is linked to it or the suggestion was already made or decided. True when the
    suggestion stands (new or still waiting)."""
    if any(link.get("sku") == sku for link in asset.product_skus):
        return False
    name = lk.link_tag(sku)
    for tag in asset.tags:
        if tag.name == name:
            return tag.status == "suggested"
    why = "whose export names its own images" if names_own_images else "but a reference links it to another product"
    evidence = f"the file name “{asset.filename}” names {sku}, {why}"
    asset.tags.append(
        Tag(name=name, source="rule", status="suggested", confidence=0.6, model="filename_rule", evidence=evidence)
    )
    return True


def linked_entry(asset_id: str, file: str, match: lk.LinkMatch) -> JSONObject:
    return {"outcome": "linked", "file": file, "asset_id": asset_id, "sku": match.sku, "how": match.how}


def suggested_entry(asset: Asset, file: str, sku: str, explicit: set[str]) -> JSONObject:
    reason = (
        f"{sku}'s export names its images explicitly" if sku in explicit
        else "an explicit reference links this file to another product"
    )  # fmt: skip
    return {"outcome": "suggested", "file": file, "asset_id": asset.id, "sku": sku, "how": "filename_rule",
            "reason": f"{reason}: the file-name rule only suggests this link for review"}  # fmt: skip


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
    their SKUs. A product whose export names its images gets no file-name-rule link: the
    rule's candidates, and its earlier file-name-rule links, become suggested links.
    Writes the assets whose records change and returns them (index them with
    `indexing.index_assets`) with the report: `linked`, `suggested` and `ambiguous` entries
    (ambiguous ones not linked)."""
    new_skus = {p.sku for p in products}
    explicit = {p.sku for p in products if p.image_refs}
    catalog = catalog_names(records)
    refs = {p.sku: list(p.image_refs) for p in products if p.image_refs}
    links, ambiguous = lk.match_image_refs(refs, catalog.ids_by_name())
    rule_links: list[lk.LinkMatch] = []
    skus = catalog.sku_index(sorted(new_skus))
    for asset_id, filename in _rule_candidates(catalog, new_skus, rules):
        found = lk.match_filename(asset_id, filename, rules, skus)
        if isinstance(found, lk.LinkMatch) and found.sku in new_skus:
            rule_links.append(found)
        elif isinstance(found, lk.Ambiguity) and new_skus & set(found.candidates):
            ambiguous.append(found)
    by_asset: dict[str, list[lk.LinkMatch]] = {}
    for link in [*links, *rule_links]:
        by_asset.setdefault(link.asset_id, []).append(link)
    earlier = records.links.assets_for_skus(explicit)
    for asset_id in {i for ids in earlier.values() for i in ids}:
        by_asset.setdefault(asset_id, [])
    report: list[JSONObject] = [{"outcome": "ambiguous", **a.to_json()} for a in ambiguous]

    def apply(asset: Asset) -> bool:
        before = (list(asset.product_skus), [t.to_json() for t in asset.tags])
        report.extend(_apply_product_links(asset, by_asset[asset.id], explicit))
        return before != (asset.product_skus, [t.to_json() for t in asset.tags])

    # Applied to each asset as stored when written (locked): a reviewer's decision or a
    # person's link made while this import ran is kept, and counted on.
    changed = records.edits.assets(sorted(by_asset), apply)
    return changed, report


def _rule_candidates(catalog: CatalogNames, skus: set[str], rules: Sequence[lk.FilenameRule]) -> list[tuple[str, str]]:
    """The stored assets whose file name a rule could point at one of `skus`: a rule's
    SKU token equal to one of their keys (the others can neither link to them nor be
    ambiguous about them). A check per file name against the new SKUs' keys, where
    matching every file name against every SKU cost a second per chunk at 100,000."""
    if not rules or not skus:
        return []
    keys = {key for sku in skus for key in lk.sku_keys(sku)}
    return [(asset_id, name) for asset_id, (name, tokens) in catalog.rule_tokens(rules).items() if tokens & keys]


def _apply_product_links(asset: Asset, found: list[lk.LinkMatch], explicit: set[str]) -> list[JSONObject]:
    """Link `asset` as `found` says, the file-name rule only where no explicit reference
    speaks: to a product naming its images, it suggests (and an earlier rule link to such
    a product is taken back into a suggestion)."""
    refused = refused_skus(asset)
    found = [m for m in found if m.sku not in refused]
    report: list[JSONObject] = []
    demoted = [
        str(x["sku"]) for x in asset.product_skus if x.get("how") == "filename_rule" and x.get("sku") in explicit
    ]
    if demoted:
        _drop_links(asset, "filename_rule", demoted)
    keep = [m for m in found if m.how != "filename_rule"]
    placed = {m.sku for m in keep} | explicit_links(asset)
    for match in found:
        if match.how == "filename_rule" and match.sku not in placed and (match.sku in explicit or placed):
            continue
        if match.how == "filename_rule":
            keep.append(match)
    for sku in dict.fromkeys([*demoted, *(m.sku for m in found if m not in keep)]):
        if sku not in placed and suggest_link(asset, sku, names_own_images=sku in explicit):
            report.append(suggested_entry(asset, asset.filename, sku, explicit))
    report.extend(linked_entry(asset.id, asset.filename, m) for m in keep)
    asset.product_skus = lk.merge_links(asset.product_skus, keep)
    return report
