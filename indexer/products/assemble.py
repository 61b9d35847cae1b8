"""Assemble mapped rows into batches of distinct products, in file order.

Here a file's rows become products: duplicate SKUs (last row wins, the duplicate is
reported), group parents made from Shopify-style rows, parent links declared by a parent
row (Magento `configurable_variations`), and translation rows merged into their product.
What refers to a product already handed on in an earlier batch is passed on as a late
link or late translation, which the pipeline applies to the stored record.

Memory: the current batch and links to children not yet read; the SKUs of earlier
batches (to report a duplicate across batches, and for `full` mode) are kept on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from discovery.domain import JSONObject, Product
from indexer.products.fields import merge_translation
from indexer.products.mapping import MappedRow
from indexer.products.report import ImportReport
from indexer.products.seen import SeenSkus
from indexer.products.variants import merge_parent


@dataclass(slots=True)
class Batch:
    products: dict[str, Product] = field(default_factory=dict)
    late_links: list[tuple[str, str]] = field(default_factory=list)  # (child, parent)
    late_texts: list[tuple[str, str, dict[str, str], int]] = field(default_factory=list)  # sku, locale, texts, line
    parents_made: set[str] = field(default_factory=set)  # group parents made from rows (not rows themselves)
    repeats: set[str] = field(default_factory=set)  # SKUs an earlier batch already carried

    def __len__(self) -> int:
        return len(self.products)


class Assembler:
    def __init__(
        self, report: ImportReport, *, chunk_size: int = 500, job_id: str | None = None, seen: SeenSkus | None = None
    ) -> None:
        self.report = report
        self.chunk_size = chunk_size
        self.job_id = job_id
        self.seen = seen or SeenSkus()  # SKUs handed on in earlier batches
        self.links: dict[str, str] = {}  # child SKU -> parent SKU, for children still to come
        self._batch = Batch()
        self._lines: dict[str, int] = {}  # sku -> line, within the batch (to name both duplicates)
        self._group: str | None = None
        self._group_parent: Product | None = None

    def add(self, item: MappedRow) -> Batch | None:
        """Take one mapped row; a full batch when one is ready."""
        if item.translation is not None and item.product is not None:
            self._translate(item)
        else:
            if item.group != self._group:
                self._close_group()
            if item.group is not None and item.parent is not None:
                self._open_group(item)
            if item.product is None:
                self.report.merged += 1
            else:
                self._add_product(item.product, item.line, item.children)
        if len(self._batch) >= self.chunk_size:
            return self._take()
        return None

    def finish(self) -> Batch | None:
        self._close_group()
        batch = self._batch
        return self._take() if (batch.products or batch.late_links or batch.late_texts) else None

    def close(self) -> None:
        self.seen.close()

    def _take(self) -> Batch:
        batch, self._batch, self._lines = self._batch, Batch(), {}
        # A SKU an earlier batch carried: this later row wins, the earlier was a duplicate.
        for sku in sorted(self.seen.among(batch.products)):
            batch.repeats.add(sku)
            self.report.duplicates += 1
            if sku in batch.parents_made:
                self.report.parents_created -= 1
            else:
                self.report.products -= 1
            line = batch.products[sku].source.get("line")
            self.report.duplicate_rows.append({"sku": sku, "line": line, "earlier_line": None})
        self.seen.add(batch.products)
        return batch

    def _source(self, line: int) -> JSONObject:
        return {"file": self.report.file, "line": line, "job": self.job_id}

    def _hold(self, product: Product, line: int) -> None:
        """Put a product in the batch; a SKU already there is a duplicate (last wins)."""
        sku = product.sku
        earlier = self._lines.get(sku)
        if earlier is not None:
            self.report.duplicates += 1
            self.report.duplicate_rows.append({"sku": sku, "line": line, "earlier_line": earlier})
        elif sku in self._batch.products:  # a group parent made from rows
            self.report.duplicates += 1
            self.report.duplicate_rows.append({"sku": sku, "line": line, "earlier_line": None})
        self._batch.products[sku] = product
        self._lines[sku] = line

    def _add_product(self, product: Product, line: int, children: list[str]) -> None:
        sku = product.sku
        product.source = self._source(line)
        if sku not in self._lines and sku not in self._batch.products:
            self.report.products += 1
        self._batch.parents_made.discard(sku)
        if not product.parent_sku and sku in self.links:
            product.parent_sku = self.links.pop(sku)
        self._hold(product, line)
        for child in children:
            self._link(child, sku)

    def _link(self, child: str, parent: str) -> None:
        held = self._batch.products.get(child)
        if held is not None:
            held.parent_sku = held.parent_sku or parent
        elif child in self.seen:
            self._batch.late_links.append((child, parent))
        else:
            self.links[child] = parent

    def _translate(self, item: MappedRow) -> None:
        assert item.product is not None and item.translation is not None
        self.report.merged += 1
        sku = item.product.sku
        held = self._batch.products.get(sku)
        if held is not None:
            merge_translation(held, item.translation, item.texts)
        else:
            self._batch.late_texts.append((sku, item.translation, item.texts, item.line))

    def _open_group(self, item: MappedRow) -> None:
        assert item.parent is not None
        if self._group_parent is None:
            self._group = item.group
            self._group_parent = item.parent
            self._group_parent.source = self._source(item.line)
        else:
            merge_parent(self._group_parent, item.parent)

    def _close_group(self) -> None:
        parent, self._group, self._group_parent = self._group_parent, None, None
        if parent is None:
            return
        line = parent.source.get("line")
        if parent.sku not in self._batch.products:
            self.report.parents_created += 1
        self._hold(parent, line if isinstance(line, int) else 0)
        self._batch.parents_made.add(parent.sku)
