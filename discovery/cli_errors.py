"""Command-line errors as one line on stderr and an exit code, never a traceback, and the
checks an import gets before its job starts (`discovery ingest products`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from discovery.domain import JSONObject
from discovery.errors import DiscoveryError

USAGE = 2  # the input or the options are wrong: nothing ran
FAILED = 1  # the job ran and failed, or imported nothing


@contextmanager
def one_line_errors(console: Console) -> Iterator[None]:
    """A domain error (unknown mapping, refused file, ...) ends the command with its
    message on one line and exit code 2."""
    try:
        yield
    except DiscoveryError as exc:
        console.print(f"error: {exc.detail}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(USAGE) from None


def check_product_import(file: Path, *, mapping: str | None, mode: str, data_dir: Path) -> None:
    """Refuse, before anything is stored: a bad mode, an unknown mapping (the error lists
    the known ones), a header no column of the mapping identifies products from."""
    from discovery.errors import InvalidQuery
    from indexer.products.header_check import check_header
    from indexer.products.mapping_spec import mapping_path

    if mode not in ("partial", "full"):
        raise InvalidQuery(f"--mode must be partial or full, not {mode!r}", field="mode")
    if mapping:
        mapping_path(mapping, data_dir=data_dir)
    check_header(file, mapping, data_dir=data_dir)


def import_outcome(report: JSONObject) -> str | None:
    """Why a finished import job should exit non-zero: it failed, or every row it read
    was rejected. None when it imported something."""
    if report.get("state") == "failed":
        return "the import failed"
    counts = report.get("counts")
    counts = counts if isinstance(counts, dict) else {}
    received, products = counts.get("received"), counts.get("products")
    if isinstance(received, int) and received > 0 and products == 0:
        return f"no product imported: all {received} rows were rejected"
    return None
