"""The hash that tells an unchanged product record from a changed one."""

from __future__ import annotations

import hashlib
import json

from discovery.domain import JSONObject


def content_hash(data: JSONObject) -> str:
    """Stable hash of a record's JSON, ignoring bookkeeping fields."""
    clean = {k: v for k, v in data.items() if k not in ("updated_at", "source")}
    raw = json.dumps(clean, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()
