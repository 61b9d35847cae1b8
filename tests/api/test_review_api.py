"""The review workflow through HTTP: queue, bulk decisions, facets, audit log and undo."""

from __future__ import annotations

import time

from tests.api.conftest import Catalog


def _reviewer(catalog: Catalog) -> dict[str, str]:
    return {"X-API-Key": catalog.keys["reviewer"]}


def _queue(catalog: Catalog, **params: object) -> dict[str, object]:
    return dict(catalog.client.get("/api/review/queue", params=params, headers=_reviewer(catalog)).json())


def test_ingested_images_come_with_suggestions_most_uncertain_first(catalog: Catalog) -> None:
    body = _queue(catalog, limit=50, group="tag")
    items = body["items"]
    assert body["total"] > 0 and items
    assert {i["source"] for i in items} <= {"clip", "learned", "rule", "product", "text", "catalog", "cutout"}
    distance = [abs(float(i["confidence"]) - 0.5) for i in items]
    assert distance == sorted(distance)
    assert body["groups"] and all(g["count"] > 0 for g in body["groups"])


def test_an_accepted_tag_is_a_facet_value_in_the_reviewers_next_search(catalog: Catalog) -> None:
    item = _queue(catalog, limit=1)["items"][0]
    decision = {"target": item["target"], "tag": item["tag"], "decision": "accept"}
    out = catalog.client.post("/api/review/decisions", json=[decision], headers=_reviewer(catalog)).json()
    assert out["results"] == [{"index": 0, "ok": True, "error": None}]
    params = {"type": item["target"]["type"], "facets": "tags", "filter.tags": item["tag"]}
    # OpenSearch: the very next search (the decision refreshed the index). Embedded: within the
    # shared near-real-time commit (~0.4 s), which the decision does not wait for.
    deadline = time.monotonic() + (0.0 if catalog.settings.backend == "opensearch" else 2.0)
    while True:
        body = catalog.client.get("/api/search", params=params).json()
        if item["target"]["id"] in [h["id"] for h in body["hits"]] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert item["target"]["id"] in [h["id"] for h in body["hits"]]
    assert {"value": item["tag"], "count": body["total"], "selected": True} in body["facets"]["tags"]


def test_a_bulk_decision_is_visible_whole_in_the_next_search(catalog: Catalog) -> None:
    items = _queue(catalog, limit=40)["items"]
    targets = list({(i["target"]["type"], i["target"]["id"]): i for i in items}.values())[:5]
    tag = f"bulk-{time.monotonic_ns()}"  # new to every target: each decision is a real change
    batch = [{"target": i["target"], "tag": tag, "decision": "accept"} for i in targets]
    results = catalog.client.post("/api/review/decisions", json=batch, headers=_reviewer(catalog)).json()["results"]
    assert all(r["ok"] for r in results)
    wanted = {(i["target"]["type"], i["target"]["id"]) for i in targets}
    deadline = time.monotonic() + (0.0 if catalog.settings.backend == "opensearch" else 2.0)  # as above
    while True:
        found = set()
        for kind in {i["target"]["type"] for i in targets}:
            body = catalog.client.get("/api/search", params={"type": kind, "filter.tags": tag, "size": 50}).json()
            found |= {(kind, h["id"]) for h in body["hits"]}
        if found == wanted or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert found == wanted


def test_bulk_decisions_apply_the_good_items_and_report_the_bad_one(catalog: Catalog) -> None:
    items = _queue(catalog, limit=2)["items"]
    batch = [
        {"target": items[0]["target"], "tag": items[0]["tag"], "decision": "reject"},
        {"target": {"type": "asset", "id": "no-such-asset"}, "tag": "x", "decision": "accept"},
        {"target": items[1]["target"], "tag": items[1]["tag"], "decision": "maybe"},
    ]
    results = catalog.client.post("/api/review/decisions", json=batch, headers=_reviewer(catalog)).json()["results"]
    assert [r["ok"] for r in results] == [True, False, False]
    assert "no-such-asset" in results[1]["error"] and "accept or reject" in results[2]["error"]
    again = catalog.client.post("/api/review/decisions", json=batch[:1], headers=_reviewer(catalog)).json()
    assert again["results"][0]["ok"], "deciding the same thing twice is fine and changes nothing"


def test_undo_restores_the_suggestion_and_the_log_shows_both(catalog: Catalog) -> None:
    item = _queue(catalog, limit=1)["items"][0]
    target = f"{item['target']['type']}:{item['target']['id']}"
    decision = {"target": item["target"], "tag": item["tag"], "decision": "reject"}
    catalog.client.post("/api/review/decisions", json=[decision], headers=_reviewer(catalog))
    assert item["tag"] not in [
        i["tag"] for i in _queue(catalog, tag=item["tag"], limit=500)["items"] if i["target"] == item["target"]
    ]
    undone = catalog.client.post("/api/review/undo", json={}, headers=_reviewer(catalog)).json()
    assert undone["tag"] == item["tag"] and undone["restored"]["status"] == "suggested"
    back = [i for i in _queue(catalog, tag=item["tag"], limit=500)["items"] if i["target"] == item["target"]]
    assert back, "the suggestion is back in the queue"
    log = catalog.client.get("/api/review/log", params={"target": target}, headers=_reviewer(catalog)).json()
    actions = [e["action"] for e in log["entries"]]
    assert actions[:2] == ["tag.undo", "tag.reject"]


def test_queue_items_name_an_asset_as_search_does(catalog: Catalog) -> None:
    items = [i for i in _queue(catalog, limit=200)["items"] if i["target"]["type"] == "asset"]
    assert items
    for item in items[:5]:
        view = catalog.client.get(f"/api/assets/{item['target']['id']}", headers=_reviewer(catalog)).json()
        assert item["title"] == view["display_title"]
    assert any(i["title"] != catalog.client.get(f"/api/assets/{i['target']['id']}").json()["filename"] for i in items)
