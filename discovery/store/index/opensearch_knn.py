"""k-NN as OpenSearch answers it: a `knn` query on a Lucene HNSW field, with every filter
inside the query's own `filter` (Lucene filters while it searches, so k hits come back
whenever k documents qualify), and the score turned back into a cosine."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from opensearchpy.exceptions import RequestError

from discovery.domain import DocType
from discovery.errors import InvalidQuery
from discovery.store.index import opensearch_query as oq
from discovery.store.index.base import Range, ScoredId


def unit(vector: Sequence[float]) -> list[float]:
    values = [float(x) for x in vector]
    norm = math.sqrt(sum(x * x for x in values))
    if not values or not math.isfinite(norm) or norm == 0.0:
        raise InvalidQuery("vector is zero or not finite", field="vector")
    return [x / norm for x in values]


def knn_body(
    vector: list[float],
    *,
    field: str,
    model: str,
    k: int,
    types: Sequence[DocType],
    filters: Mapping[str, Sequence[str]],
    ranges: Mapping[str, Range],
    exclude_ids: Sequence[str],
) -> dict[str, Any]:
    # Vectors of two models share a field but are never compared: the model is a filter.
    narrowing = [*oq.scope(types, ranges), {"term": {"vector_model": model}}]
    narrowing += [oq.keyword(n, v) for n, v in filters.items() if v]
    knn_filter: dict[str, Any] = {"bool": {"filter": narrowing}}
    if exclude_ids:
        knn_filter["bool"]["must_not"] = [oq.ids(exclude_ids)]
    return {"size": k, "_source": False, "query": {"knn": {field: {"vector": vector, "k": k, "filter": knn_filter}}}}


def read_knn(response: Mapping[str, Any], min_score: float | None) -> list[ScoredId]:
    # Lucene's cosine score is (1 + cos) / 2: turn it back into the cosine.
    found = [ScoredId(h["_id"], 2.0 * float(h["_score"]) - 1.0) for h in response["hits"]["hits"]]
    return [s for s in found if min_score is None or s.score >= min_score]


def refused(exc: RequestError, field: str) -> list[ScoredId]:
    """No vector of `field` indexed yet: nothing is near. A wrong dimension is the caller's."""
    text = str(exc.info)
    if "dimension" in text.lower():
        raise InvalidQuery(f"vector does not have the dimension of {field}: {exc.error}", field="vector") from exc
    if "knn_vector" in text or "not mapped" in text.lower() or "No mapping" in text:
        return []
    raise exc


def held_models_body(types: Sequence[DocType]) -> dict[str, Any]:
    """The vector models the documents of `types` carry (a request of its own, answered
    from the index the alias names at that moment)."""
    return {
        "size": 0,
        "query": {"bool": {"filter": [{"terms": {"type": list(types)}}]}},
        "aggs": {"models": {"terms": {"field": "vector_model", "size": 50}}},
    }


def held_models(response: Mapping[str, Any]) -> tuple[str, ...]:
    buckets = response.get("aggregations", {}).get("models", {}).get("buckets", [])
    return tuple(sorted(str(b["key"]) for b in buckets))
