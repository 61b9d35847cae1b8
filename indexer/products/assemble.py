"""Assemble mapped rows into batches of distinct products, in file order.

Here a file's rows become products: duplicate SKUs (the file's last row for a SKU wins;
every earlier one is reported and never written, see `skulines`), group parents made from
Shopify-style rows, parent links declared by a parent row (Magento
`configurable_variations`), and translation rows merged into their product. What refers
to a product handed on in an earlier batch (or stored by an earlier import) travels as a
late link or late translation, which the pipeline applies to the stored record.

Memory: the current batch and links to children still to come.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from discovery.domain import JSONObject, Product
from indexer.products.fields import merge_translation
from indexer.products.mapping import MappedRow
from indexer.products.report import ImportReport
from indexer.products.skulines import SkuLines
from indexer.products.variants import merge_parent


@dataclass(slots=True)
class Batch:
    products: dict[str, Product] = field(default_factory=dict)
    late_links: list[tuple[str, str]] = field(default_factory=list)  # (child, parent)
    late_texts: list[tuple[str, str, dict[str, str], int]] = field(default_factory=list)  # sku, locale, texts, line
    parents_made: set[str] = field(default_factory=set)  # group parents made from rows (not rows themselves)
    import_hashes: list[tuple[str, str]] = field(default_factory=list)  # (sku, row hash), see `unchanged`

    def __len__(self) -> int:
        return len(self.products)

    def absorb(self, later: Batch) -> None:
        """Take in the next batch of the same file (its late links and texts then apply to
        products of this one as they would to the stored records)."""
        self.products.update(later.products)
        self.late_links.extend(later.late_links)
        self.late_texts.extend(later.late_texts)
        self.parents_made |= later.parents_made
        self.import_hashes.extend(later.import_hashes)

    def empty(self) -> bool:
        return not (self.products or self.late_links or self.late_texts)


def line_of(product: Product) -> int:
    line = product.source.get("line")
    return line if isinstance(line, int) else 0


class Assembler:
    def __init__(
        self, report: ImportReport, lines: SkuLines, *, chunk_size: int = 500, job_id: str | None = None
    ) -> None:
        self.report = report
        self.lines = lines  # each SKU's last line in the file, from the survey pass
        self.chunk_size = chunk_size
        self.job_id = job_id
        self.links: dict[str, str] = {}  # child SKU -> parent SKU, for children still to come
        self._batch = Batch()
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

    def _take(self) -> Batch:
        """Hand the batch on, without the rows a later row of the file supersedes."""
        batch, self._batch = self._batch, Batch()
        last = self.lines.last_lines(batch.products)
        for sku in list(batch.products):
            line = line_of(batch.products[sku])
            winner = last.get(sku, line)
            if winner > line:
                del batch.products[sku]
                self._duplicate(sku, line, winner)
            elif sku in batch.parents_made:
                self.report.parents_created += 1
            else:
                self.report.products += 1
        batch.parents_made &= set(batch.products)
        return batch

    def _duplicate(self, sku: str, line: int, kept_line: int) -> None:
        self.report.duplicates += 1
        self.report.duplicate_rows.append({"sku": sku, "line": line, "kept_line": kept_line})

    def _source(self, line: int) -> JSONObject:
        return {"file": self.report.file, "line": line, "job": self.job_id}

    def _hold(self, product: Product, line: int) -> None:
        """Put a product in the batch; one with its SKU already there was superseded."""
        held = self._batch.products.get(product.sku)
        if held is not None:
            self._duplicate(product.sku, line_of(held), line)
            self._batch.parents_made.discard(product.sku)
        self._batch.products[product.sku] = product

    def _add_product(self, product: Product, line: int, children: list[str]) -> None:
        product.source = self._source(line)
        if not product.parent_sku and product.sku in self.links:
            product.parent_sku = self.links.pop(product.sku)
        self._hold(product, line)
        for child in children:
            self._link(child, product.sku, line)

    def _link(self, child: str, parent: str, line: int) -> None:
        held = self._batch.products.get(child)
        if held is not None:
            held.parent_sku = held.parent_sku or parent
            return
        last = self.lines.last_line(child)
        if last is not None and last > line:
            self.links[child] = parent  # its row is still to come
        else:
            self._batch.late_links.append((child, parent))  # written already, or stored before

    def _translate(self, item: MappedRow) -> None:
        assert item.product is not None and item.translation is not None
        self.report.merged += 1
        held = self._batch.products.get(item.product.sku)
        if held is not None:
            merge_translation(held, item.translation, item.texts)
        else:
            self._batch.late_texts.append((item.product.sku, item.translation, item.texts, item.line))

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
        if parent is not None:
            self._hold(parent, line_of(parent))
            self._batch.parents_made.add(parent.sku)
