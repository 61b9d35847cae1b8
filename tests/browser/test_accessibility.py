"""axe-core (vendored under tests/browser/vendor/, so no network is needed) finds no serious
or critical accessibility violation on the search, product, asset, review and imports pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import DESKTOP, PHONE, DemoServer
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture(params=["desktop", "phone"])
def a11y_page(request: pytest.FixtureRequest, chromium: Browser, demo_server: DemoServer) -> Iterator[Page]:
    """A tab whose CSP is bypassed so axe can be injected as a script tag (the other browser
    tests keep the CSP and fail on any violation)."""
    size = DESKTOP if request.param == "desktop" else PHONE
    context = chromium.new_context(viewport=size, base_url=demo_server.url, service_workers="block", bypass_csp=True)
    context.set_default_timeout(15_000)
    context.add_init_script(f"localStorage.setItem('discovery.apiKey', {demo_server.key!r})")
    yield context.new_page()
    context.close()


def _axe(page: Page, name: str) -> list[dict[str, Any]]:
    """Run axe on the page as it is; print its counts by impact; return the blocking violations."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
    violations: list[dict[str, Any]] = result["violations"]
    counts = {impact: 0 for impact in ("minor", "moderate", "serious", "critical")}
    for violation in violations:
        counts[str(violation.get("impact") or "minor")] += len(violation["nodes"])
    width = (page.viewport_size or DESKTOP)["width"]
    print(f"axe {name} @{width}px: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    for violation in blocking:
        targets = [node["target"] for node in violation["nodes"][:5]]
        print(f"  {violation['impact']} {violation['id']}: {violation['help']} {targets}")
    return blocking


def _first(demo_server: DemoServer, kind: str) -> str:
    return str(demo_server.get(f"/api/search?type={kind}&size=1")["hits"][0]["id"])


def test_search_page_has_no_serious_accessibility_violation(a11y_page: Page) -> None:
    a11y_page.goto("/?q=shirt&mode=keyword")
    expect(a11y_page.locator(".result-status")).to_have_attribute("data-state", "done")
    assert _axe(a11y_page, "search") == []


def test_product_page_has_no_serious_accessibility_violation(a11y_page: Page, demo_server: DemoServer) -> None:
    a11y_page.goto(f"/?product={_first(demo_server, 'product')}")
    expect(a11y_page.locator("h1")).to_be_visible()
    a11y_page.wait_for_load_state("networkidle")
    assert _axe(a11y_page, "product") == []


def test_asset_page_has_no_serious_accessibility_violation(a11y_page: Page, demo_server: DemoServer) -> None:
    a11y_page.goto(f"/?asset={_first(demo_server, 'asset')}")
    expect(a11y_page.locator("h1")).to_be_visible()
    a11y_page.wait_for_load_state("networkidle")
    assert _axe(a11y_page, "asset") == []


def test_review_page_has_no_serious_accessibility_violation(a11y_page: Page) -> None:
    a11y_page.goto("/?view=review")
    expect(a11y_page.locator(".review-item").first).to_be_visible()
    assert _axe(a11y_page, "review") == []


def test_imports_page_has_no_serious_accessibility_violation(a11y_page: Page) -> None:
    a11y_page.goto("/?view=imports")
    expect(a11y_page.locator("h1")).to_be_visible()
    a11y_page.wait_for_load_state("networkidle")
    assert _axe(a11y_page, "imports") == []
