"""Collections through HTTP on both engines: delete, contents a page at a time, and the
zip download under each caller's view."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest

from tests.api.conftest import Catalog


def _key(catalog: Catalog, role: str) -> dict[str, str]:
    return {"X-API-Key": catalog.keys[role]}


def _asset_ids(catalog: Catalog, n: int, skip: int = 20) -> list[str]:
    params: dict[str, str | int] = {"type": "asset", "size": skip + n, "mode": "keyword", "sort": "newest"}
    hits = catalog.client.get("/api/search", params=params).json()["hits"]
    assert len(hits) >= skip + n
    return [str(h["id"]) for h in hits[skip : skip + n]]


def _create(catalog: Catalog, name: str, parent: str | None = None) -> dict[str, object]:
    body = {"name": name, "parent": parent}
    response = catalog.client.post("/api/collections", json=body, headers=_key(catalog, "editor"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _add(catalog: Catalog, collection: dict[str, object], ids: list[str]) -> None:
    response = catalog.client.post(
        f"/api/collections/{collection['id']}/assets", json={"add": ids}, headers=_key(catalog, "editor")
    )
    assert response.status_code == 200 and all(r["ok"] for r in response.json()["results"])


def _in_collection(catalog: Catalog, path: str) -> set[str]:
    params: dict[str, str | int] = {"type": "asset", "size": 100, "filter.collections": path}
    return {str(h["id"]) for h in catalog.client.get("/api/search", params=params).json()["hits"]}


def _paths(nodes: list[dict[str, object]]) -> set[str]:
    return {str(n["path"]) for n in nodes} | {p for n in nodes for p in _paths(n["children"])}  # type: ignore[arg-type]


def test_deleting_a_collection_releases_its_assets_and_removes_its_children(catalog: Catalog) -> None:
    top = _create(catalog, f"Gone {uuid.uuid4().hex[:6]}")
    child = _create(catalog, "Inner", parent=str(top["id"]))
    keep = _create(catalog, f"Kept {uuid.uuid4().hex[:6]}")
    first, second = _asset_ids(catalog, 2)
    _add(catalog, top, [first])
    _add(catalog, child, [second])
    _add(catalog, keep, [first])
    for role in ("viewer", "reviewer"):
        assert catalog.client.delete(f"/api/collections/{top['id']}", headers=_key(catalog, role)).status_code == 403
    response = catalog.client.delete(f"/api/collections/{top['id']}", headers=_key(catalog, "editor"))
    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": [top["path"], child["path"]], "assets": 2}
    assert _in_collection(catalog, str(top["path"])) == set() and _in_collection(catalog, str(child["path"])) == set()
    assert _in_collection(catalog, str(keep["path"])) == {first}
    assert catalog.client.get(f"/api/assets/{first}").json()["collections"] == [keep["path"]]
    tree = catalog.client.get("/api/collections").json()["collections"]
    assert not {top["path"], child["path"]} & _paths(tree)
    log = catalog.client.get(
        "/api/review/log", params={"target": f"collection:{top['id']}"}, headers=_key(catalog, "editor")
    ).json()["entries"]
    assert log[0]["action"] == "collection.delete"
    assert catalog.client.delete(f"/api/collections/{top['id']}", headers=_key(catalog, "editor")).status_code == 404


def test_contents_page_through_a_collection(catalog: Catalog) -> None:
    col = _create(catalog, f"Pages {uuid.uuid4().hex[:6]}")
    ids = _asset_ids(catalog, 5)
    _add(catalog, col, ids)
    seen: list[str] = []
    for offset in (0, 2, 4):
        body = catalog.client.get(f"/api/collections/{col['id']}/assets", params={"offset": offset, "size": 2}).json()
        assert body["total"] == 5 and body["collection"]["path"] == col["path"]
        assert all(item["title"] and item["thumbnail"] for item in body["items"])
        seen += [str(item["id"]) for item in body["items"]]
    assert len(seen) == 5 and set(seen) == set(ids)
    assert catalog.client.get(f"/api/collections/{col['id']}/assets", params={"size": 500}).status_code == 422
    assert catalog.client.get("/api/collections/nope/assets").status_code == 404
    public = catalog.client.get(f"/api/collections/{col['id']}/assets", headers=_key(catalog, "public"))
    assert public.status_code == 403


def _zip(catalog: Catalog, collection_id: object, role: str) -> zipfile.ZipFile:
    response = catalog.client.get(f"/api/collections/{collection_id}/download", headers=_key(catalog, role))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    return archive


def test_download_is_a_zip_of_the_files_with_sub_collections_in_folders(catalog: Catalog) -> None:
    col = _create(catalog, f"Zip {uuid.uuid4().hex[:6]}")
    child = _create(catalog, "Details", parent=str(col["id"]))
    first, second = _asset_ids(catalog, 2)
    _add(catalog, col, [first])
    _add(catalog, child, [second])
    archive = _zip(catalog, col["id"], "viewer")
    names = {catalog.client.get(f"/api/assets/{i}").json()["filename"]: i for i in (first, second)}
    first_name = next(n for n, i in names.items() if i == first)
    second_name = next(n for n, i in names.items() if i == second)
    assert sorted(archive.namelist()) == sorted([first_name, f"Details/{second_name}"])
    assert archive.read(first_name) == catalog.client.get(f"/api/assets/{first}/file").content


def test_public_download_leaves_out_assets_a_shopper_may_not_see(catalog: Catalog) -> None:
    col = _create(catalog, f"Shop {uuid.uuid4().hex[:6]}")
    # Two assets whose own rights let a shopper see them (the sample catalog restricts some to
    # channels, and which assets come first depends on what other tests wrote).
    params: dict[str, str | int] = {"type": "asset", "size": 100, "mode": "keyword", "sort": "newest"}
    candidates = [str(h["id"]) for h in catalog.client.get("/api/search", params=params).json()["hits"]][20:]
    unrestricted = [i for i in candidates if not catalog.client.get(f"/api/assets/{i}").json().get("rights")]
    shown, expired = unrestricted[:2]
    _add(catalog, col, [shown, expired])
    editor = _key(catalog, "editor")
    expire = {"rights": {"expires_at": "2020-01-01"}}
    response = catalog.client.patch(f"/api/assets/{expired}", json=expire, headers=editor)
    assert response.status_code == 200
    try:
        assert len(_zip(catalog, col["id"], "viewer").namelist()) == 2
        public = _zip(catalog, col["id"], "public").namelist()
        assert public == [catalog.client.get(f"/api/assets/{shown}").json()["filename"]]
    finally:
        catalog.client.patch(f"/api/assets/{expired}", json={"rights": {"expires_at": None}}, headers=editor)


def test_a_download_over_the_size_cap_is_refused(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    col = _create(catalog, f"Big {uuid.uuid4().hex[:6]}")
    _add(catalog, col, _asset_ids(catalog, 1))
    settings = catalog.client.app.state.ctx.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings, "collection_download_max_mb", 0)
    response = catalog.client.get(f"/api/collections/{col['id']}/download")
    assert response.status_code == 413 and "DISCOVERY_COLLECTION_DOWNLOAD_MAX_MB" in response.json()["detail"]


def test_a_download_needs_a_key_where_reads_do_and_the_key_gets_the_callers_view(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the UI's "Download as zip" relies on: it sends the stored key (a plain link cannot),
    # so a signed-in caller gets its own view, and where reads need a key it is not refused.
    col = _create(catalog, f"Keyed {uuid.uuid4().hex[:6]}")
    shown, expired = _asset_ids(catalog, 2, skip=24)
    _add(catalog, col, [shown, expired])
    editor = _key(catalog, "editor")
    expire = {"rights": {"expires_at": "2020-01-01"}}
    assert catalog.client.patch(f"/api/assets/{expired}", json=expire, headers=editor).status_code == 200
    settings = catalog.client.app.state.ctx.settings  # type: ignore[attr-defined]
    try:
        monkeypatch.setattr(settings, "anonymous_role", "public")
        anonymous = catalog.client.get(f"/api/collections/{col['id']}/download")
        expired_name = catalog.client.get(f"/api/assets/{expired}", headers=editor).json()["filename"]
        assert expired_name not in zipfile.ZipFile(io.BytesIO(anonymous.content)).namelist()  # a shopper's view
        assert len(_zip(catalog, col["id"], "viewer").namelist()) == 2  # the key's own view
        monkeypatch.setattr(settings, "read_key_required", True)
        refused = catalog.client.get(f"/api/collections/{col['id']}/download")
        assert refused.status_code == 401 and "API key" in refused.json()["detail"]
        assert len(_zip(catalog, col["id"], "viewer").namelist()) == 2
    finally:
        catalog.client.patch(f"/api/assets/{expired}", json={"rights": {"expires_at": None}}, headers=editor)
