"""Render the neutral query parts as OpenSearch query DSL.

User text never reaches `query_string` or any other parsed syntax: it is split into
words here (on anything not a letter or digit, as the index's analyzer splits), and
each word becomes `match`-family clauses on named fields, which analyse it as plain
text. So `*:*`, `name:x`, quotes and brackets are just (absent) words.

Text rules (the embedded engine's, `text_rules`): every word must match some weighted
field (AND across words, each word free to match a different field), as typed or stemmed
(the weighted fields are stemmed); the last word also matches as a prefix; each word
tolerates typos by its length as typed (`text_rules.fuzzy_distance`, sent as a number);
a phrase with synonyms matches as itself or as one of its alternatives; the whole phrase
in a name and an exact name score extra.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from discovery.domain import DocType
from discovery.errors import InvalidQuery
from discovery.store.index import opensearch_mapping as om
from discovery.store.index.base import Range
from discovery.store.index.documents import NUMBER_FIELDS, TEXT_WEIGHTS, keyword_value
from discovery.store.index.sortkeys import iso_to_epoch
from discovery.store.index.synonyms import Synonyms
from discovery.store.index.text_rules import MAX_QUERY_WORDS, fuzzy_distance

Clause = dict[str, Any]

TEXT_QUERY_NAME = "text"  # `_name` of the text clause: hits carry it in `matched_queries`
MAX_EXPANSIONS = 100
PREFIX_BOOST = 1.0
FUZZY_BOOST = 0.5
LOCALE_BOOST = 1.2
PHRASE_BOOST = 2.0
EXACT_NAME_BOOST = 25.0
SYNONYM_BOOST = 0.8

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The query's words as typed (OpenSearch folds each one with the field's analyzer)."""
    return _WORD.findall(text)[:MAX_QUERY_WORDS]


def _weighted(fields: Sequence[tuple[str, float]]) -> list[str]:
    return [f"{path}^{weight:g}" for path, weight in fields]


def _locale_fields(locale: str) -> list[tuple[str, float]]:
    out = []
    for name, weight in TEXT_WEIGHTS.items():
        path = f"{om.LOCALE_TEXT}.{locale}.{name}"
        out += [(path, weight * LOCALE_BOOST), (f"{path}.{om.FOLDED}", weight * LOCALE_BOOST)]
    return out


def _weighted_fields(locale: str | None) -> list[tuple[str, float]]:
    fields = [(f"text.{name}", weight) for name, weight in TEXT_WEIGHTS.items()]
    return fields + _locale_fields(locale) if locale else fields


def _word(word: str, *, last: bool, locale: str | None) -> Clause:
    """One word: an exact or stemmed match in any weighted field, or (in the catch-alls,
    as written) a prefix match when it is the last word, or a match within its typo
    distance."""
    catch_alls = [om.ALL_TEXT]
    if locale:
        catch_alls += [f"{om.LOCALE_ALL}.{locale}", f"{om.LOCALE_ALL}.{locale}.{om.FOLDED}"]
    options: list[Clause] = [_exact(word, locale)]
    distance = fuzzy_distance(word.casefold())
    for field in catch_alls:
        if last:
            options.append({"match_bool_prefix": {field: {"query": word, "operator": "and", "boost": PREFIX_BOOST}}})
        if distance:
            options.append({
                "match": {
                    field: {
                        "query": word, "operator": "and", "fuzziness": distance, "fuzzy_transpositions": True,
                        "prefix_length": 0, "max_expansions": MAX_EXPANSIONS, "boost": FUZZY_BOOST,
                    }
                }
            })
    return {"bool": {"should": options, "minimum_should_match": 1}}


def _exact(word: str, locale: str | None, boost: float = 1.0) -> Clause:
    """`word` as written or stemmed, in any weighted field, scored by the field's weight."""
    return {
        "multi_match": {
            "query": word, "type": "most_fields", "operator": "and", "fields": _weighted(_weighted_fields(locale)),
            "boost": boost,
        }
    }


def _alternative(phrase: Sequence[str], locale: str | None) -> Clause:
    """A synonym's words, each as written or stemmed (no typos: they are spelled right)."""
    return {"bool": {"must": [_exact(w, locale, SYNONYM_BOOST) for w in phrase]}}


def _phrase_boosts(ws: Sequence[str], locale: str | None) -> list[Clause]:
    phrase = " ".join(ws)
    boosts: list[Clause] = [{"match": {om.NAME_EXACT: {"query": phrase, "boost": EXACT_NAME_BOOST}}}]
    if len(ws) > 1:
        fields = [f"text.{n}" for n in om.NAME_FIELDS]
        if locale:
            fields += [f"{om.LOCALE_TEXT}.{locale}.{n}" for n in om.NAME_FIELDS]
        boost = PHRASE_BOOST * TEXT_WEIGHTS["name"]
        boosts += [{"match_phrase": {f: {"query": phrase, "boost": boost}}} for f in fields]
    return boosts


def text_query(ws: Sequence[str], locale: str | None, synonyms: Synonyms | None = None) -> Clause:
    """Every word (or phrase with synonyms) must match; phrase and exact-name matches add
    to the score."""
    if not ws:
        return {"match_none": {}}
    musts = [_word(w, last=i == len(ws) - 1, locale=locale) for i, w in enumerate(ws)]
    for group in reversed(synonyms.groups(ws) if synonyms else []):
        own = musts[group.start] if group.end - group.start == 1 else {"bool": {"must": musts[group.start : group.end]}}
        alternatives = [_alternative(phrase, locale) for phrase in group.alternatives]
        musts[group.start : group.end] = [{"bool": {"should": [own, *alternatives], "minimum_should_match": 1}}]
    return {"bool": {"must": musts, "should": _phrase_boosts(ws, locale), "_name": TEXT_QUERY_NAME}}


def highlight_query(field: str, ws: Sequence[str], synonyms: Synonyms | None = None) -> Clause:
    """What to mark in one field: each word as typed, stemmed or within its typo
    distance, the last also as a prefix, and the words of any synonym it matched (the
    same words the search matched)."""
    options: list[Clause] = []
    for w in ws:
        distance = fuzzy_distance(w.casefold())
        fuzzy = {"fuzziness": distance, "max_expansions": MAX_EXPANSIONS} if distance else {}
        options.append({"match": {field: {"query": w, **fuzzy}}})
    if ws:
        options.append({"match_bool_prefix": {field: {"query": ws[-1]}}})
    for group in synonyms.groups(ws) if synonyms else []:
        options += [{"match": {field: {"query": " ".join(phrase)}}} for phrase in group.alternatives]
    return {"bool": {"should": options}}


def keyword(name: str, values: Sequence[str]) -> Clause:
    """Documents holding any of `values` in `name`, each value as the index holds it."""
    return {"terms": {om.keyword_path(name): list(dict.fromkeys(keyword_value(name, v) for v in values))}}


def types(wanted: Sequence[DocType]) -> Clause | None:
    chosen = sorted(set(wanted))
    if chosen == ["asset", "product"]:
        return None
    if not chosen:
        return {"match_none": {}}
    return {"terms": {"type": chosen}}


def ids(values: Sequence[str]) -> Clause:
    return {"ids": {"values": list(dict.fromkeys(values))}}


def range_clause(name: str, rng: Range) -> Clause | None:
    if rng.lo is None and rng.hi is None:
        return None
    bounds: dict[str, Any] = {}
    if name in NUMBER_FIELDS:
        for op, value in (("gte", rng.lo), ("lte", rng.hi)):
            if value is not None:
                bounds[op] = _number(name, value)
        return {"range": {f"numbers.{name}": bounds}}
    for op, value in (("gte", rng.lo), ("lte", rng.hi)):
        if value is not None:
            bounds[op] = _epoch_millis(name, value)
    return {"range": {f"dates.{name}": {**bounds, "format": "epoch_millis"}}}


def _number(name: str, value: float | str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidQuery(f"range bound {value!r} of {name} is not a number", field=name) from None
    if not math.isfinite(number):  # NaN and ±inf cannot be sent as JSON
        raise InvalidQuery(f"range bound {value!r} of {name} is not a finite number", field=name)
    return number


def _epoch_millis(name: str, value: float | str) -> int:
    try:
        return int(iso_to_epoch(str(value)) * 1000)
    except (TypeError, ValueError, OverflowError):
        raise InvalidQuery(f"range bound {value!r} of {name} is not an ISO date", field=name) from None


def scope(doc_types: Sequence[DocType], ranges: Mapping[str, Range]) -> list[Clause]:
    """Types and ranges: they narrow hits and every facet alike."""
    clauses = [c for c in (types(doc_types),) if c is not None]
    clauses += [r for name, rng in ranges.items() if (r := range_clause(name, rng)) is not None]
    return clauses


def all_of(clauses: Sequence[Clause]) -> Clause:
    if not clauses:
        return {"match_all": {}}
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"filter": list(clauses)}}
