"""Helpers for the browser tests: the demo server's handle, hostile test files, drops, screenshots."""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from discovery.config import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"

# Runs in every page before the app: counts alert() calls and CSP violations, so a test can
# prove that no script from the data ran and that the page needs no inline script or style.
PAGE_PROBES = """
window.__alerts = 0;
window.__csp = [];
const realAlert = window.alert.bind(window);
window.alert = (...args) => { window.__alerts += 1; };
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@dataclass
class DemoServer:
    """The server under test and what the tests need to know about its catalog."""

    url: str
    settings: Settings
    key: str
    info: dict[str, Any]
    hostile_asset_id: str
    thread: threading.Thread = field(repr=False)

    def get(self, path: str) -> Any:
        """GET `path` anonymously (as the public sees it); the JSON answer."""
        with urllib.request.urlopen(self.url + path, timeout=30) as resp:  # noqa: S310 - loopback
            return json.loads(resp.read())

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        """`method` `path` with the admin key and a JSON body; the JSON answer."""
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-API-Key": self.key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - loopback
            return json.loads(resp.read())


def signed_in(page: Page, key: str) -> Page:
    """`page` with `key` stored the way the UI keeps a signed-in key, for every document its
    context opens from now on (so the first request of the next `goto` already carries it)."""
    page.context.add_init_script(f"localStorage.setItem('discovery.apiKey', {json.dumps(key)})")
    return page


def hostile_png(title: str) -> bytes:
    """A small PNG whose XMP title is `title` (the way a real file carries a title)."""
    from xml.sax.saxutils import escape

    from PIL import Image, PngImagePlugin

    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
        f'<rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title></rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    )
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    image = Image.new("RGB", (160, 120), (250, 250, 250))
    for x in range(40, 120):
        for y in range(30, 90):
            image.putpixel((x, y), (200, 30, 60))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Save the page at desktop and phone widths under tests/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or DESKTOP
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # let layout and lazy thumbnails settle
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=full_page)
    page.set_viewport_size(original)


def drop_file(page: Page, data: bytes, name: str, mime: str) -> None:
    """Drop a file on the page the way a desktop drag does (dragenter, dragover, drop)."""
    page.evaluate(
        """([b64, name, mime]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: mime }));
          for (const type of ["dragenter", "dragover", "drop"]) {
            const init = { bubbles: true, cancelable: true, dataTransfer: transfer };
            document.body.dispatchEvent(new DragEvent(type, init));
          }
        }""",
        [base64.b64encode(data).decode(), name, mime],
    )


def result_total(page: Page) -> int:
    """The total of the search the page shows, once it has finished (kept in data-total)."""
    page.wait_for_selector(".result-status[data-state=done]")
    return int(page.get_attribute(".result-status", "data-total") or "0")
