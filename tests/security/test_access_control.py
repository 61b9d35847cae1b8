"""Who may read jobs, manage keys and undo decisions (the records, not the index: the
embedded engine stands for both). Job endpoints need an editor key, as the uploads whose
rows they reveal do; keys are listed and revoked by admins (API) and operators (CLI); a
reviewer undoes only their own decisions; decisions show who made them by key name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from discovery.api.auth import create_key
from tests.security.shop_support import Shop, open_shop, settings_for


@pytest.fixture(scope="module")
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    settings = settings_for("embedded", tmp_path_factory.mktemp("access"), request)
    with open_shop(settings, "embedded") as built:
        yield built


@pytest.fixture(scope="module")
def rejecting_job(shop: Shop) -> str:
    """A finished import whose rejects quote a row's contents."""
    job = shop.import_products([["SECRET-1", "", "Secret launch", "not a price", "EUR", ""]])
    assert job["counts"]["rejected"] == 1  # type: ignore[index]
    return str(job["id"])


def _job_paths(job_id: str) -> list[str]:
    return ["/api/jobs", f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/rejects.csv"]


@pytest.mark.parametrize(("role", "status"), [(None, 403), ("public", 403), ("viewer", 403), ("reviewer", 403)])
def test_jobs_are_not_readable_without_an_editor_key(
    shop: Shop, rejecting_job: str, role: str | None, status: int
) -> None:
    for path in _job_paths(rejecting_job):
        answer = shop.client.get(path, headers=shop.as_role(role))
        assert answer.status_code == status, path
        assert "not a price" not in answer.text and "SECRET-1" not in answer.text


def test_jobs_answer_an_invalid_key_with_401(shop: Shop, rejecting_job: str) -> None:
    for path in _job_paths(rejecting_job):
        assert shop.client.get(path, headers={"X-API-Key": "dk_nope_nope"}).status_code == 401, path


def test_jobs_need_a_key_when_reads_need_one(shop: Shop, rejecting_job: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shop.ctx.settings, "read_key_required", True)
    for path in _job_paths(rejecting_job):
        assert shop.client.get(path).status_code == 401, path


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_read_jobs_and_their_rejects(shop: Shop, rejecting_job: str, role: str) -> None:
    answers = [shop.client.get(p, headers=shop.as_role(role)) for p in _job_paths(rejecting_job)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "not a price" in answers[2].text


def test_admin_lists_creates_and_revokes_keys_and_a_revoked_key_answers_401_at_once(shop: Shop) -> None:
    admin = shop.as_role("admin")
    made = shop.client.post("/api/admin/keys", json={"role": "viewer", "name": "carol"}, headers=admin)
    assert made.status_code == 201, made.text
    key, key_id = made.json()["key"], made.json()["id"]
    listed = {k["id"]: k for k in shop.client.get("/api/admin/keys", headers=admin).json()["items"]}
    assert listed[key_id]["name"] == "carol" and listed[key_id]["revoked"] is False
    assert "hash" not in listed[key_id] and key not in str(listed)
    assert shop.client.get("/api/search", headers={"X-API-Key": key}).status_code == 200
    assert shop.client.delete(f"/api/admin/keys/{key_id}", headers=admin).status_code == 204
    assert shop.client.get("/api/search", headers={"X-API-Key": key}).status_code == 401
    listed = {k["id"]: k for k in shop.client.get("/api/admin/keys", headers=admin).json()["items"]}
    assert listed[key_id]["revoked"] is True
    assert shop.client.delete("/api/admin/keys/nosuchkey", headers=admin).status_code == 404


@pytest.mark.parametrize("role", [None, "public", "viewer", "editor"])
def test_keys_are_managed_by_admins_only(shop: Shop, role: str | None) -> None:
    headers = shop.as_role(role)
    assert shop.client.get("/api/admin/keys", headers=headers).status_code == 403
    assert shop.client.post("/api/admin/keys", json={"role": "admin"}, headers=headers).status_code == 403
    assert shop.client.delete("/api/admin/keys/whatever", headers=headers).status_code == 403


def _decide(shop: Shop, role: str, tag: str) -> int:
    item = {"target": {"type": "asset", "id": shop.assets["free.png"]}, "tag": tag, "decision": "accept"}
    answer = shop.client.post("/api/review/decisions", json=[item], headers=shop.as_role(role))
    assert answer.json()["results"][0]["ok"], answer.text
    log = shop.client.get("/api/review/log", headers=shop.as_role(role)).json()["entries"]
    return int(next(e["id"] for e in log if e["action"] == "tag.accept" and e["detail"]["tag"] == tag))


def test_reviewer_cannot_undo_another_users_decision(shop: Shop) -> None:
    admins = _decide(shop, "admin", "red")
    alices = _decide(shop, "reviewer", "blue")
    for entry in (admins, alices):
        answer = shop.client.post("/api/review/undo", json={"entry_id": entry}, headers=shop.as_role("reviewer2"))
        assert answer.status_code == 403, answer.text
    tags = {t.name: t.status for t in shop.ctx.records.get_asset(shop.assets["free.png"]).tags}  # type: ignore[union-attr]
    assert tags["red"] == "accepted" and tags["blue"] == "accepted"
    own = shop.client.post("/api/review/undo", json={"entry_id": alices}, headers=shop.as_role("reviewer"))
    assert own.status_code == 200, own.text
    anyone = shop.client.post("/api/review/undo", json={"entry_id": admins}, headers=shop.as_role("admin"))
    assert anyone.status_code == 200, anyone.text


def test_decisions_show_the_deciding_keys_name(shop: Shop) -> None:
    _decide(shop, "reviewer2", "green")
    log = shop.client.get("/api/review/log", headers=shop.as_role("reviewer")).json()["entries"]
    entry = next(e for e in log if e["action"] == "tag.accept" and e["detail"]["tag"] == "green")
    assert entry["actor"] == "bob" and entry["actor_key"].startswith("key:")
    asset = shop.client.get(f"/api/assets/{shop.assets['free.png']}", headers=shop.as_role("viewer")).json()
    assert next(t for t in asset["tags"] if t["name"] == "green")["decided_by"] == "bob"
    unnamed = create_key(shop.ctx.records, role="reviewer")
    item = {"target": {"type": "asset", "id": shop.assets["free.png"]}, "tag": "white", "decision": "accept"}
    shop.client.post("/api/review/decisions", json=[item], headers={"X-API-Key": unnamed})
    log = shop.client.get("/api/review/log", headers=shop.as_role("reviewer")).json()["entries"]
    assert next(e for e in log if e["detail"].get("tag") == "white")["actor"] == f"key:{unnamed.split('_')[1]}"
