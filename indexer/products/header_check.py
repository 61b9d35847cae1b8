"""Refuse an export whose header no column of the mapping can identify a product from,
before anything is stored, naming the shipped mapping the header looks like.

Without it, a Shopify export imported with the default mapping ran to its end and
rejected every row ("no SKU"), one reject per line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from discovery.errors import RejectedInput
from indexer.products.mapping import Mapper
from indexer.products.mapping_spec import MappingSpec, list_mappings, load_mapping
from indexer.products.readers import RowSource
from indexer.products.report import Reject

# The share of a header's columns a mapping must name for the header to "look like" it.
LOOKS_LIKE = 0.5


def read_header(path: Path, spec: MappingSpec) -> tuple[str, ...]:
    """The columns of the file's first row (empty when no row could be read)."""
    with path.open("rb") as stream:
        for item in RowSource.over(stream, filename=path.name, delimiter=spec.delimiter, sheet=spec.sheet):
            if not isinstance(item, Reject):
                return tuple(item[1])
    return ()


def identifies_products(spec: MappingSpec, header: tuple[str, ...]) -> bool:
    """Whether some column gives a row its SKU (or groups rows under a product key)."""
    if spec.group is not None and spec.group.key in header:
        return True
    return Mapper(spec).plan(header).sku_column is not None


def named_share(spec: MappingSpec, header: tuple[str, ...]) -> float:
    """The share of the header's columns this mapping names itself."""
    if not header:
        return 0.0
    named = set(spec.columns)
    if spec.group is not None:
        named |= {spec.group.key, *spec.group.sticky}
    return sum(1 for column in header if column in named) / len(header)


def looks_like(headers: Mapping[str, tuple[str, ...]], specs: Mapping[str, MappingSpec]) -> str | None:
    """The mapping that names most of its header's columns and can identify its rows
    (`headers`: the file's header as each mapping reads it: delimiters differ)."""
    scored = [
        (named_share(spec, headers[name]), name)
        for name, spec in specs.items()
        if identifies_products(spec, headers[name])
    ]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] >= LOOKS_LIKE else None


def check_header(path: Path, mapping: str | None, *, data_dir: Path | None = None) -> None:
    """Raise `RejectedInput` when no column of the file identifies a product under the
    chosen mapping (or the default one), with the mapping it looks like when one fits."""
    spec = load_mapping(mapping, data_dir=data_dir) if mapping else MappingSpec(name="canonical")
    header = read_header(path, spec)
    if not header or identifies_products(spec, header):
        return  # an unreadable file is reported by the import itself, row by row
    others = {name: load_mapping(name, data_dir=data_dir) for name in list_mappings(data_dir=data_dir)}
    candidates = {name: s for name, s in others.items() if name != mapping}
    fit = looks_like({name: read_header(path, s) for name, s in candidates.items()}, candidates)
    chosen = f"the {mapping} mapping" if mapping else "the default mapping"
    if fit is not None:
        article = "an" if fit[:1].lower() in "aeiou" else "a"
        raise RejectedInput(f"{path.name} looks like {article} {fit} export: add --mapping {fit}", field="mapping")
    shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
    raise RejectedInput(
        f"{path.name}: no column gives a SKU under {chosen} (columns: {shown}); "
        f"name one `sku`, or pick a mapping: {', '.join(others)}",
        field="mapping",
    )
