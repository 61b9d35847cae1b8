"""Import a product export: read -> map -> normalise -> validate -> records -> index.

Rows stream through in batches of `chunk_size`; each batch is written to the records
(idempotent by SKU: a re-import changes nothing) and the products it changed, with their
parents, are written to the search index. Nothing is dropped silently: every row is
counted, every refused row is listed with its line, column and reason, and every product
the index did not take is listed in `dead_letters`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

from discovery.foreground import step_aside
from discovery.store.index.base import SearchBackend
from discovery.store.records import Records
from indexer.products.completeness import ChannelSpec, load_channels
from indexer.products.importrun import ImportRun
from indexer.products.mapping import Mapper
from indexer.products.mapping_spec import MappingSpec, load_mapping
from indexer.products.readers import ReadLimits, Row, RowSource
from indexer.products.report import ImportReport, Reject
from indexer.products.skulines import SkuLines

Mode = Literal["partial", "full"]
Progress = Callable[[ImportReport], None]


# The name job runners first imported; `ImportRun` is the one to use.
_Run = ImportRun


def import_products(
    *,
    records: Records,
    backend: SearchBackend,
    source: Path | BinaryIO,
    filename: str,
    mapping: str | MappingSpec | None = None,
    mode: Mode = "partial",
    channels: Mapping[str, ChannelSpec] | None = None,
    job_id: str | None = None,
    progress: Progress | None = None,
    chunk_size: int = 500,
    data_dir: Path | None = None,
    limits: ReadLimits | None = None,
) -> ImportReport:
    """Import one product export; returns the report (also passed to `progress` after each
    batch). `mapping` is a stored mapping's name (user mappings under `data_dir/mappings`
    first), a parsed mapping, or None for canonical headers. `channels` default to
    `data_dir/channels.yaml` or the shipped sample channels. The file is read twice: a
    quick survey of each SKU's last row, then the import (a stream that cannot seek is
    spooled to a temporary file first)."""
    if mode not in ("partial", "full"):
        raise ValueError(f"mode must be partial or full, not {mode!r}")
    spec = _mapping(mapping, data_dir)
    channels = channels if channels is not None else load_channels(data_dir=data_dir)
    report = ImportReport(file=filename, job_id=job_id, mode=mode)
    lines = SkuLines()
    try:
        with _rewindable(source) as stream:
            start = stream.tell()

            def rows_from_start() -> RowSource:
                stream.seek(start)
                return RowSource.over(
                    stream, filename=filename, limits=limits, delimiter=spec.delimiter, sheet=spec.sheet
                )

            run = ImportRun(
                records=records, backend=backend, spec=spec, report=report, chunk_size=chunk_size,
                channels=channels, lines=lines,
            )  # fmt: skip
            run.unknown_skus = survey(rows_from_start(), Mapper(spec), lines)
            _import_rows(run, rows_from_start(), progress)
            if mode == "full":
                run.withdraw_absent(chunk_size)
    finally:
        lines.close()
    report.rejects.sort(key=lambda r: (r.line is None, r.line or 0))
    report.duplicate_rows.sort(key=lambda d: d["line"] if isinstance(d["line"], int) else 0)
    report.finished = True
    _tell(progress, report, 1.0)
    return report


def _mapping(mapping: str | MappingSpec | None, data_dir: Path | None) -> MappingSpec:
    if isinstance(mapping, MappingSpec):
        return mapping
    return load_mapping(mapping, data_dir=data_dir) if mapping else MappingSpec(name="canonical")


def _import_rows(run: ImportRun, rows: RowSource, progress: Progress | None) -> None:
    for item in rows:
        step_aside()
        batch = run.row(item)
        if batch is not None:
            run.batch(run.skip_unchanged(batch))
            _tell(progress, run.report, rows.fraction())
    batch = run.assembler.finish()
    if batch is not None:
        run.batch(run.skip_unchanged(batch))


def survey(rows: Iterable[Row | Reject], mapper: Mapper, lines: SkuLines) -> bool:
    """Record each SKU's last line in `lines` (a group's key at the first line of its run).
    True when some row was unreadable before its SKU could be known."""
    unknown = False
    pending: list[tuple[str, int]] = []
    group: str | None = None
    for item in rows:
        step_aside()
        if isinstance(item, Reject):
            if item.row is None or item.line is None:
                unknown = True
                continue
            line, row = item.line, item.row
        else:
            line, row = item
        sku, key = mapper.survey(row)
        if key is not None and key != group:
            pending.append((key, line))
        group = key
        if sku:
            pending.append((sku, line))
        if len(pending) >= 5000:
            lines.record(pending)
            pending = []
    lines.record(pending)
    return unknown


@contextmanager
def _rewindable(source: Path | BinaryIO) -> Iterator[BinaryIO]:
    """A stream that can be read twice."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            yield stream
    elif source.seekable():
        yield source
    else:
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(source, spool)
            spool.seek(0)
            yield spool


def _tell(progress: Progress | None, report: ImportReport, fraction: float | None) -> None:
    if fraction is not None:
        report.progress = round(fraction, 4)
    if progress is not None:
        progress(report)
