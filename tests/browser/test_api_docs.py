"""/docs and /redoc render in a real browser under the app's own Content-Security-Policy
(the `page` fixture fails the test on any violation), with their files served by the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from browser_support import DESKTOP, PAGE_PROBES, DemoServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request

SCREENSHOT = "/tmp/deploy-docs-authorize.png"


def _requests_leave_the_app(page: Page, base: str) -> list[str]:
    """Files the page fetched (a request the CSP blocked never finishes) from anywhere but the app."""
    outside: list[str] = []

    def on_finished(request: Request) -> None:
        if not request.url.startswith((base, "data:", "blob:")):
            outside.append(request.url)

    page.on("requestfinished", on_finished)
    return outside


def test_swagger_ui_renders_and_its_authorize_dialog_offers_the_api_key(page: Page, demo_server: DemoServer) -> None:
    outside = _requests_leave_the_app(page, demo_server.url)
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="Discovery").wait_for()
    assert page.locator(".opblock").count() > 10, "the operations are listed"
    page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.wait_for()
    assert dialog.get_by_text("X-API-Key").first.is_visible()
    assert dialog.get_by_text("HTTPBearer").first.is_visible()
    dialog.locator("input").first.fill(demo_server.key)
    page.screenshot(path=SCREENSHOT)
    dialog.locator("button.modal-btn.authorize").first.click()
    dialog.locator("button.modal-btn").filter(has_text="Logout").first.wait_for()
    assert not outside, f"the page fetched files from elsewhere: {outside}"


# ReDoc's sidebar always shows the Redocly logo from a CDN; the CSP blocks it (the image hides
# itself), which is the policy working, so it is the one violation allowed on /redoc.
REDOC_LOGO = "img-src https://cdn.redoc.ly/"


def test_redoc_renders_with_scripts_only_from_the_app(chromium: Browser, demo_server: DemoServer) -> None:
    context = chromium.new_context(viewport=DESKTOP, base_url=demo_server.url, service_workers="block")
    context.set_default_timeout(15_000)
    context.add_init_script(PAGE_PROBES)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    outside = _requests_leave_the_app(page, demo_server.url)
    try:
        page.goto("/redoc")
        page.locator("h1").filter(has_text="Discovery").wait_for()
        assert page.get_by_text("/api/search").count() > 0
        csp = [v for v in page.evaluate("window.__csp") if not v.startswith(REDOC_LOGO)]
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not csp, f"Content-Security-Policy violations: {csp}"
    assert not outside, f"the page fetched files from elsewhere: {outside}"
