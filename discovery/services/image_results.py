"""Image results: what POST /api/search/image and GET /api/assets/{id}/similar answer.

Match set: the `k` nearest assets to the query vector (vectors of the same model only),
chosen under the caller's view (public rights, listed) but under none of the caller's
filters, and above `search.image_floor` on the calibrated score (`image_similarity`; the
random tiny test model has no floor) -- as semantic search chooses its matches. The engine
then narrows that set by the caller's filters and ranges and counts facets over it,
disjunctively, with the same query both engines answer for a search (`include_ids` and
`only_ids`: a post-filter on OpenSearch kNN as on the embedded engine). So the set does
not move with what is ticked, and a facet value's count is what ticking it adds.

Near-duplicates among the passing assets (pHash within `DUPLICATE_THRESHOLD` bits of a
better one) collapse into one hit that names them (`collapsed`, `collapsed_count`); the
hits (groups) are then paged. `total` counts hits, so `page`/`size` reach exactly `total`;
`total_assets` counts the assets those hits hold, which is what facet counts count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from discovery.domain import JSONObject, Product
from discovery.errors import GenerationMoved, InvalidQuery
from discovery.services.asset_titles import title_asset_hits
from discovery.services.catalog import product_visible
from discovery.services.clip_generation import moved_or_nothing
from discovery.services.context import Context
from discovery.services.image_similarity import Group, calibrated, collapse, raw_calibrated, unrelated_cosine
from discovery.services.search import INTERNAL_FIELDS, view_filters
from discovery.store.index.base import IndexDoc, Range, ScoredId, SearchQuery
from discovery.store.index.documents import KEYWORD_FIELDS

DUPLICATE_THRESHOLD = 6  # pHash bits that may differ between near-duplicates (10 over-merges simple silhouettes)
# How close (calibrated, 0..1) a pHash near-duplicate's vector must be to its leader's:
# re-encoded or resized copies reach 0.99+ with the tiny model, a different product 0.
DUPLICATE_MIN_SIMILARITY = 0.9
TINY_PREFIXES = ("tiny@", "tiny-b@")  # the random-weight test models' vectors: no floor, their cosines mean nothing


@dataclass(frozen=True, slots=True)
class ImageQuery:
    """What a caller asks of image results besides the picture. `size` None: every hit of
    the match set on one page."""

    k: int = 24
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    facets: tuple[str, ...] = ()
    facet_size: int = 10
    page: int = 1
    size: int | None = None
    collapse: bool = True
    group_by_product: bool = False
    channel: str | None = None


def check(query: ImageQuery, *, public: bool) -> None:
    """Refuse what no answer could honour: an unknown (or, for a shopper, internal) filter or
    facet field, a page outside 1.., a size outside 1..200."""
    for name in (*query.filters, *query.facets):
        if name not in KEYWORD_FIELDS or (public and name in INTERNAL_FIELDS):
            raise InvalidQuery(f"unknown filter or facet field {name!r}", field=name)
    if query.page < 1:
        raise InvalidQuery("page must be 1 or more", field="page")
    if query.size is not None and not 1 <= query.size <= 200:
        raise InvalidQuery("size must be between 1 and 200", field="size")


def image_results(
    ctx: Context,
    vector: np.ndarray,
    *,
    model: str,
    query: ImageQuery,
    public: bool,
    exclude: Sequence[str] = (),
) -> JSONObject:
    """The answer for a query vector (see the module docstring for what it holds)."""
    check(query, public=public)
    view, view_ranges = view_filters({}, {}, public=public, channel=query.channel)
    try:
        neighbours = ctx.backend.knn(
            vector.tolist(), field="image_vector", model=model, k=query.k, types=("asset",),
            filters=view, ranges=view_ranges, exclude_ids=list(exclude), strict_model=True,
        )  # fmt: skip
    except GenerationMoved as moved:
        moved_or_nothing(ctx, moved)
        neighbours = []
    sample = ctx.vector_samples.get(ctx.records, "image_vector", model)
    baseline = unrelated_cosine(vector, sample)
    if not model.startswith(TINY_PREFIXES):
        floor = ctx.settings.search.image_floor
        neighbours = [n for n in neighbours if raw_calibrated(n.score, baseline) > floor]
    cosine = {n.id: n.score for n in neighbours}
    filters, ranges = view_filters(query.filters, query.ranges, public=public, channel=query.channel)
    passing, facets, facet_errors = _narrow(ctx, neighbours, filters, ranges, query)
    docs = ctx.backend.get(passing)
    ranked = [(doc_id, _phash(docs[doc_id])) for doc_id in passing if doc_id in docs]
    agree = _same_picture(ctx, [doc_id for doc_id, _ in ranked], model, sample) if query.collapse else None
    groups = collapse(ranked, threshold=DUPLICATE_THRESHOLD, enabled=query.collapse, agree=agree)
    size = query.size or max(1, query.k)
    page = groups[(query.page - 1) * size : query.page * size]
    hits = [_hit(g, docs, cosine, baseline, public=public) for g in page]
    products = _shown_products(ctx, [str(s) for h in hits for s in _list(h.get("product_skus"))], public=public)
    if public:  # a hit names only the products a shopper may see
        for hit in hits:
            hit["product_skus"] = [s for s in _list(hit.get("product_skus")) if str(s) in products]  # type: ignore[misc]
    title_asset_hits(ctx, hits)  # type: ignore[arg-type]
    body: JSONObject = {
        "total": len(groups),
        "total_assets": len(ranked),
        "total_is_lower_bound": False,
        "hits": hits,  # type: ignore[dict-item]
        "facets": facets,
        "page": query.page,
        "size": size,
        "k": query.k,
        "collapse": query.collapse,
        "calibration": {"unrelated_cosine": None if baseline is None else round(baseline, 6)},
        "model": {"clip": model},
    }
    if facet_errors:
        body["facet_errors"] = facet_errors  # type: ignore[assignment]
    if query.group_by_product:
        body["products"] = _group_by_product(hits, products)  # type: ignore[assignment]
    return body


def _narrow(
    ctx: Context,
    neighbours: list[ScoredId],
    filters: Mapping[str, tuple[str, ...]],
    ranges: Mapping[str, Range],
    query: ImageQuery,
) -> tuple[list[str], JSONObject, dict[str, str]]:
    """The neighbours (best first) that pass the filters, and the facets over the match
    set, from one engine query over exactly these documents."""
    ids = tuple(n.id for n in neighbours)
    if not ids:  # an empty include list would mean "every document" to the engine
        selected = {f: [{"value": v, "count": 0, "selected": True} for v in filters.get(f, ())] for f in query.facets}
        return [], selected, {}  # type: ignore[return-value]
    result = ctx.backend.search(
        SearchQuery(
            types=("asset",), text_match=False, include_ids=ids, only_ids=ids, filters=filters, ranges=ranges,
            facets=query.facets, facet_size=query.facet_size, size=len(ids), highlight=False, stored=False,
            track_total_limit=ctx.settings.search.track_total_limit,
        )
    )  # fmt: skip
    passed = {h.id for h in result.hits}
    facets: JSONObject = {
        name: [{"value": v.value, "count": v.count, "selected": v.selected} for v in values]
        for name, values in result.facets.items()
    }
    return [i for i in ids if i in passed], facets, dict(result.facet_errors)


def _same_picture(ctx: Context, ids: list[str], model: str, sample: np.ndarray) -> Callable[[str, str], bool]:
    """Whether two assets' image vectors agree they are one picture: the member's
    calibrated similarity to the leader (measured against the leader's own unrelated
    cosine) reaches DUPLICATE_MIN_SIMILARITY. Without both vectors, the pHash decides."""
    vectors = {i: v for i, (_, v, _) in ctx.records.get_vectors("image_vector", ids, model=model).items()}

    def agree(member: str, leader: str) -> bool:
        a, b = vectors.get(member), vectors.get(leader)
        if a is None or b is None or a.shape != b.shape:
            return True
        return calibrated(float(a @ b), unrelated_cosine(b, sample)) >= DUPLICATE_MIN_SIMILARITY

    return agree


def _phash(doc: IndexDoc) -> str | None:
    values = doc.keywords.get("phash") or []
    return values[0] if values else None


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _hit(
    group: Group, docs: Mapping[str, IndexDoc], cosine: Mapping[str, float], baseline: float | None, *, public: bool
) -> JSONObject:
    leader = docs[group.leader]
    collapsed: list[JSONObject] = []
    for doc_id, distance in group.members:
        doc = docs[doc_id]
        item: JSONObject = {
            "id": doc.key,
            "title": doc.stored.get("title") or doc.key,
            "thumbnail": doc.stored.get("thumbnail"),
            "score": round(calibrated(cosine[doc_id], baseline), 4),
            "cosine": round(cosine[doc_id], 6),
        }
        if not public:
            item["distance"] = distance  # pHash bits from the hit: internal, as the hash
        collapsed.append(item)
    return {
        **leader.stored,
        "type": "asset",
        "id": leader.key,
        "score": round(calibrated(cosine[group.leader], baseline), 4),
        "cosine": round(cosine[group.leader], 6),
        "collapsed_count": len(collapsed),
        "collapsed": collapsed,  # type: ignore[dict-item]
    }


def _shown_products(ctx: Context, skus: list[str], *, public: bool) -> dict[str, Product]:
    """The products of these SKUs a caller may see (a public caller: listed ones only)."""
    products = ctx.records.get_products(skus)
    return {s: p for s, p in products.items() if not public or product_visible(p)}


def _group_by_product(hits: list[JSONObject], products: Mapping[str, Product]) -> list[JSONObject]:
    """Products of the page's hits, best first; a variant collapses to its parent, showing
    the image of the variant that matched."""
    best: dict[str, JSONObject] = {}
    for hit in hits:
        for sku in _list(hit.get("product_skus")):
            product = products.get(str(sku))
            if product is None:
                continue
            root = product.parent_sku or product.sku
            if root not in best:
                best[root] = {
                    "sku": root,
                    "matched_sku": product.sku,
                    "name": product.name,
                    "score": hit["score"],
                    "image": hit.get("id"),
                    "thumbnail": hit.get("thumbnail"),
                }
    return list(best.values())
