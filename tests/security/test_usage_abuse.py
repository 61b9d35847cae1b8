"""Click events and views cannot be used to reorder `sort=popular` for everyone, on both
engines: events are rate-limited per caller, popularity counts a caller (key and session,
or address) once a day per asset, and callers without a key do not count unless
DISCOVERY_ANALYTICS_COUNT_ANONYMOUS is set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from discovery.api.rate_limit import RateLimiter
from discovery.services import analytics
from tests.security.shop_support import ENGINES, Shop, open_shop, settings_for


@pytest.fixture(scope="module", params=ENGINES)
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    settings = settings_for(request.param, tmp_path_factory.mktemp(f"usage-{request.param}"), request)
    with open_shop(settings, request.param) as built:
        yield built


@pytest.fixture(autouse=True)
def fresh_limiter(shop: Shop) -> None:
    shop.client.app.state.event_limiter = RateLimiter(per_minute=60)  # type: ignore[attr-defined]


def _popular(shop: Shop) -> list[str]:
    analytics.flush(shop.ctx)
    params = {"type": "asset", "sort": "popular", "size": "10"}
    hits = shop.client.get("/api/search", params=params, headers=shop.as_role("viewer")).json()["hits"]
    return [h["id"] for h in hits]


def _usage(shop: Shop, asset_id: str) -> dict[str, int]:
    asset = shop.ctx.records.get_asset(asset_id)
    assert asset is not None
    return dict(asset.usage)


def _click(shop: Shop, asset_id: str, headers: dict[str, str], session: str | None = None) -> int:
    event: dict[str, str] = {"type": "click", "target": f"asset:{asset_id}"}
    if session:
        event["session"] = session
    return shop.client.post("/api/analytics/events", json=event, headers=headers).status_code


def test_anonymous_click_loop_is_rate_limited_and_does_not_reorder_popular(shop: Shop) -> None:
    before = _popular(shop)
    target = before[-1]
    answers = [_click(shop, target, {}) for _ in range(200)]
    assert answers.count(202) <= 62 and answers.count(429) >= 138
    limited = shop.client.post("/api/analytics/events", json={"type": "click", "target": f"asset:{target}"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["content-type"].startswith("application/problem+json")
    for _ in range(20):  # views and downloads are usage too
        shop.client.get(f"/api/assets/{target}")
        shop.client.get(f"/api/assets/{target}/file")
    assert _popular(shop) == before
    assert sum(_usage(shop, target).values()) == 0
    # Another caller is not held back by the anonymous one's limit.
    assert _click(shop, target, shop.as_role("public")) == 202


def test_a_keyed_caller_counts_once_a_day_per_session(shop: Shop) -> None:
    target = _popular(shop)[-1]
    public = shop.as_role("public")
    assert all(_click(shop, target, public, session="shopper-1") == 202 for _ in range(20))
    _popular(shop)
    clicks_one = _usage(shop, target).get("clicks", 0)
    for session in ("shopper-2", "shopper-3"):
        assert _click(shop, target, public, session=session) == 202
    ranking = _popular(shop)
    assert _usage(shop, target).get("clicks", 0) == clicks_one + 2
    assert ranking[0] == target


def test_anonymous_events_count_when_configured(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shop.ctx.settings, "analytics_count_anonymous", True)
    target = shop.assets["of-draft.png"]
    before = _usage(shop, target).get("clicks", 0)
    for _ in range(5):
        assert _click(shop, target, {}) == 202
    _popular(shop)
    assert _usage(shop, target).get("clicks", 0) == before + 1  # one address, one day
