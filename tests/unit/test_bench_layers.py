"""The benches replay the engine calls a request made straight to OpenSearch's REST API
(bench/search_layers.py): every call the adapter accepts must render as the body it sends,
or the scale and search benches stop at their search-mix step."""

from __future__ import annotations

import inspect
import json

from bench.search_layers import Call, rest_bodies
from discovery.store.index.opensearch import OpenSearchBackend

KNN_VALUES = {"field": "image_vector", "model": "tiny", "k": 5, "min_score": 0.2, "strict_model": True}


def test_a_knn_call_with_every_keyword_the_adapter_takes_renders_as_one_search_body() -> None:
    keywords = [p for p in inspect.signature(OpenSearchBackend.knn).parameters.values() if p.kind is p.KEYWORD_ONLY]
    kwargs = {p.name: KNN_VALUES.get(p.name, p.default) for p in keywords}
    assert inspect.Parameter.empty not in kwargs.values(), "a new required keyword: give it a value above"

    [(endpoint, body)] = rest_bodies([Call("knn", ([0.6, 0.8, 0.0],), kwargs)])

    assert endpoint == "_search"
    sent = json.loads(body)
    assert "strict_model" not in body.decode() and "min_score" not in body.decode()
    assert sent["size"] == 5


def test_a_get_of_no_ids_sends_nothing_and_of_some_ids_one_mget() -> None:
    assert rest_bodies([Call("get", ([],), {})]) == []
    assert rest_bodies([Call("get", (["product:A"],), {})]) == [("_mget", b'{"ids": ["product:A"]}')]
