"""Who may write what, and what a public (shopper) caller never sees."""

from __future__ import annotations

import pytest

from discovery.store.index.documents import asset_to_doc
from tests.api.conftest import Catalog

ROLES = ("public", "viewer", "reviewer", "editor", "admin")
# (method, path, body kind, least role allowed)
WRITES = [
    ("GET", "/api/review/queue", None, "reviewer"),
    ("POST", "/api/review/decisions", "json", "reviewer"),
    ("POST", "/api/review/undo", "undo", "reviewer"),
    ("POST", "/api/ingest/products", "product_file", "editor"),
    ("POST", "/api/ingest/assets", "asset_file", "editor"),
]


def _call(catalog: Catalog, method: str, path: str, body: str | None, key: str | None) -> int:
    headers = {"X-API-Key": key} if key else {}
    kwargs: dict[str, object] = {}
    if body == "json":
        kwargs["json"] = [{"target": {"type": "asset", "id": "nope"}, "tag": "x", "decision": "accept"}]
    elif body == "undo":
        kwargs["json"] = {}
    elif body == "product_file":
        kwargs["files"] = {"file": ("p.jsonl", b'{"sku": "AUTH-1", "name": "Auth test"}\n', "application/json")}
    elif body == "asset_file":
        kwargs["files"] = {"files": ("x.txt", b"not an image", "text/plain")}
    return catalog.client.request(method, path, headers=headers, **kwargs).status_code  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "path", "body", "least"), WRITES)
def test_each_role_against_each_write_endpoint(catalog: Catalog, method: str, path: str, body: str, least: str) -> None:
    for role in ROLES:
        status = _call(catalog, method, path, body, catalog.keys[role])
        allowed = ROLES.index(role) >= ROLES.index(least) and role != "public"
        if allowed:
            assert status not in (401, 403), f"{role} refused on {method} {path}"
        else:
            assert status == 403, f"{role} got {status} on {method} {path}"
    assert _call(catalog, method, path, body, "dk_bogus_key") == 401


def test_anonymous_caller_may_read_but_not_write(catalog: Catalog) -> None:
    assert catalog.client.get("/api/search").status_code == 200
    assert _call(catalog, "POST", "/api/review/decisions", "json", None) == 403


def _expire_one_asset(catalog: Catalog) -> str:
    ctx = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    # Not one of a near-duplicate pair: the image-results tests rely on a shopper seeing both.
    pairs = {name for name, t in catalog.truth.items() if t["near_duplicate_of"]}
    pairs |= {str(t["near_duplicate_of"]) for t in catalog.truth.values() if t["near_duplicate_of"]}
    asset = next(a for batch in ctx.records.iter_assets(batch=100) for a in batch if a.filename not in pairs)
    asset.rights = {"license": "agency", "expires_at": "2020-01-01"}
    ctx.records.upsert_assets([asset])
    ctx.backend.upsert([asset_to_doc(asset)], refresh=True)
    return str(asset.id)


def test_expired_asset_is_hidden_from_public_callers_but_found_internally(catalog: Catalog) -> None:
    asset_id = _expire_one_asset(catalog)
    public = {"X-API-Key": catalog.keys["public"]}
    client = catalog.client
    public_ids = [
        h["id"] for h in client.get("/api/search", params={"type": "asset", "size": 100}, headers=public).json()["hits"]
    ]
    assert asset_id not in public_ids
    assert client.get(f"/api/assets/{asset_id}", headers=public).status_code == 404
    assert client.get(f"/api/assets/{asset_id}/file", headers=public).status_code == 404
    internal = client.get(
        "/api/search", params={"type": "asset", "filter.rights_status": "expired", "size": 100}
    ).json()
    assert asset_id in [h["id"] for h in internal["hits"]]


def test_public_caller_cannot_filter_or_facet_on_suggested_tags(catalog: Catalog) -> None:
    public = {"X-API-Key": catalog.keys["public"]}
    response = catalog.client.get("/api/search", params={"facets": "tags_suggested"}, headers=public)
    assert response.status_code == 400
    viewer = {"X-API-Key": catalog.keys["viewer"]}
    assert catalog.client.get("/api/search", params={"facets": "tags_suggested"}, headers=viewer).status_code == 200


def test_public_asset_view_has_no_gps_versions_or_suggested_tags(catalog: Catalog) -> None:
    ctx = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    from discovery.domain import Tag

    asset = next(a for batch in ctx.records.iter_assets() for a in batch if not a.rights.get("expires_at"))
    asset.metadata["gps_latitude"] = 52.1
    ctx.records.upsert_assets([asset])
    ctx.records.tags.replace_tags(asset, [*asset.tags, Tag("secret-suggestion", "clip", "suggested", 0.5, "m@1")])
    body = catalog.client.get(f"/api/assets/{asset.id}", headers={"X-API-Key": catalog.keys["public"]}).json()
    assert "gps_latitude" not in body["metadata"]
    assert "versions" not in body
    assert all(set(t) == {"name"} for t in body["tags"])
    assert "secret-suggestion" not in str(body)
    internal = catalog.client.get(f"/api/assets/{asset.id}").json()
    assert internal["metadata"]["gps_latitude"] == 52.1


def test_where_reads_need_a_key_the_uis_read_key_cookie_opens_files_and_renditions_only(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = catalog.keys["viewer"]
    hit = catalog.client.get("/api/search", params={"type": "asset"}, headers={"X-API-Key": viewer}).json()["hits"][0]
    monkeypatch.setattr(catalog.settings, "read_key_required", True)
    monkeypatch.setattr(catalog.client.app.state.ctx.settings, "read_key_required", True)  # type: ignore[attr-defined]
    files = [f"/api/assets/{hit['id']}/renditions/thumbnail", f"/api/assets/{hit['id']}/file"]
    cookie = {"Cookie": f"discovery_read_key={viewer}"}

    assert [catalog.client.get(path).status_code for path in files] == [401, 401]  # an <img> without the cookie
    assert [catalog.client.get(path, headers=cookie).status_code for path in files] == [200, 200]
    # Nothing else reads the cookie: a cross-site form or script gains no API call by it.
    assert catalog.client.get("/api/search", params={"type": "asset"}, headers=cookie).status_code == 401
    assert catalog.client.get(f"/api/assets/{hit['id']}", headers=cookie).status_code == 401
    unknown = {"Cookie": "discovery_read_key=dk_nope_nope"}
    assert catalog.client.get(files[0], headers=unknown).status_code == 401


def test_a_key_with_non_ascii_characters_is_refused_not_an_error(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    monkeypatch.setattr(ctx.settings, "admin_key", "dk_admin-key-for-this-test-0123456789")
    odd = "dk_caf\u00e9".encode("latin-1")  # a header is bytes: latin-1 is what it decodes as
    for headers in ({"X-API-Key": odd}, {"Authorization": b"Bearer " + odd}, {"Cookie": b"discovery_read_key=" + odd}):
        path = "/api/assets/x/file" if "Cookie" in headers else "/api/search"
        assert catalog.client.get(path, headers=headers).status_code == 401, headers
