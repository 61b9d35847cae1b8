"""Offset paging is bounded on both engines: page * size past DISCOVERY_SEARCH_MAX_OFFSET
(1,000 by default) is a clear 400 problem pointing at the cursor, which pages on as deep
as the results go."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.shop_support import ENGINES, Shop, open_shop, settings_for


@pytest.fixture(scope="module", params=ENGINES)
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    settings = settings_for(request.param, tmp_path_factory.mktemp(f"paging-{request.param}"), request)
    with open_shop(settings, request.param) as built:
        yield built


@pytest.mark.parametrize("role", [None, "public", "admin"])
def test_deep_offset_page_is_refused_with_a_problem_pointing_at_the_cursor(shop: Shop, role: str | None) -> None:
    params = {"sort": "price", "page": "100", "size": "100", "type": "all"}
    answer = shop.client.get("/api/search", params=params, headers=shop.as_role(role))
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["field"] == "page" and "cursor" in problem["detail"] and "1000" in problem["detail"]
    body = {"sort": "price", "page": 11, "size": 100}
    assert shop.client.post("/api/search", json=body, headers=shop.as_role(role)).status_code == 400
    assert shop.client.get("/api/search", params={**params, "page": "10"}).status_code == 200  # 10 * 100 = 1,000


def test_the_cap_is_a_setting_and_the_cursor_pages_past_it(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shop.ctx.settings.search, "max_offset", 2)
    params = {"sort": "name", "size": "1", "type": "all", "mode": "keyword"}
    assert shop.client.get("/api/search", params={**params, "page": "3"}).status_code == 400
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        page = shop.client.get("/api/search", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen.extend(h["id"] for h in page["hits"])
        cursor = page["cursor"]
        if not cursor:
            break
    total = shop.client.get("/api/search", params={**params, "size": "100"}).json()["total"]
    assert len(seen) == total > 2 and len(set(seen)) == len(seen)
