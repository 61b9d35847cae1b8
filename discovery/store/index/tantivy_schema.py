"""How an `IndexDoc` is laid out in tantivy: the schema, the analyzer, the conversion.

Field families (prefixes keep `tags` the text field apart from `tags` the keyword):
`t_<name>` weighted text, stemmed (`hoodies` and `hoodie` are one term); `t_all_<type>`
every default text field of one document type, folded but not stemmed (fuzzy and prefix
matching run once there instead of once per field, on the words as written, so `runn`
still finds `running`; one per type, so a search for products matches on products' words
alone and needs no type filter: intersecting with `k_type` cost more than the match
itself); `t_stem_<type>` the same text stemmed (a word matches its other number there);
`ltext` per-locale text
as JSON (`ltext.<locale>.<name>`, and `ltext.<locale>._all_<type>`); `k_<name>` exact
keywords (raw, fast: filters and terms aggregations); `n_<name>` numbers; `d_<name>`
dates; `s_<sort>` sort keys (`sortkeys`); `name_exact` the folded name for the
exact-match boost; `id`/`id_hash`; and `doc`, the whole document as JSON bytes (what
`get` and hits read back).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import get_args

import tantivy

from discovery.domain import DocType
from discovery.errors import IndexLayoutChanged
from discovery.store.index import sortkeys
from discovery.store.index.base import IndexDoc
from discovery.store.index.documents import (
    DATE_FIELDS,
    KEYWORD_FIELDS,
    NUMBER_FIELDS,
    TEXT_WEIGHTS,
    keyword_value,
    split_doc_id,
)

FOLDED = "folded"
STEMMED = "folded_en"  # the default fields' language: English (Snowball, as OpenSearch's porter2)
STEM_LANGUAGE = "english"
ID = "id"
ID_HASH = "id_hash"
DOC_TYPES: tuple[DocType, ...] = get_args(DocType)
LOCALE_TEXT = "ltext"
NAME_EXACT = "name_exact"
DOC = "doc"
NAME_FIELDS = ("name", "title")


def text_field(name: str) -> str:
    return f"t_{name}"


def all_text_field(doc_type: DocType) -> str:
    return f"t_all_{doc_type}"


def stem_field(doc_type: DocType) -> str:
    return f"t_stem_{doc_type}"


def locale_all_key(doc_type: DocType) -> str:
    return f"_all_{doc_type}"


def keyword_field(name: str) -> str:
    return f"k_{name}"


def number_field(name: str) -> str:
    return f"n_{name}"


def date_field(name: str) -> str:
    return f"d_{name}"


def locale_key(locale: str) -> str:
    # A dot would split the JSON path; locales never need one.
    return locale.replace(".", "_")


def folding_analyzer() -> tantivy.TextAnalyzer:
    """Split on non-alphanumerics, lowercase, fold accents to ASCII (`Crème` -> `creme`)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def stemming_analyzer() -> tantivy.TextAnalyzer:
    """The folding analyzer, then the English stemmer (`Hoodies` -> `hoodi`, `dresses` ->
    `dress`): Snowball's English, which OpenSearch's `porter2` stemmer also runs."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer(STEM_LANGUAGE))
        .build()
    )


def _word_stemmer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.stemmer(STEM_LANGUAGE)).build()


_local = threading.local()


def analyzer() -> tantivy.TextAnalyzer:
    """This thread's folding analyzer: an analyzer is stateful while it tokenizes, so
    threads don't share one."""
    found: tantivy.TextAnalyzer | None = getattr(_local, "analyzer", None)
    if found is None:
        found = _local.analyzer = folding_analyzer()
    return found


def stem(word: str) -> str:
    """A folded word as the stemmed fields hold it (the stemming analyzer's token for it)."""
    found: tantivy.TextAnalyzer | None = getattr(_local, "stemmer", None)
    if found is None:
        found = _local.stemmer = _word_stemmer()
    tokens = found.analyze(word)
    return tokens[0] if tokens else word


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field(ID, stored=True, fast=True, tokenizer_name="raw")
    sb.add_unsigned_field(ID_HASH, indexed=True, fast=True)
    for name in TEXT_WEIGHTS:
        sb.add_text_field(text_field(name), tokenizer_name=STEMMED)
    for doc_type in DOC_TYPES:
        sb.add_text_field(all_text_field(doc_type), tokenizer_name=FOLDED)
        sb.add_text_field(stem_field(doc_type), tokenizer_name=STEMMED)
    sb.add_json_field(LOCALE_TEXT, tokenizer_name=FOLDED)
    sb.add_text_field(NAME_EXACT, tokenizer_name="raw")
    for name in KEYWORD_FIELDS:
        sb.add_text_field(keyword_field(name), fast=True, tokenizer_name="raw")
    for name in NUMBER_FIELDS:
        sb.add_float_field(number_field(name), indexed=True, fast=True)
    for name in DATE_FIELDS:
        sb.add_date_field(date_field(name), indexed=True, fast=True)
    for spec in sortkeys.SORTS.values():
        sb.add_text_field(spec.field, fast=True, tokenizer_name="raw")
    sb.add_bytes_field(DOC, stored=True)
    return sb.build()


def open_index(path: str) -> tantivy.Index:
    try:
        index = tantivy.Index(build_schema(), path=path, reuse=True)
    except ValueError as exc:
        if "schema does not match" not in str(exc):
            raise
        raise IndexLayoutChanged(
            f"the embedded index at {path} was written by another version of Discovery (its fields differ)"
        ) from exc
    index.register_tokenizer(FOLDED, folding_analyzer())
    index.register_tokenizer(STEMMED, stemming_analyzer())
    # Searchers are reloaded by `refresh()` only, so a search never sees half a batch.
    index.config_reader(reload_policy="Manual")
    return index


def id_hash(doc_id: str) -> int:
    """A 64-bit key of a global id: joins tantivy hits to vector rows without
    reading stored documents (a collision needs ~2^32 documents to be likely)."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big")


def words_of(analyzer: tantivy.TextAnalyzer, text: str) -> list[str]:
    return list(analyzer.analyze(text)) if text else []


class AnalyzerTokens:
    """The folding analyzer as highlights need it (`highlights.TokenSource`)."""

    def __init__(self, analyzer: tantivy.TextAnalyzer) -> None:
        self._analyzer = analyzer

    def words(self, text: str) -> list[str]:
        return list(self._analyzer.analyze(text))

    def spans(self, text: str, indexes: Sequence[int]) -> list[tuple[int, int]]:
        tokens = self._analyzer.pre_tokenize(text).tokens
        return [(tokens[i].char_offset_from, tokens[i].char_offset_to) for i in indexes]


def tantivy_date(text: str) -> datetime:
    """An ISO date as tantivy holds it. tantivy stores nanoseconds in an i64 (years
    1677-2262), so later dates such as the far-future "never expires" are clamped to
    its last instant, which still compares as later than any real date."""
    seconds = sortkeys.iso_to_epoch(text)
    lo, hi = tantivy.MIN_DATETIME.timestamp(), tantivy.MAX_DATETIME.timestamp()
    return datetime.fromtimestamp(min(max(seconds, lo), hi), tz=UTC)


def to_tantivy(doc: IndexDoc, analyzer: tantivy.TextAnalyzer) -> tantivy.Document:
    """The tantivy document for `doc`; raises ValueError on a value tantivy can't hold."""
    out = tantivy.Document()
    out.add_text(ID, doc.id)
    out.add_unsigned(ID_HASH, id_hash(doc.id))
    all_text, stemmed = all_text_field(doc.type), stem_field(doc.type)
    for name, text in doc.text.items():
        if name in TEXT_WEIGHTS and text:
            out.add_text(text_field(name), text)
            out.add_text(all_text, text)
            out.add_text(stemmed, text)
    name = next((doc.text[n] for n in NAME_FIELDS if doc.text.get(n)), "")
    if name:
        out.add_text(NAME_EXACT, " ".join(words_of(analyzer, name)))
    if doc.locale_text:
        out.add_json(LOCALE_TEXT, _locale_json(doc.locale_text, locale_all_key(doc.type)))
    keywords: dict[str, list[str]] = {**doc.keywords, "type": [doc.type]}
    for kname, values in keywords.items():
        if kname in KEYWORD_FIELDS:
            # A value counts a document once, in the form filters are turned into.
            for value in dict.fromkeys(keyword_value(kname, v) for v in values if v):
                out.add_text(keyword_field(kname), value)
    for nname, number in doc.numbers.items():
        if nname in NUMBER_FIELDS:
            if not math.isfinite(number):
                raise ValueError(f"{nname} is not a finite number")
            out.add_float(number_field(nname), float(number))
    for dname, iso in doc.dates.items():
        if dname in DATE_FIELDS and iso:
            out.add_date(date_field(dname), tantivy_date(iso))
    for sfield, key in sortkeys.doc_keys(doc).items():
        out.add_text(sfield, key)
    out.add_bytes(DOC, doc_to_json(doc))
    return out


def _locale_json(locale_text: dict[str, dict[str, str]], all_key: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for locale, fields in locale_text.items():
        texts = {n: t for n, t in fields.items() if t and not n.startswith("_")}
        if texts:
            texts[all_key] = " ".join(texts.values())
            out[locale_key(locale)] = texts
    return out


_STORED_FIELDS = tuple(f.name for f in dataclasses.fields(IndexDoc) if f.name not in ("text_vector", "image_vector"))


def doc_to_json(doc: IndexDoc) -> bytes:
    # Vectors live in the vector store; keeping them out keeps hits cheap to read. (Not
    # `asdict`: it deep-copies every vector component, which dominated indexing.)
    data = {name: getattr(doc, name) for name in _STORED_FIELDS}
    return json.dumps(data, separators=(",", ":")).encode()


def doc_from_json(raw: bytes) -> IndexDoc:
    return IndexDoc(**json.loads(raw))


def stored_doc(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> IndexDoc:
    raw = searcher.doc(address).get_first(DOC)
    if raw is None:
        raise RuntimeError("a document without its stored body: the index predates this schema")
    return doc_from_json(bytes(raw))


def listed_doc(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> IndexDoc:
    """The document's id, type and key without parsing its stored body (that was most
    of the cost of a 200-hit ranking window)."""
    # An id of another form than `<type>:<key>`: the body says what it is.
    return named_doc(str(searcher.doc(address).get_first(ID))) or stored_doc(searcher, address)


def named_doc(doc_id: str) -> IndexDoc | None:
    """A document of only the id, type and key its global id names, if it names them."""
    named = split_doc_id(doc_id)
    return IndexDoc(id=doc_id, type=named[0], key=named[1]) if named is not None else None


def count(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
    """How many documents match (tantivy's `SearchResult.count`, missing from its stubs)."""
    result = searcher.search(query, limit=1, count=True)
    return int(getattr(result, "count", None) or 0)


def result_count(result: tantivy.SearchResult) -> int:
    return int(getattr(result, "count", None) or 0)


def stored_id(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> str:
    return str(searcher.doc(address).get_first(ID))
