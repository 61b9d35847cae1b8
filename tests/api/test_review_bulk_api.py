"""The review queue paged by cursor, bulk decisions and bulk undo in one request each, and
`/api/me`, through HTTP on both engines."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from discovery.api.auth import create_key
from discovery.services import review_bulk
from tests.api.conftest import Catalog


def _named_key(catalog: Catalog, role: str, name: str) -> dict[str, str]:
    records = catalog.client.app.state.ctx.records  # type: ignore[attr-defined]
    return {"X-API-Key": create_key(records, role=role, name=name)}  # type: ignore[arg-type]


def _queue(catalog: Catalog, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = catalog.client.get("/api/review/queue", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _pairs(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(i["target"]["type"], i["target"]["id"], i["tag"]) for i in items]


def test_the_cursor_pages_through_every_open_item_once_even_while_deciding(catalog: Catalog) -> None:
    alice = _named_key(catalog, "reviewer", "alice")
    # Usage that earlier tests left in the buffer changes assets' impact, and so the queue's
    # order, whenever the buffer is flushed: written now, not in the middle of the paging.
    catalog.client.app.state.ctx.usage.run_flush()  # type: ignore[attr-defined]
    whole = _queue(catalog, alice, target_type="asset", limit=500)
    assert whole["cursor"] is None and whole["total"] == len(whole["items"]) > 12
    assert all(i["target"]["type"] == "asset" for i in whole["items"])
    expected = _pairs(whole["items"])
    seen: list[tuple[str, str, str]] = []
    cursor: str | None = None
    decided: list[dict[str, Any]] = []
    while True:
        page = _queue(catalog, alice, target_type="asset", limit=5, **({"cursor": cursor} if cursor else {}))
        seen.extend(_pairs(page["items"]))
        if len(decided) < 2:  # decisions between pages must neither shift nor repeat the next page
            item = page["items"][0]
            decided.append(item)
            body = {"decision": "reject", "items": [{"target": item["target"], "tag": item["tag"]}]}
            assert catalog.client.post("/api/review/bulk", json=body, headers=alice).status_code == 200
        cursor = page["cursor"]
        if cursor is None:
            break
    assert seen == expected, "every open item once, in the queue's order"
    distance = [abs(float(i["confidence"]) - 0.5) for i in whole["items"]]
    assert distance == sorted(distance)
    entries = [_bulk_entry(catalog, alice, d) for d in decided]
    catalog.client.post("/api/review/undo", json={"entry_ids": entries}, headers=alice)


def _bulk_entry(catalog: Catalog, headers: dict[str, str], item: dict[str, Any]) -> int:
    target = f"{item['target']['type']}:{item['target']['id']}"
    log = catalog.client.get("/api/review/log", params={"target": target}, headers=headers).json()["entries"]
    return int(next(e["id"] for e in log if e["action"] == "tag.reject" and e["detail"]["tag"] == item["tag"]))


def test_a_cursor_the_queue_did_not_give_is_refused_naming_the_field(catalog: Catalog) -> None:
    response = catalog.client.get(
        "/api/review/queue", params={"cursor": "not-a-cursor"}, headers={"X-API-Key": catalog.keys["reviewer"]}
    )
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


def test_the_queue_filters_by_target_type_and_confidence_and_counts_what_is_open_elsewhere(catalog: Catalog) -> None:
    headers = {"X-API-Key": catalog.keys["reviewer"]}
    everything = _queue(catalog, headers, limit=1, group="tag")
    narrow = _queue(catalog, headers, target_type="asset", min_confidence=0.4, max_confidence=0.6, limit=500)
    assert all(0.4 <= float(i["confidence"]) <= 0.6 and i["target"]["type"] == "asset" for i in narrow["items"])
    assert narrow["open_total"] == everything["total"] >= narrow["total"]
    assert everything["groups"] and everything["sources"]
    none = _queue(catalog, headers, tag="no-such-tag")
    assert none["items"] == [] and none["total"] == 0 and none["open_total"] == everything["total"]


def test_bulk_accept_is_one_request_with_each_items_outcome_and_one_undo_takes_it_back(catalog: Catalog) -> None:
    bob = _named_key(catalog, "reviewer", "bob")
    items = _queue(catalog, bob, limit=6)["items"]
    picks = [{"target": i["target"], "tag": i["tag"]} for i in items]
    missing = {"target": {"type": "asset", "id": "no-such-asset"}, "tag": "colour:red"}
    body = {"decision": "accept", "items": [*picks, picks[0], missing]}
    out = catalog.client.post("/api/review/bulk", json=body, headers=bob).json()
    outcomes = [r["outcome"] for r in out["results"]]
    assert outcomes == ["decided"] * 6 + ["already_decided", "not_found"]
    assert out["counts"] == {"decided": 6, "already_decided": 1, "not_found": 1}
    assert {r["decided_by"] for r in out["results"][:7]} == {"bob"}, "decisions show the key's name"
    assert "no-such-asset" in out["results"][7]["error"]
    after = _pairs(_queue(catalog, bob, limit=500)["items"])
    assert not set(_pairs(items)) & set(after), "decided items left the queue"

    entries = [r["entry"] for r in out["results"] if r["outcome"] == "decided"]
    undone = catalog.client.post("/api/review/undo", json={"entry_ids": entries}, headers=bob).json()
    assert undone["counts"]["undone"] == 6
    back = set(_pairs(_queue(catalog, bob, limit=500)["items"]))
    assert set(_pairs(items)) <= back, "every suggestion is open again"
    again = catalog.client.post("/api/review/undo", json={"entry_ids": [*entries[:1], 10**9]}, headers=bob).json()
    assert [r["outcome"] for r in again["results"]] == ["already_undone", "not_found"]


def test_bulk_by_filter_decides_what_the_filter_selects_and_never_overwrites_a_decision(catalog: Catalog) -> None:
    carol, dave = _named_key(catalog, "reviewer", "carol"), _named_key(catalog, "reviewer", "dave")
    tag = _queue(catalog, carol, limit=1, group="tag")["groups"][-1]["tag"]
    selected = _queue(catalog, carol, tag=tag, limit=500)["items"]
    first = {"decision": "reject", "items": [{"target": selected[0]["target"], "tag": tag}]}
    entry = catalog.client.post("/api/review/bulk", json=first, headers=dave).json()["results"][0]["entry"]
    body = {"decision": "accept", "filter": {"tag": tag}}
    out = catalog.client.post("/api/review/bulk", json=body, headers=carol).json()
    assert out["counts"]["decided"] == len(selected) - 1
    assert _queue(catalog, carol, tag=tag)["total"] == 0
    # dave's earlier rejection stands; carol may not undo it, and her own undo is per item.
    again = {"decision": "accept", "items": [{"target": selected[0]["target"], "tag": tag}]}
    result = catalog.client.post("/api/review/bulk", json=again, headers=carol).json()["results"][0]
    assert result["outcome"] == "already_decided" and result["status"] == "rejected" and result["decided_by"] == "dave"
    mine = [r["entry"] for r in out["results"]]
    undo = catalog.client.post("/api/review/undo", json={"entry_ids": [entry, *mine]}, headers=carol).json()
    assert undo["results"][0]["outcome"] == "forbidden"
    assert undo["counts"]["undone"] == len(mine)
    catalog.client.post("/api/review/undo", json={"entry_ids": [entry]}, headers=dave)


def test_bulk_needs_either_a_selection_or_a_filter_and_a_reviewer(catalog: Catalog) -> None:
    headers = {"X-API-Key": catalog.keys["reviewer"]}
    neither = catalog.client.post("/api/review/bulk", json={"decision": "accept"}, headers=headers)
    assert neither.status_code == 400 and "items" in neither.json()["detail"]
    viewer = {"X-API-Key": catalog.keys["viewer"]}
    refused = catalog.client.post("/api/review/bulk", json={"decision": "accept", "filter": {}}, headers=viewer)
    assert refused.status_code == 403


def test_an_accepted_bulk_tag_becomes_searchable(catalog: Catalog) -> None:
    headers = {"X-API-Key": catalog.keys["reviewer"]}
    item = _queue(catalog, headers, target_type="asset", limit=1)["items"][0]
    body = {"decision": "accept", "items": [{"target": item["target"], "tag": item["tag"]}]}
    assert catalog.client.post("/api/review/bulk", json=body, headers=headers).json()["counts"]["decided"] == 1
    params = {"type": "asset", "filter.tags": item["tag"]}
    # The bulk write stages the documents like a single decision does (committed within a
    # second, as test_review_api pins); the slack here is for a loaded machine's OpenSearch.
    deadline = time.monotonic() + 5.0
    while item["target"]["id"] not in [h["id"] for h in _hits(catalog, params)]:
        assert time.monotonic() < deadline, "the accepted tag did not become searchable"
        time.sleep(0.02)


def _hits(catalog: Catalog, params: dict[str, str]) -> list[dict[str, Any]]:
    return list(catalog.client.get("/api/search", params=params).json()["hits"])


def test_me_names_the_signed_in_key_and_its_role(catalog: Catalog) -> None:
    erin = _named_key(catalog, "editor", "erin")
    me = catalog.client.get("/api/me", headers=erin).json()
    assert (me["signed_in"], me["name"], me["role"]) == (True, "erin", "editor")
    assert [r["role"] for r in me["roles"]] == ["public", "viewer", "reviewer", "editor", "admin"]
    anonymous = catalog.client.get("/api/me").json()
    assert anonymous["signed_in"] is False and anonymous["name"] is None


def test_a_single_decision_is_not_held_up_by_a_bulk_write_in_progress(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"X-API-Key": catalog.keys["reviewer"]}
    single_done = threading.Event()
    bulk_running = threading.Event()
    real = review_bulk.decide_bulk

    def slow_bulk(*args: Any, **kwargs: Any) -> Any:
        bulk_running.set()
        single_done.wait(timeout=20)  # a long bulk write: it ends only after the single one
        return real(*args, **kwargs)

    monkeypatch.setattr(review_bulk, "decide_bulk", slow_bulk)
    sku = str(catalog.client.get("/api/search", params={"type": "product"}).json()["hits"][0]["id"])
    bulk_body = {"decision": "accept", "items": [{"target": {"type": "product", "id": sku}, "tag": "lane-bulk"}]}
    bulk_status: list[int] = []
    bulk = threading.Thread(
        target=lambda: bulk_status.append(
            catalog.client.post("/api/review/bulk", json=bulk_body, headers=headers).status_code
        )
    )
    bulk.start()
    try:
        assert bulk_running.wait(timeout=20)
        single = [{"target": {"type": "product", "id": sku}, "tag": "lane-single", "decision": "accept"}]
        started = time.monotonic()
        response = catalog.client.post("/api/review/decisions", json=single, headers=headers)
        waited = time.monotonic() - started
        assert response.status_code == 200 and response.json()["results"][0]["ok"]
        assert waited < 15, "the single decision answered while the bulk one still ran"
    finally:
        single_done.set()
        bulk.join(timeout=60)
    assert bulk_status == [200]
