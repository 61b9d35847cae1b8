"""Render the neutral query parts as tantivy queries, built from terms only.

User text never reaches tantivy's query-language parser: it is tokenized with the
index's own analyzer and every word becomes term, fuzzy and prefix queries, so `*:*`,
`name:x`, quotes and brackets are just (absent) words. The one parsed query is the
`search_after` range, whose value is a hex key made here (`sortkeys`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import tantivy
from tantivy import Occur, Query

from discovery.domain import DocType
from discovery.errors import InvalidQuery
from discovery.store.index import sortkeys
from discovery.store.index import tantivy_schema as ts
from discovery.store.index.base import Range
from discovery.store.index.documents import NUMBER_FIELDS, TEXT_WEIGHTS, keyword_value
from discovery.store.index.synonyms import Synonyms
from discovery.store.index.text_rules import MAX_QUERY_WORDS, fuzzy_distance

PREFIX_BOOST = 1.0
FUZZY_BOOST = 0.5
LOCALE_BOOST = 1.2  # a match in the reader's language beats the same match in the default
PHRASE_BOOST = 2.0
EXACT_NAME_BOOST = 25.0  # "an exact name match ranks first"
SYNONYM_BOOST = 0.8  # a synonym's match is worth a little less than the word typed


@dataclass(frozen=True, slots=True)
class _Fields:
    """Where one query's words are matched: the catch-alls of the wanted types."""

    folded: list[str]  # as written: prefix and typo matching
    stemmed: list[str]  # stemmed: a word and its other number
    localized: list[str]  # the reader's language, as written


@dataclass(frozen=True, slots=True)
class TextQuery:
    scored: Query  # ranks hits
    matching: Query  # the same documents, unscored and cheaper: counts, facets, field sorts


def all_of(queries: Sequence[Query]) -> Query:
    if not queries:
        return Query.all_query()
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Must, q) for q in queries])


def any_of(queries: Sequence[Query]) -> Query:
    if not queries:
        return Query.empty_query()
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, q) for q in queries])


def unscored(query: Query) -> Query:
    """A clause that narrows without changing the text score."""
    return Query.const_score_query(query, 0.0)


class QueryBuilder:
    def __init__(self, schema: tantivy.Schema, index: tantivy.Index, searcher: tantivy.Searcher | None = None) -> None:
        self.schema = schema
        self._index = index
        self._searcher = searcher  # the snapshot's: tells which words the index holds

    def words(self, text: str) -> list[str]:
        return ts.words_of(ts.analyzer(), text)[:MAX_QUERY_WORDS]

    def text(
        self,
        words: Sequence[str],
        locale: str | None,
        types: Sequence[DocType] = ts.DOC_TYPES,
        synonyms: Synonyms | None = None,
    ) -> TextQuery:
        """Every word must match (any weighted field of a document of `types`): as typed,
        stemmed, within its typo distance, or (the last) as a prefix; a phrase with
        synonyms matches as itself or as one of its alternatives. Stemmed matches score
        by field weight, corrections and prefixes a constant below; the whole phrase and
        an exact name score extra. The match carries the type (`t_all_<type>`), so
        callers add no type filter to it."""
        wanted = [t for t in ts.DOC_TYPES if t in types]
        if not words or not wanted:
            return TextQuery(Query.empty_query(), Query.empty_query())
        loc = ts.locale_key(locale) if locale else None
        fields = _Fields(
            folded=[ts.all_text_field(t) for t in wanted],
            stemmed=[ts.stem_field(t) for t in wanted],
            localized=[f"{ts.LOCALE_TEXT}.{loc}.{ts.locale_all_key(t)}" for t in wanted] if loc else [],
        )
        stems = [ts.stem(w) for w in words]
        pairs = list(zip(words, stems, strict=True))
        matches = [self._word_match(w, st, fields, last=i == len(pairs) - 1) for i, (w, st) in enumerate(pairs)]
        scores = [q for w, st in pairs for q in self._word_scores(w, st, loc)]
        for group in reversed(synonyms.groups(words) if synonyms else []):
            alternatives = [self.words(" ".join(phrase)) for phrase in group.alternatives]
            own = all_of(matches[group.start : group.end])
            matches[group.start : group.end] = [any_of([own, *(self._phrase_match(a, fields) for a in alternatives)])]
            scores += [
                q for a in alternatives for w in a for q in self._word_scores(w, ts.stem(w), loc, SYNONYM_BOOST)
            ]
        scores += self._phrase_boosts(words, stems, loc)
        scored = Query.boolean_query([(Occur.Must, q) for q in matches] + [(Occur.Should, q) for q in scores])
        return TextQuery(scored, unscored(all_of(matches)))

    def _word_match(self, word: str, stem: str, fields: _Fields, *, last: bool) -> Query:
        """Whether a document matches `word`: its stem in the stemmed catch-alls, or the
        word as written (the prefix and fuzzy automata also match it exactly) in the
        folded ones, where each automaton runs once per type, not once per field."""
        s = self.schema
        distance = fuzzy_distance(word)
        options = [Query.term_query(s, field, stem) for field in fields.stemmed]
        for field in [*fields.folded, *fields.localized]:
            if last:
                prefix = Query.fuzzy_term_query(s, field, word, distance=0, prefix=True)
                options.append(Query.boost_query(prefix, PREFIX_BOOST))
            if distance:
                fuzzy = Query.fuzzy_term_query(s, field, word, distance=distance, transposition_cost_one=True)
                options.append(Query.boost_query(fuzzy, FUZZY_BOOST))
        # The reader's language is folded, not stemmed: the word as written matches there.
        options += [Query.term_query(s, field, word) for field in fields.localized if not last and not distance]
        return any_of(options)

    def _phrase_match(self, words: Sequence[str], fields: _Fields) -> Query:
        """A synonym's words, each as written or stemmed (no typos: they are spelled right)."""
        s = self.schema
        return all_of([
            any_of([
                *(Query.term_query(s, field, ts.stem(w)) for field in fields.stemmed),
                *(Query.term_query(s, field, w) for field in fields.localized),
            ])
            for w in words
        ])

    def share(self, words: Sequence[str], types: Sequence[DocType], filters: Mapping[str, Sequence[str]]) -> float:
        """A rough share of all documents that documents of `types` holding every known
        word of `words` and passing the keyword `filters` make up, from term frequencies,
        taking them as independent. A word no document holds as typed (a prefix being
        typed, a typo) counts as matching everything: it can widen to many words. Only
        for choosing how to count facets; never for results."""
        searcher = self._searcher
        total = searcher.num_docs if searcher is not None else 0
        if searcher is None or total == 0:
            return 1.0
        share = 1.0
        for word in words:
            held = sum(searcher.doc_freq(ts.all_text_field(t), word) for t in types if t in ts.DOC_TYPES)
            share *= min(1.0, held / total) if held else 1.0
        for name, values in filters.items():
            share *= min(1.0, sum(searcher.doc_freq(ts.keyword_field(name), v) for v in values) / total)
        return share

    def _word_scores(self, word: str, stem: str, locale: str | None, boost: float = 1.0) -> list[Query]:
        """How much a match of `word` is worth, by the field it is in."""
        s = self.schema
        scores = [
            Query.boost_query(Query.term_query(s, ts.text_field(name), stem), weight * boost)
            for name, weight in TEXT_WEIGHTS.items()
        ]
        if locale:
            scores += [
                Query.boost_query(
                    Query.term_query(s, f"{ts.LOCALE_TEXT}.{locale}.{name}", word), weight * LOCALE_BOOST * boost
                )
                for name, weight in TEXT_WEIGHTS.items()
            ]
        return scores

    def _phrase_boosts(self, words: Sequence[str], stems: Sequence[str], locale: str | None) -> list[Query]:
        s = self.schema
        boosts = [Query.boost_query(Query.term_query(s, ts.NAME_EXACT, " ".join(words)), EXACT_NAME_BOOST)]
        if len(words) > 1:
            pairs: list[tuple[str, list[str | tuple[int, str]]]] = [
                (ts.text_field(n), list(stems)) for n in ts.NAME_FIELDS
            ]
            if locale:
                pairs += [(f"{ts.LOCALE_TEXT}.{locale}.{n}", list(words)) for n in ts.NAME_FIELDS]
            boosts += [
                Query.boost_query(Query.phrase_query(s, f, terms), PHRASE_BOOST * TEXT_WEIGHTS["name"])
                for f, terms in pairs
            ]
        return boosts

    def keyword(self, name: str, values: Sequence[str]) -> Query:
        """Documents holding any of `values` in `name`, each value as the index holds it."""
        field = ts.keyword_field(name)
        values = list(dict.fromkeys(keyword_value(name, v) for v in values))
        if len(values) == 1:
            return unscored(Query.term_query(self.schema, field, values[0]))
        return unscored(Query.term_set_query(self.schema, field, list(values)))

    def types(self, types: Sequence[DocType]) -> Query | None:
        wanted = sorted(set(types))
        if wanted == ["asset", "product"]:
            return None
        if not wanted:
            return Query.empty_query()
        return self.keyword("type", wanted)

    def ids(self, ids: Sequence[str]) -> Query:
        return unscored(Query.term_set_query(self.schema, ts.ID, list(ids)))

    def range(self, name: str, rng: Range) -> Query | None:
        if rng.lo is None and rng.hi is None:
            return None
        if name in NUMBER_FIELDS:
            lo, hi = _number(name, rng.lo), _number(name, rng.hi)
            q = Query.range_query(self.schema, ts.number_field(name), tantivy.FieldType.Float, lo, hi)
        else:
            dlo, dhi = _when(name, rng.lo), _when(name, rng.hi)
            q = Query.range_query(self.schema, ts.date_field(name), tantivy.FieldType.Date, dlo, dhi)
        return unscored(q)

    def after(self, spec: sortkeys.SortSpec, key: str) -> Query:
        # `key` is hex made by sortkeys, never user text, so the parser sees no syntax.
        if not key or any(c not in "0123456789abcdef" for c in key):
            raise InvalidQuery("malformed search_after", field="search_after")
        return unscored(self._index.parse_query(f"{spec.field}:>{key}"))


def _number(name: str, value: float | str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidQuery(f"range bound {value!r} of {name} is not a number", field=name) from None


def _when(name: str, value: float | str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return ts.tantivy_date(str(value))
    except (TypeError, ValueError, OverflowError):
        raise InvalidQuery(f"range bound {value!r} of {name} is not an ISO date", field=name) from None
