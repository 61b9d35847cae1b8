"""The bulk writer's own policy (chunking, reading items, retrying only 429s), driven by a
scripted sender: what a node answers is scripted, our handling of it is what is tested.
The same writer against a real node is in tests/integration/test_opensearch_backend.py."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from discovery.errors import BackendUnavailable
from discovery.store.index.base import ItemOutcome
from discovery.store.index.opensearch_bulk import Action, BulkLimits, BusyError, chunks, write

FAST = BulkLimits(max_docs=2, max_bytes=10_000, retries=3, backoff_s=0.1, max_backoff_s=0.25)


def action(doc_id: str, size: int = 20) -> Action:
    head = json.dumps({"index": {"_id": doc_id}})
    return Action(0, doc_id, (head + "\n" + json.dumps({"pad": "x" * size}) + "\n").encode())


def ids_in(body: bytes) -> list[str]:
    lines = body.decode().splitlines()
    return [json.loads(line)["index"]["_id"] for line in lines[::2]]


class ScriptedNode:
    """Answers each item with the next status scripted for its id (default 201)."""

    def __init__(self, statuses: dict[str, list[int]] | None = None, busy_requests: int = 0) -> None:
        self.statuses = statuses or {}
        self.busy_requests = busy_requests
        self.bodies: list[list[str]] = []
        self.refreshes: list[str | None] = []

    def __call__(self, body: bytes, refresh: str | None) -> Mapping[str, Any]:
        if self.busy_requests:
            self.busy_requests -= 1
            raise BusyError("429 Too Many Requests")
        sent = ids_in(body)
        self.bodies.append(sent)
        self.refreshes.append(refresh)
        items = []
        for doc_id in sent:
            script = self.statuses.get(doc_id, [])
            status = script.pop(0) if script else 201
            item: dict[str, Any] = {"_id": doc_id, "status": status}
            if status >= 300:
                kind = "es_rejected_execution_exception" if status == 429 else "mapper_parsing_exception"
                item["error"] = {"type": kind, "reason": "scripted"}
            items.append({"index": item})
        return {"errors": any(i["index"]["status"] >= 300 for i in items), "items": items}


def test_chunks_are_cut_by_count_and_by_bytes() -> None:
    by_count = list(chunks([action(str(i)) for i in range(5)], BulkLimits(max_docs=2)))
    assert [len(c) for c in by_count] == [2, 2, 1]
    big = [action("a", 300), action("b", 300), action("c", 10)]
    by_bytes = list(chunks(big, BulkLimits(max_docs=100, max_bytes=400)))
    assert [[a.doc_id for a in c] for c in by_bytes] == [["a"], ["b", "c"]]


def test_an_item_failed_inside_a_200_is_reported_and_not_retried() -> None:
    node = ScriptedNode({"b": [400]})
    report, _ = write([action("a"), action("b"), action("c")], node, refresh=False, limits=FAST, sleep=lambda s: None)
    assert [(o.id, o.ok) for o in report.outcomes] == [("a", True), ("b", False), ("c", True)]
    assert "mapper_parsing_exception" in (report.failed[0].error or "")
    assert sum(len(b) for b in node.bodies) == 3


def test_only_the_busy_items_are_retried_with_growing_capped_delays() -> None:
    node = ScriptedNode({"b": [429, 429, 429]})
    delays: list[float] = []
    report, _ = write([action("a"), action("b")], node, refresh=False, limits=FAST, sleep=delays.append)
    assert not report.failed
    assert node.bodies == [["a", "b"], ["b"], ["b"], ["b"]]
    assert delays == [0.1, 0.2, 0.25]


def test_an_item_still_busy_after_the_retries_is_reported_failed() -> None:
    node = ScriptedNode({"b": [429] * 10})
    report, _ = write([action("a"), action("b")], node, refresh=False, limits=FAST, sleep=lambda s: None)
    assert [(o.id, o.ok) for o in report.outcomes] == [("a", True), ("b", False)]
    assert "es_rejected_execution_exception" in (report.failed[0].error or "")


def test_a_busy_request_is_retried_then_unavailable() -> None:
    node = ScriptedNode(busy_requests=2)
    report, _ = write([action("a")], node, refresh=False, limits=FAST, sleep=lambda s: None)
    assert report.indexed == 1
    with pytest.raises(BackendUnavailable):
        write([action("a")], ScriptedNode(busy_requests=10), refresh=False, limits=FAST, sleep=lambda s: None)


def test_only_the_last_chunk_asks_for_the_refresh() -> None:
    node = ScriptedNode()
    _, refreshed = write([action(str(i)) for i in range(5)], node, refresh=True, limits=FAST, sleep=lambda s: None)
    assert refreshed and node.refreshes == [None, None, "wait_for"]


def test_failures_found_before_sending_keep_their_place_in_the_report() -> None:
    node = ScriptedNode()
    inputs: list[Action | ItemOutcome] = [action("a"), ItemOutcome("bad", False, "not finite"), action("c")]
    report, _ = write(inputs, node, refresh=False, limits=FAST, sleep=lambda s: None)
    assert [(o.id, o.ok) for o in report.outcomes] == [("a", True), ("bad", False), ("c", True)]


def test_deleting_a_missing_document_counts_as_done_but_a_missing_index_does_not() -> None:
    node = ScriptedNode({"gone": [404], "nowhere": [404]})
    real_call = node.__call__

    def answer(body: bytes, refresh: str | None) -> Mapping[str, Any]:
        items = real_call(body, refresh)["items"]
        for entry in items:  # a missing document says "not_found"; a missing index carries an error
            item = entry["index"]
            if item["_id"] == "gone":
                item.pop("error")
                item["result"] = "not_found"
        return {"errors": True, "items": items}

    report, _ = write([action("gone"), action("nowhere")], answer, refresh=False, limits=FAST,
                      sleep=lambda s: None, missing_ok=True)
    assert [(o.id, o.ok) for o in report.outcomes] == [("gone", True), ("nowhere", False)]
