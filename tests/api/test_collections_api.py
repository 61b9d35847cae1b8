"""Collections through HTTP on both engines: create, nest, add, filter, rename, remove."""

from __future__ import annotations

import uuid

from tests.api.conftest import Catalog


def _editor(catalog: Catalog) -> dict[str, str]:
    return {"X-API-Key": catalog.keys["editor"]}


def _asset_ids(catalog: Catalog, n: int) -> list[str]:
    hits = catalog.client.get("/api/search", params={"type": "asset", "size": n, "mode": "keyword"}).json()["hits"]
    assert len(hits) >= n
    return [str(h["id"]) for h in hits]


def _create(catalog: Catalog, name: str, parent: str | None = None) -> dict[str, object]:
    response = catalog.client.post("/api/collections", json={"name": name, "parent": parent}, headers=_editor(catalog))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _in_collection(catalog: Catalog, path: str) -> set[str]:
    params: dict[str, str | int] = {"type": "asset", "size": 100, "filter.collections": path}
    return {str(h["id"]) for h in catalog.client.get("/api/search", params=params).json()["hits"]}


def _find(nodes: list[dict[str, object]], path: str) -> dict[str, object] | None:
    for node in nodes:
        if node["path"] == path:
            return node
        found = _find(node["children"], path)  # type: ignore[arg-type]
        if found:
            return found
    return None


def test_nested_collection_lives_under_its_parent_in_the_list(catalog: Catalog) -> None:
    top = f"Campaigns {uuid.uuid4().hex[:6]}"
    parent = _create(catalog, top)
    child = _create(catalog, "Summer 2026", parent=str(parent["id"]))
    assert child["path"] == f"{top}/Summer 2026" and child["parent"] == parent["id"]
    tree = catalog.client.get("/api/collections").json()["collections"]
    node = _find(tree, top)
    assert node is not None
    children = node["children"]
    assert isinstance(children, list) and [c["path"] for c in children] == [f"{top}/Summer 2026"]


def test_added_assets_are_found_by_the_collection_filter_and_counted(catalog: Catalog) -> None:
    col = _create(catalog, f"Lookbook {uuid.uuid4().hex[:6]}")
    first, second = _asset_ids(catalog, 2)
    body = catalog.client.post(
        f"/api/collections/{col['id']}/assets",
        json={"add": [first, second, "no-such-asset", first]},
        headers=_editor(catalog),
    ).json()
    outcomes = [(r["asset"], r["ok"], r["changed"]) for r in body["results"]]
    assert outcomes == [
        (first, True, True),
        (second, True, True),
        ("no-such-asset", False, False),
        (first, True, False),
    ]
    assert body["results"][2]["error"]
    assert _in_collection(catalog, str(col["path"])) == {first, second}
    node = _find(catalog.client.get("/api/collections").json()["collections"], str(col["path"]))
    assert node is not None and node["count"] == 2
    asset = catalog.client.get(f"/api/assets/{first}").json()
    assert col["path"] in asset["collections"]


def test_an_asset_belongs_to_several_collections_at_once(catalog: Catalog) -> None:
    (asset_id,) = _asset_ids(catalog, 1)
    a, b = _create(catalog, f"A {uuid.uuid4().hex[:6]}"), _create(catalog, f"B {uuid.uuid4().hex[:6]}")
    for col in (a, b):
        catalog.client.post(f"/api/collections/{col['id']}/assets", json={"add": [asset_id]}, headers=_editor(catalog))
    assert asset_id in _in_collection(catalog, str(a["path"]))
    assert asset_id in _in_collection(catalog, str(b["path"]))


def test_rename_keeps_membership_of_the_collection_and_its_children(catalog: Catalog) -> None:
    top = _create(catalog, f"Old {uuid.uuid4().hex[:6]}")
    child = _create(catalog, "Shoes", parent=str(top["id"]))
    first, second = _asset_ids(catalog, 2)
    editor = _editor(catalog)
    catalog.client.post(f"/api/collections/{top['id']}/assets", json={"add": [first]}, headers=editor)
    catalog.client.post(f"/api/collections/{child['id']}/assets", json={"add": [second]}, headers=editor)
    new_name = f"New {uuid.uuid4().hex[:6]}"
    renamed = catalog.client.patch(f"/api/collections/{top['id']}", json={"name": new_name}, headers=editor)
    assert renamed.status_code == 200 and renamed.json()["path"] == new_name
    assert _in_collection(catalog, new_name) == {first}
    assert _in_collection(catalog, f"{new_name}/Shoes") == {second}
    assert _in_collection(catalog, str(top["path"])) == set()
    assert _in_collection(catalog, str(child["path"])) == set()
    assert f"{new_name}/Shoes" in catalog.client.get(f"/api/assets/{second}").json()["collections"]
    target = f"collection:{top['id']}"
    log = catalog.client.get("/api/review/log", params={"target": target}, headers=editor).json()["entries"]
    assert [e["action"] for e in log][:2] == ["collection.rename", "collection.assets"]


def test_removed_asset_leaves_the_collection(catalog: Catalog) -> None:
    col = _create(catalog, f"Drop {uuid.uuid4().hex[:6]}")
    first, second = _asset_ids(catalog, 2)
    editor = _editor(catalog)
    catalog.client.post(f"/api/collections/{col['id']}/assets", json={"add": [first, second]}, headers=editor)
    body = catalog.client.post(
        f"/api/collections/{col['id']}/assets", json={"remove": [first, "no-such-asset"]}, headers=editor
    ).json()
    assert [(r["action"], r["ok"]) for r in body["results"]] == [("remove", True), ("remove", False)]
    assert _in_collection(catalog, str(col["path"])) == {second}


def test_collection_writes_need_an_editor_and_names_are_checked(catalog: Catalog) -> None:
    client = catalog.client
    name = f"Guarded {uuid.uuid4().hex[:6]}"
    for role in ("viewer", "reviewer"):
        response = client.post("/api/collections", json={"name": name}, headers={"X-API-Key": catalog.keys[role]})
        assert response.status_code == 403
    assert client.get("/api/collections", headers={"X-API-Key": catalog.keys["public"]}).status_code == 403
    _create(catalog, name)
    again = client.post("/api/collections", json={"name": name}, headers=_editor(catalog))
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    slash = client.post("/api/collections", json={"name": "a/b"}, headers=_editor(catalog))
    assert slash.status_code == 400 and "parent" in slash.json()["detail"]
    assert client.patch("/api/collections/nope", json={"name": "x"}, headers=_editor(catalog)).status_code == 404
