"""Search-as-you-type suggestions: titles, categories and brands that complete what was typed.

One keyword search (the last word matches as a prefix on both engines) under the caller's
view, asking for five titles and the brand and category facets of its matches: so a shopper
is never offered a draft's title or a brand that only hidden products carry, and a
suggestion always leads to at least one result.
"""

from __future__ import annotations

import re

from discovery.domain import JSONObject, JSONValue
from discovery.services.context import Context
from discovery.services.search import SearchRequest, search

TITLES = 5
VALUES = 3  # categories and brands each
_WORD = re.compile(r"\w+")


def _completes(value: str, prefix: str) -> bool:
    """Some word of `value` starts with what is being typed (case-folded)."""
    return any(word.startswith(prefix) for word in _WORD.findall(value.casefold()))


def suggest(ctx: Context, q: str, *, public: bool, channel: str | None = None) -> JSONObject:
    """Up to five titles, three categories and three brands for the text typed so far."""
    text = q.strip()
    words = _WORD.findall(text.casefold())
    if not words:
        return {"q": q, "suggestions": []}
    req = SearchRequest(
        q=text, type="product", mode="keyword", facets=("category", "brand"), facet_size=50, size=TITLES,
        channel=channel,
    )  # fmt: skip
    body = search(ctx, req, public=public)
    last = words[-1]
    hits = body.get("hits", [])
    out: list[JSONValue] = [
        {"kind": "product", "text": str(hit.get("title", "")), "id": str(hit.get("id", ""))}
        for hit in (hits if isinstance(hits, list) else [])
        if isinstance(hit, dict)
    ]
    facets = body.get("facets", {})
    for field_name, kind in (("category", "category"), ("brand", "brand")):
        values = facets.get(field_name, []) if isinstance(facets, dict) else []
        chosen = [v for v in values if isinstance(v, dict) and _completes(str(v.get("value", "")), last)]
        out += [{"kind": kind, "text": str(v["value"]), "count": v.get("count")} for v in chosen[:VALUES]]
    return {"q": q, "suggestions": out}
