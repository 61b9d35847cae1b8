"""One product import's state across its batches, and how each batch is written.

Rows come in one at a time (`row`): mapped, validated as read, assembled. A full batch is
written (`batch`): late links and translations applied to stored records, what the import
does not own kept (reviewed tags, linked assets, workflow status), variants inherited,
checked again once inherited, completeness computed, saved to the records (idempotent by
SKU), then the changed products, their parents and any stored variants of a changed parent
written to the index. `withdraw_absent` ends a `full` import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from discovery.domain import Asset, Product
from discovery.foreground import step_aside
from discovery.store.index.base import BulkReport, SearchBackend
from discovery.store.records import Records
from indexer.products.assemble import Assembler, Batch
from indexer.products.completeness import ChannelSpec, completeness
from indexer.products.fields import merge_translation
from indexer.products.indexing import index_products, keep_unowned, linked_assets, save_products
from indexer.products.mapping import MappedRow, Mapper
from indexer.products.mapping_spec import MappingSpec
from indexer.products.readers import Row
from indexer.products.report import ImportReport, Reject
from indexer.products.skulines import SkuLines
from indexer.products.unchanged import import_salt, row_hash, unchanged_skus
from indexer.products.validate import Validator
from indexer.products.variants import reinherit, strip_inherited

# A product the export gives no status: an export comes from the system of record (shop,
# PIM), which publishes what it exports, so a new product is listed at once; a stored one
# keeps its workflow status; one that was withdrawn comes back as a draft for a person to
# approve again. Exports that carry a status (Shopify `Status`, Akeneo `enabled`, Magento
# `product_online`, or a `status` column) say otherwise per row.
IMPORT_DEFAULT_STATUS = "approved"


def _default_status(old: Product | None) -> str:
    if old is None:
        return IMPORT_DEFAULT_STATUS
    return "draft" if old.status == "withdrawn" else old.status


class ImportRun:
    """The state of one import across its batches: `row()` takes each read row and may
    return a full batch, `batch()` writes one, `withdraw_absent()` ends a `full` import.
    `import_products` drives it over a whole file; a job runner may drive the steps itself."""

    def __init__(
        self,
        *,
        records: Records,
        backend: SearchBackend,
        spec: MappingSpec,
        channels: Mapping[str, ChannelSpec],
        report: ImportReport,
        chunk_size: int,
        lines: SkuLines,
        salt_extra: str = "",
    ) -> None:
        """`salt_extra`: what else decides the record of a row (the caller's text model),
        part of the row hash that lets a re-import skip unchanged rows (`skip_unchanged`)."""
        self.records = records
        self.backend = backend
        self.channels = channels
        self.report = report
        self.mapper = Mapper(spec)
        self.validator = Validator(spec.rules, {name: ch.rules for name, ch in channels.items()})
        self.lines = lines
        self.assembler = Assembler(report, lines, chunk_size=chunk_size, job_id=report.job_id)
        self.written: list[str] = []  # the last batch's products whose records it changed
        # Called with those SKUs once they are stored, before their families are indexed
        # (a job stores their text vectors here, so each document is written once).
        self.before_index: Callable[[list[str]], object] | None = None
        self.salt = import_salt(spec, channels, salt_extra)
        self.parents_kept: set[str] = set()  # parents not skipped so far (their variants are kept)
        # Of the rows found unchanged, those to process all the same (a job's hooks still owe
        # them work, such as a vector of the current text model).
        self.keep_unchanged: Callable[[list[str]], set[str]] | None = None
        self.fatal = False
        self.unknown_skus = False  # some rejected row's SKU could not be read (see `withdraw_absent`)

    # -- rows ------------------------------------------------------------------------

    def row(self, item: Row | Reject) -> Batch | None:
        self.report.received += 1
        if isinstance(item, Reject):
            self.fatal = self.fatal or item.fatal
            self._reject(item)
            return None
        line, values = item
        mapped = self.mapper.map(line, values)
        if isinstance(mapped, Reject):
            self._reject(mapped)
            return None
        if mapped.product is not None and mapped.translation is None:
            found = self.validator.check(mapped.product, relaxed=bool(mapped.product.parent_sku))
            if found:
                self._reject(self._rule_reject(mapped, *found))
                return None
        return self.assembler.add(mapped)

    def _rule_reject(self, mapped: MappedRow, path: str, reason: str) -> Reject:
        assert mapped.product is not None
        column = self.mapper.column_for(path)
        return Reject(line=mapped.line, field=column, reason=reason, sku=mapped.product.sku)

    def _reject(self, item: Reject) -> None:
        self.report.reject(item)

    # -- batches ---------------------------------------------------------------------

    def skip_unchanged(self, batch: Batch) -> Batch:
        """Drop the products whose row hashes as the one their stored record was made of
        (`indexer.products.unchanged`): counted, never settled, written or indexed again.
        The others carry their row hash to the records. One query for the whole batch."""
        hashes = {sku: row_hash(product, self.salt) for sku, product in batch.products.items()}
        stored = self.records.import_states(hashes)
        self.parents_kept |= {
            sku for sku, p in batch.products.items() if not p.parent_sku and stored.get(sku) != hashes[sku]
        }
        skipped = unchanged_skus(batch.products, hashes, stored, self.parents_kept)
        if skipped and self.keep_unchanged is not None:
            skipped -= self.keep_unchanged(sorted(skipped))
        for sku in skipped:
            del batch.products[sku]
        batch.parents_made -= skipped
        batch.import_hashes = [(sku, digest) for sku, digest in hashes.items() if sku not in skipped]
        self.report.unchanged += len(skipped)
        return batch

    def batch(self, batch: Batch) -> None:
        self.written = []
        self._status_kept: set[str] = set()  # SKUs whose status is the stored record's, not their row's
        self._apply_late(batch)
        existing = self.records.get_products(batch.products)
        parents = self._parents(batch)
        # Parents first: a variant without a status of its own takes its parent's.
        for sku in sorted(batch.products, key=lambda s: bool(batch.products[s].parent_sku)):
            step_aside()
            product = batch.products[sku]
            self._settle(product, existing.get(sku), parents.get(product.parent_sku or ""))
            if product.parent_sku and sku not in batch.parents_made and not self._valid_variant(product):
                del batch.products[sku]
        assets = linked_assets(self.records, batch.products.values())
        for product in batch.products.values():
            product.completeness = completeness(product, self.channels, assets)
        self._write(batch, existing, assets)

    def _apply_late(self, batch: Batch) -> None:
        wanted = [c for c, _ in batch.late_links] + [s for s, _, _, _ in batch.late_texts]
        stored = self.records.get_products(s for s in wanted if s not in batch.products)
        for child, parent in batch.late_links:
            product = batch.products.get(child) or stored.get(child)
            if product is not None:
                product.parent_sku = product.parent_sku or parent
                batch.products[child] = product
        for sku, locale, texts, line in batch.late_texts:
            product = batch.products.get(sku) or stored.get(sku)
            if product is None:
                self.report.merged -= 1
                self._reject(Reject(line=line, field="sku", reason=f"translation of unknown SKU {sku!r}"))
                continue
            strip_inherited(product)
            merge_translation(product, locale, texts)
            batch.products[sku] = product

    def _parents(self, batch: Batch) -> dict[str, Product]:
        wanted = {p.parent_sku for p in batch.products.values() if p.parent_sku}
        found = {s: batch.products[s] for s in wanted if s in batch.products}
        found.update(self.records.get_products(s for s in wanted if s not in found))
        return found

    def _settle(self, product: Product, old: Product | None, parent: Product | None) -> None:
        """Keep what the import does not own (reviewed tags, linked assets and the primary
        image, workflow status)
        and inherit from the parent."""
        if old is not None:
            product.tags = old.tags
            product.asset_ids = list(old.asset_ids)
            product.primary_images = dict(old.primary_images)
        if not product.status and parent is not None and parent.status:
            product.status = parent.status
        if not product.status:
            product.status = _default_status(old)
            self._status_kept.add(product.sku)
        if product.parent_sku:
            reinherit(parent, product)
        else:
            strip_inherited(product)

    def _valid_variant(self, product: Product) -> bool:
        found = self.validator.check(product)
        if found is None:
            return True
        line = product.source.get("line")
        self.report.products -= 1
        where = line if isinstance(line, int) else None
        self._reject(Reject(line=where, field=found[0], reason=found[1], sku=product.sku))
        return False

    def _write(self, batch: Batch, existing: Mapping[str, Product], assets: Mapping[str, Asset]) -> None:
        products = list(batch.products.values())
        for product in products:
            old = existing.get(product.sku)
            product.updated_at = old.updated_at if old is not None else ""

        def settle(product: Product, stored: Product) -> None:
            # What the import does not own as stored when the chunk writes, not as it read it
            # (the chunk steps aside for requests in between): a reviewer's decision, a link,
            # and the workflow status when the row names none, are kept.
            keep_unowned(product, stored)
            if product.sku in self._status_kept and product.status != _default_status(stored):
                product.status = _default_status(stored)
                product.completeness = completeness(product, self.channels, assets)

        hashes = dict(batch.import_hashes)
        counts, changed = save_products(self.records, products, import_hashes=hashes, settle=settle)
        self.written = list(changed)
        self.report.changed += counts.changed
        self.report.unchanged += counts.unchanged
        refreshed = self._refresh_variants(changed, batch.products)
        if self.before_index is not None and changed:
            self.before_index(list(changed))
        bulk = index_products(self.records, self.backend, [*changed, *refreshed], known={**batch.products, **refreshed})
        self._count_index(bulk, batch, set(changed))

    def _refresh_variants(self, changed: list[str], fresh: Mapping[str, Product]) -> dict[str, Product]:
        """Variants stored earlier whose parent changed now: inherit again."""
        updated: dict[str, Product] = {}
        # Only the stored variants outside this batch are read (a new family's are all in it).
        stored = {s: p for p, skus in self.records.variant_skus(changed).items() for s in skus if s not in fresh}
        loaded = self.records.get_products(stored)
        for sku, parent_sku in stored.items():
            variant = loaded.get(sku)
            if variant is None:
                continue
            reinherit(fresh.get(parent_sku), variant)
            variant.completeness = completeness(variant, self.channels, linked_assets(self.records, [variant]))
            updated[variant.sku] = variant
        if not updated:
            return {}
        _, written = save_products(self.records, list(updated.values()))
        return {s: updated[s] for s in written}

    def _count_index(self, bulk: BulkReport, batch: Batch | None, changed: set[str]) -> None:
        """`indexed` counts the file's products that changed and were written to the index."""
        for outcome in bulk.outcomes:
            sku = outcome.id.removeprefix("product:")
            if not outcome.ok:
                self.report.index_failed += 1
                self.report.dead_letters.append({"sku": sku, "reason": outcome.error or "index write failed"})
            elif batch is not None and sku in changed:
                self.report.indexed += 1

    # -- full mode -------------------------------------------------------------------

    def withdraw_absent(self, chunk_size: int) -> None:
        """`full` mode: products stored but absent from the file become `withdrawn`. A SKU
        on a rejected row counts as present (its stored record stays as it was); when some
        row could not be read far enough to know its SKU, nothing is withdrawn."""
        why = None
        if self.fatal:
            why = "the file could not be read to its end"
        elif self.unknown_skus:
            why = "some rejected rows could not be read far enough to know their SKU"
        elif self.report.products == 0:
            why = "the file held no valid product"
        if why:
            self.report.notes.append(f"full mode: nothing withdrawn, because {why}")
            return
        for stored in self.records.iter_products(batch=chunk_size):
            candidates = {p.sku: p for p in stored if p.status != "withdrawn"}
            present = self.lines.last_lines(candidates)
            gone = [p for sku, p in candidates.items() if sku not in present]
            if gone:
                self._withdraw(gone)

    def _withdraw(self, gone: list[Product]) -> None:
        assets = linked_assets(self.records, gone)
        for product in gone:
            product.status = "withdrawn"
            product.completeness = completeness(product, self.channels, assets)
        counts, changed = save_products(self.records, gone)
        self.report.withdrawn += counts.changed
        bulk = index_products(self.records, self.backend, changed, known={p.sku: p for p in gone})
        self._count_index(bulk, None, set())
