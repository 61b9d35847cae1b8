"""Telling a re-import's unchanged rows apart before any work is spent on them.

A product as mapped and assembled from its row(s) is hashed with the import's settings
(`import_salt`: the mapping, the channels, and whatever the caller adds, such as the text
model). The records keep that hash beside the content hash of the record it produced
(`Records.upsert_products`); when a later import's row hashes the same and the record has
not been written by anything else since (its content hash is still the one the import
made) and is not withdrawn, the whole result would be the same record: the row is counted
and skipped, with no settling, no write, no index or embedding work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import fields

from pydantic import BaseModel

from discovery.domain import Product

# Bump when what an import makes of the same row changes (normalisation, inheritance,
# completeness): every stored hash then differs and the next re-import rewrites each row.
IMPORT_HASH_VERSION = "1"


def import_salt(spec: BaseModel, channels: Mapping[str, BaseModel], extra: str = "") -> str:
    """What, beside a row, decides the record an import makes of it."""
    listed = (f"{name}={channel.model_dump_json()}" for name, channel in sorted(channels.items()))
    parts = [IMPORT_HASH_VERSION, spec.model_dump_json(), *listed]
    return hashlib.sha256("\n".join([*parts, extra]).encode()).hexdigest()


# Every field but the row's whereabouts (`source`: file, line, job) and the write's stamp.
_HASHED = tuple(f.name for f in fields(Product) if f.name not in ("source", "updated_at"))


def row_hash(product: Product, salt: str) -> str:
    """The hash of a product as mapped from its row(s), before it meets the stored record.
    Its fields' `repr`, which is deterministic for the JSON-like values a mapped product
    holds (no sets) and a third of the cost of canonical JSON: the same row under the same
    mapping always gives the same text; another column order may give another, which only
    costs that row a full pass."""
    values = [getattr(product, name) for name in _HASHED]
    return hashlib.sha256(f"{salt}\n{values!r}".encode()).hexdigest()


def unchanged_skus(
    products: Mapping[str, Product], hashes: Mapping[str, str], stored: Mapping[str, str], parents_kept: set[str]
) -> set[str]:
    """The SKUs whose row hash is the stored one. A variant whose parent this import writes
    again (`parents_kept`) is kept, so it is inherited and checked again with its parent."""
    return {
        sku
        for sku, product in products.items()
        if stored.get(sku) == hashes.get(sku) and sku in stored and (product.parent_sku or "") not in parents_kept
    }
