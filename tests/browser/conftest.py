"""Browser tests: Debian's headless Chromium (driven by Playwright) against a real server on
the generated sample catalog.

Playwright never downloads a browser here: it drives /usr/bin/chromium. When that binary
is missing the tests are skipped on a developer's machine and fail under `make test`
(DISCOVERY_TEST_REQUIRE_SERVICES=1), like the other service fixtures.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browser_support import DESKTOP, HOSTILE_TITLE, PAGE_PROBES, PHONE, DemoServer, hostile_png

from discovery.config import Settings
from tests.support.processes import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _test_services(config: pytest.Config) -> Any:
    """The root conftest's TEST_SERVICES (a conftest cannot import another by name)."""
    for plugin in config.pluginmanager.get_plugins():
        services = getattr(plugin, "TEST_SERVICES", None)
        if services is not None:
            return services
    raise RuntimeError("tests/conftest.py with TEST_SERVICES is not loaded")


def _missing(config: pytest.Config, what: str, why: str) -> None:
    message = f"{what} is not available ({why}); install Debian's `chromium` package"
    if _test_services(config).require_services:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Debian's Chromium, headless, shared by the session."""
    if not CHROMIUM.exists():
        _missing(request.config, f"Chromium at {CHROMIUM}", "no such file")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _missing(request.config, "Playwright", str(exc))
    manager = sync_playwright()
    playwright: Playwright = manager.start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as exc:  # a broken browser install is the same as a missing one
        manager.__exit__(None, None, None)
        _missing(request.config, f"Chromium at {CHROMIUM}", str(exc))
    yield browser
    browser.close()
    manager.__exit__(None, None, None)


def _ingest_hostile(settings: Settings, folder: Path) -> str:
    from discovery.services.ingest import ingest_asset_paths

    path = folder / "hostile-title.png"
    path.write_bytes(hostile_png(HOSTILE_TITLE))
    report: dict[str, Any] = dict(ingest_asset_paths(settings, [path], manifest=None, collection=None))
    assert report.get("state") == "succeeded", report
    ids = report.get("asset_ids") or []
    return str(ids[0]) if ids else ""


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The API and UI on a free loopback port, serving the sample catalog (60 products)."""
    import uvicorn

    from discovery.api.app import create_app
    from discovery.services.demo import load_demo

    root = tmp_path_factory.mktemp("browser")
    key = f"browser-test-{secrets.token_hex(12)}"
    settings = Settings(data_dir=root / "var", backend="embedded", admin_key=key)
    info = load_demo(settings, products=60, seed=3)
    hostile_id = _ingest_hostile(settings, root)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="browser-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    demo = DemoServer(f"http://127.0.0.1:{port}", settings, key, dict(info), hostile_id, thread)
    if not demo.hostile_asset_id:
        hits = demo.get("/api/search?type=asset&mode=keyword&q=onerror")["hits"]
        demo.hostile_asset_id = next(h["id"] for h in hits if h["title"] == HOSTILE_TITLE)
    yield demo
    server.should_exit = True
    thread.join(timeout=15)


def _tab(chromium: Browser, demo_server: DemoServer, viewport: ViewportSize) -> Page:
    """A new tab in a context of its own (own storage), the page probes installed."""
    context = chromium.new_context(viewport=viewport, base_url=demo_server.url, service_workers="block")
    context.set_default_timeout(15_000)
    context.add_init_script(PAGE_PROBES)
    return context.new_page()


@pytest.fixture
def phone(chromium: Browser, demo_server: DemoServer) -> Iterator[Page]:
    """A fresh phone-sized tab (own storage)."""
    tab = _tab(chromium, demo_server, PHONE)
    yield tab
    tab.context.close()


@pytest.fixture
def page(chromium: Browser, demo_server: DemoServer) -> Iterator[Page]:
    """A fresh desktop-sized tab (own storage) that fails the test on a dialog or a CSP violation."""
    tab = _tab(chromium, demo_server, DESKTOP)
    context = tab.context
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    try:
        csp = tab.evaluate("window.__csp || []") if not tab.is_closed() else []
    finally:
        context.close()
    assert not dialogs, f"a dialog opened: {dialogs}"
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not csp, f"Content-Security-Policy violations: {csp}"
