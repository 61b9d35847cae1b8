"""The one port in front of both search engines.

Everything here is backend-neutral: the documents an engine holds (`IndexDoc`), the
query it answers (`SearchQuery`), and what it answers with (`SearchResult`). The
embedded engine (tantivy + numpy/FAISS) and the OpenSearch engine each render these
into their own calls; nothing outside their modules speaks an engine's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from discovery.domain import DocType, JSONObject, JSONScalar
from discovery.store.index.synonyms import Synonyms

SortKey = Literal["relevance", "price", "-price", "newest", "name", "popular"]
VectorField = Literal["text_vector", "image_vector"]


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive range; either end may be open. Dates are ISO-8601 strings."""

    lo: float | str | None = None
    hi: float | str | None = None


@dataclass(slots=True)
class IndexDoc:
    """One document as both engines store it, derived from a product or asset record.

    `id` is global across types (``product:SKU``, ``asset:ID``); `key` is the record's own id.
    `text` holds the weighted full-text fields (see `documents.TEXT_WEIGHTS`);
    `locale_text` the same per locale. `keywords` are exact-match fields used for
    filters and facets (multi-valued). `numbers` and `dates` are range/sort fields.
    `stored` is what a hit shows, returned as-is.
    """

    id: str
    type: DocType
    key: str
    text: dict[str, str] = field(default_factory=dict)
    locale_text: dict[str, dict[str, str]] = field(default_factory=dict)
    keywords: dict[str, list[str]] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    sort_name: str = ""
    text_vector: list[float] | None = None
    image_vector: list[float] | None = None
    vector_model: str | None = None
    stored: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A backend-neutral query.

    Match set: with empty `text` and no `include_ids`, every document of `types`.
    Otherwise the documents whose text matches `text` (when `text_match`, by the rules of
    `text_rules`; a phrase of `text` that `synonyms` knows also matches as any of its
    alternatives) plus the documents named in `include_ids` (vector candidates chosen by
    the service). The match set is then narrowed by `filters` and `ranges`.

    Filter grammar: `filters` maps a keyword field to values; a document passes a field
    when it holds any of its values (OR within a field), and must pass every field (AND
    across fields). Values compare as the index holds them (`documents.keyword_value`:
    `xl` is `XL`, `gray` is `Grey`), and facets list them in that form. `ranges` are
    inclusive and AND-ed.

    Facets are disjunctive: the counts of facet F are computed over the match set
    narrowed by every filter except F's own; hits are narrowed by all filters. Selected
    values always appear in their facet, with their count (possibly 0).

    Sorting: `relevance` orders by text score (documents matched only through
    `include_ids` follow, in the order given); the other keys order by a field with the
    global id as tie-break. `search_after` continues after the sort values of the last
    hit of the previous page (`Hit.sort_values`).
    """

    text: str = ""
    types: tuple[DocType, ...] = ("product",)
    text_match: bool = True
    include_ids: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    facets: tuple[str, ...] = ()
    facet_size: int = 10
    sort: SortKey = "relevance"
    offset: int = 0
    size: int = 20
    search_after: tuple[JSONScalar, ...] | None = None
    highlight: bool = True
    locale: str | None = None
    track_total_limit: int = 10_000
    only_ids: tuple[str, ...] | None = None  # narrows the match set to these documents
    stored: bool = True  # False: hits may leave out `stored` and highlights (a ranking window, not a page)
    synonyms: Synonyms | None = None  # query-time synonyms (the service's: taxonomy plus the synonyms file)


@dataclass(frozen=True, slots=True)
class Highlight:
    """A field's text and where the query matched in it. Plain text: the caller escapes
    or marks it; nothing here is HTML."""

    text: str
    offsets: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class Hit:
    id: str
    type: DocType
    key: str
    score: float
    stored: JSONObject
    highlights: dict[str, list[Highlight]] = field(default_factory=dict)
    sort_values: tuple[JSONScalar, ...] = ()
    text_matched: bool = True


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    count: int
    selected: bool = False


@dataclass(slots=True)
class SearchResult:
    total: int
    total_is_lower_bound: bool
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    facet_errors: dict[str, str] = field(default_factory=dict)
    took_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class ScoredId:
    id: str
    score: float  # cosine similarity, higher is closer


@dataclass(slots=True)
class ItemOutcome:
    id: str
    ok: bool
    error: str | None = None


@dataclass(slots=True)
class BulkReport:
    """The per-document truth of a bulk write. A bulk call that 'succeeded' may still
    have failed items; callers read `failed`."""

    outcomes: list[ItemOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def indexed(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)


@runtime_checkable
class SearchBackend(Protocol):
    """What every search engine offers the services.

    Duplicate policy: documents are keyed by `IndexDoc.id`; writing an id that exists
    replaces the whole document (an upsert), so writing the same batch twice leaves the
    index as after once.

    Visibility: writes are visible to searches after `refresh()`; `upsert(..., refresh=True)`
    returns only once they are.
    """

    name: str

    def ensure_ready(self) -> None:
        """Create the current index version if there is none. Idempotent."""

    def ping(self) -> str | None:
        """None when the engine answers, else why not."""

    def warm_up(self) -> None:
        """Start, in the background, whatever makes the first queries as fast as later
        ones (the embedded engine's HNSW graphs); a server calls it at start."""

    def warming(self) -> list[str]:
        """What `warm_up` is still preparing (searches answer meanwhile); [] when done."""

    def upsert(self, docs: Iterable[IndexDoc], *, refresh: bool = False) -> BulkReport:
        """Write documents, reporting each one's outcome."""

    def delete(self, ids: Sequence[str], *, refresh: bool = False) -> BulkReport:
        """Remove documents by global id; a missing id is not an error."""

    def refresh(self) -> None:
        """Make every write so far visible to searches."""

    def make_visible(self) -> None:
        """Make this process's writes so far visible soon at the engine's cheapest, without
        holding other callers (a reviewer's decision): OpenSearch refreshes the index now; the
        embedded engine returns at once, its near-real-time commit shows them within ~0.4 s."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer a query (see `SearchQuery` for its semantics)."""

    def knn(
        self,
        vector: Sequence[float],
        *,
        field: VectorField,
        model: str,
        k: int,
        types: tuple[DocType, ...] = ("asset",),
        filters: Mapping[str, tuple[str, ...]] | None = None,
        ranges: Mapping[str, Range] | None = None,
        min_score: float | None = None,
        exclude_ids: Sequence[str] = (),
        strict_model: bool = False,
    ) -> list[ScoredId]:
        """The k nearest documents by cosine similarity among those that pass the filters
        and carry a vector from `model` (vectors of two models are never compared); none
        when the index holds no vector of `model`. With `strict_model`, no neighbour because
        the documents of `types` carry `field` vectors of other models only (a model switch
        swapped generations) raises `GenerationMoved` naming them instead."""

    def get(self, ids: Sequence[str]) -> dict[str, IndexDoc]:
        """Stored documents by global id (missing ids are absent from the answer)."""

    def count(self) -> int:
        """Documents in the current index version."""

    def rebuild(self, docs: Iterable[IndexDoc], *, fresh_vectors: Sequence[VectorField] = ()) -> BulkReport:
        """Build a new index version from `docs`, then make it current atomically: searches
        during the rebuild see the old version, never an empty or partial one. The vector
        fields in `fresh_vectors` take their dimension from the new documents (a model
        switch), not from the old version."""

    def close(self) -> None:
        """Release files, threads and connections."""
