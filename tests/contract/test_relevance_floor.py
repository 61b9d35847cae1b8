"""A floor under the relevance harness (bench/bench_relevance.py): its judged queries over
the sample catalog, on both engines, must keep the targets the harness reports on.
The full figures, with a real public catalog beside them, come from the bench script."""

from __future__ import annotations

import time

from service_catalog import Service

from bench.relevance import MODES, evaluate, mean, sample_judged
from discovery.services.search import SearchRequest, search


def test_judged_queries_keep_the_relevance_floor(service: Service) -> None:
    started = time.perf_counter()

    def ranked(query: str, mode: str) -> list[str]:
        body = search(service.ctx, SearchRequest(q=query, mode=mode, size=10))  # type: ignore[arg-type]
        return [str(h["id"]) for h in body["hits"]]  # type: ignore[index,union-attr]

    judged = sample_judged(service.seed, service.products)
    assert len(judged) >= 40
    results = evaluate(judged, ranked, MODES)
    table = {mode: {kind: mean(s) for kind, s in kinds.items()} for mode, kinds in results.items()}
    ndcg = {mode: table[mode]["all"]["ndcg@10"] for mode in MODES}
    assert ndcg["hybrid"] >= max(ndcg["keyword"], ndcg["semantic"]), ndcg
    assert ndcg["hybrid"] >= 0.85, ndcg
    assert table["hybrid"]["category"]["p@10"] >= 0.9, table["hybrid"]["category"]
    assert table["hybrid"]["typo"]["zero"] == 0.0, table["hybrid"]["typo"]
    assert time.perf_counter() - started < 60
