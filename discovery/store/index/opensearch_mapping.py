"""How an `IndexDoc` is laid out in OpenSearch: index settings, mapping, and the document body.

The `_source` of a document is the `IndexDoc` itself (`dataclasses.asdict`, vectors left
out when absent) plus two derived fields, so `get` reads documents back unchanged:

- `text.<name>`: weighted text, analysed by `folded_en` (split on non-alphanumerics,
  lowercase, ASCII-fold, then Snowball's English stemmer `porter2`: the embedded
  engine's stemmed fields), each copied into `all_text` (`folded`, not stemmed: where
  prefix and fuzzy matching run once instead of per field, on the words as written)
  and, for names and titles, into `name_exact` (a keyword normalised the same way, for
  the exact-name boost).
- `locale_text.<locale>.<name>`: mapped on first sight by dynamic templates, with the
  language analyser OpenSearch has for that locale and a `folded` sub-field;
  `locale_all.<locale>` (derived) is the locale's catch-all.
- `keywords.<name>`, `numbers.<name>`, `dates.<name>`: filters, facets, ranges, sorts;
  `type`, `id`, `sort_name`, `vector_model` keywords; `stored` is kept, never indexed.
- `text_vector` / `image_vector`: `knn_vector` (Lucene HNSW, cosine), added to the mapping
  when the first vector arrives, with its dimension (`vector_property`).
Anything else in a document stays in `_source` unindexed (`dynamic: false`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from discovery.store.index.base import IndexDoc
from discovery.store.index.documents import DATE_FIELDS, KEYWORD_FIELDS, NUMBER_FIELDS, TEXT_WEIGHTS, keyword_value

FOLDED = "folded"
STEMMED = "folded_en"
ALL_TEXT = "all_text"
NAME_EXACT = "name_exact"
LOCALE_TEXT = "locale_text"
LOCALE_ALL = "locale_all"
NAME_FIELDS = ("name", "title")
VECTOR_FIELDS = ("text_vector", "image_vector")
# Lucene's HNSW: the plugin's Maven Central zip carries no native engines (faiss, nmslib).
HNSW = {
    "name": "hnsw", "engine": "lucene", "space_type": "cosinesimil", "parameters": {"m": 16, "ef_construction": 100}
}

# Locale (primary subtag) -> OpenSearch's built-in language analyser (analysis-common).
LANGUAGE_ANALYZERS: dict[str, str] = {
    "en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian", "nl": "dutch",
    "pt": "portuguese", "sv": "swedish", "da": "danish", "fi": "finnish", "no": "norwegian", "nb": "norwegian",
    "ru": "russian", "cs": "czech", "tr": "turkish", "el": "greek", "hu": "hungarian", "ro": "romanian",
    "ca": "catalan", "bg": "bulgarian", "lv": "latvian", "lt": "lithuanian", "et": "estonian", "id": "indonesian",
}

# The embedded analyzer splits on anything not a letter or digit (tantivy's `simple`).
NON_WORD = r"[^\p{L}\p{N}]+"

ANALYSIS: dict[str, Any] = {
    "tokenizer": {"words": {"type": "pattern", "pattern": NON_WORD}},
    "char_filter": {"non_word": {"type": "pattern_replace", "pattern": NON_WORD, "replacement": " "}},
    "filter": {"english_stem": {"type": "stemmer", "language": "porter2"}},  # = tantivy's "english"
    "analyzer": {
        FOLDED: {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding"]},
        STEMMED: {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding", "english_stem"]},
    },
    "normalizer": {
        "exact": {"type": "custom", "char_filter": ["non_word"], "filter": ["lowercase", "asciifolding", "trim"]}
    },
}


def keyword_path(name: str) -> str:
    """Where a keyword field lives; `type` is the document's own."""
    return "type" if name == "type" else f"keywords.{name}"


@dataclass(frozen=True, slots=True)
class IndexShape:
    """Shards and replicas of a new index version. One shard keeps terms aggregations and
    totals exact; replicas let a cluster lose a node without losing a write or a search."""

    shards: int = 1
    replicas: int = 0


def index_settings(shape: IndexShape = IndexShape(), *, refresh_interval: str | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "number_of_shards": shape.shards,
        "number_of_replicas": shape.replicas,
        "knn": True,
        "analysis": ANALYSIS,
    }
    if refresh_interval is not None:
        settings["refresh_interval"] = refresh_interval
    return settings


def _text_property(name: str) -> dict[str, Any]:
    copy_to = [ALL_TEXT, NAME_EXACT] if name in NAME_FIELDS else [ALL_TEXT]
    return {"type": "text", "analyzer": STEMMED, "copy_to": copy_to}


def _language_text(analyzer: str) -> dict[str, Any]:
    return {"type": "text", "analyzer": analyzer, "fields": {FOLDED: {"type": "text", "analyzer": FOLDED}}}


def _dynamic_templates() -> list[dict[str, Any]]:
    """Per-locale text: the language analyser where OpenSearch has one, `folded` otherwise.
    Templates apply in order, so the language ones come before the catch-all."""
    templates: list[dict[str, Any]] = []
    for lang, analyzer in LANGUAGE_ANALYZERS.items():
        for suffix, pattern in (("", lang), ("_region", f"{lang}-*"), ("_region2", f"{lang}_*")):
            for family, path in ((LOCALE_TEXT, f"{LOCALE_TEXT}.{pattern}.*"), (LOCALE_ALL, f"{LOCALE_ALL}.{pattern}")):
                templates.append({
                    f"{family}_{lang}{suffix}": {
                        "path_match": path, "match_mapping_type": "string", "mapping": _language_text(analyzer)
                    }
                })
    for family, path in ((LOCALE_TEXT, f"{LOCALE_TEXT}.*"), (LOCALE_ALL, f"{LOCALE_ALL}.*")):
        templates.append({
            f"{family}_other": {"path_match": path, "match_mapping_type": "string", "mapping": _language_text(FOLDED)}
        })
    return templates


def mappings(vector_dims: dict[str, int] | None = None) -> dict[str, Any]:
    """The whole mapping; `vector_dims` adds the vector fields already known."""
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "type": {"type": "keyword"},
        "key": {"type": "keyword"},
        "sort_name": {"type": "keyword"},
        "vector_model": {"type": "keyword"},
        "text": {"properties": {name: _text_property(name) for name in TEXT_WEIGHTS}},
        ALL_TEXT: {"type": "text", "analyzer": FOLDED},
        NAME_EXACT: {"type": "keyword", "normalizer": "exact"},
        LOCALE_TEXT: {"type": "object", "dynamic": True},
        LOCALE_ALL: {"type": "object", "dynamic": True},
        "keywords": {"properties": {name: {"type": "keyword"} for name in KEYWORD_FIELDS if name != "type"}},
        "numbers": {"properties": {name: {"type": "double"} for name in NUMBER_FIELDS}},
        "dates": {"properties": {name: {"type": "date"} for name in DATE_FIELDS}},
        "stored": {"type": "object", "enabled": False},
    }
    for name, dim in (vector_dims or {}).items():
        properties[name] = vector_property(dim)
    return {"dynamic": False, "dynamic_templates": _dynamic_templates(), "properties": properties}


def vector_property(dim: int) -> dict[str, Any]:
    return {"type": "knn_vector", "dimension": dim, "method": HNSW}


def vector_dims(mapping: dict[str, Any]) -> dict[str, int]:
    """The vector fields (and their dimensions) an index's mapping holds."""
    properties = mapping.get("properties", {})
    return {
        name: int(properties[name]["dimension"])
        for name in VECTOR_FIELDS
        if properties.get(name, {}).get("type") == "knn_vector"
    }


def to_source(doc: IndexDoc) -> str:
    """The JSON body of `doc`; raises ValueError for what OpenSearch could not hold
    (a number or vector component that is not finite)."""
    body = asdict(doc)
    # Keywords in the form filters are turned into (`documents.keyword_value`).
    body["keywords"] = {
        name: list(dict.fromkeys(keyword_value(name, v) for v in values)) for name, values in doc.keywords.items()
    }
    for name in VECTOR_FIELDS:
        vector = body.get(name)
        if vector is None:
            body.pop(name, None)
        elif not all(math.isfinite(x) for x in vector) or not any(vector):
            raise ValueError(f"{name} is zero or not finite")
    locale_all = {
        locale: " ".join(t for n, t in texts.items() if t and not n.startswith("_"))
        for locale, texts in doc.locale_text.items()
    }
    body[LOCALE_ALL] = {k: v for k, v in locale_all.items() if v}
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise ValueError("a number is not finite") from None


_DOC_FIELDS = tuple(f.name for f in fields(IndexDoc))


def from_source(source: dict[str, Any]) -> IndexDoc:
    return IndexDoc(**{k: v for k, v in source.items() if k in _DOC_FIELDS})
