"""`/docs` (Swagger UI) and `/redoc` that work under the app's own Content-Security-Policy.

FastAPI's built-in pages load their script and CSS from a CDN and start Swagger UI with an
inline script; the CSP (`script-src 'self'`, `style-src 'self'`) blocks all three, so the
page rendered blank. Here the files come from the pinned `fastapi-offline` package (only
its static files are used) and are served by the app under `/docs/assets/`, and the start-up
script is a file of its own rather than inline.
"""

from __future__ import annotations

import html
import importlib.resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"

# Swagger UI's standard start-up (as FastAPI's page has it), minus the inline <script>.
SWAGGER_INIT = """\
window.ui = SwaggerUIBundle({
  url: document.body.dataset.openapi,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def assets_dir() -> Path:
    """The folder of `swagger-ui-bundle.js`, `swagger-ui.css` and `redoc.standalone.js`."""
    return Path(str(importlib.resources.files("fastapi_offline").joinpath("static")))


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{ASSETS}/favicon.png">
{head}
</head>
{body}
</html>
"""
    )


def install(app: FastAPI, *, csp: str) -> None:
    """Add `/docs`, `/redoc` and their assets; the app must be made with `docs_url=None,
    redoc_url=None` so FastAPI's CDN pages are not registered first. `csp` is the app's
    Content-Security-Policy, which must hold `style-src 'self'`."""
    openapi_url = app.openapi_url or "/openapi.json"
    if "style-src 'self'" not in csp:
        raise ValueError("the Content-Security-Policy must hold style-src 'self'")
    redoc_csp = csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'; worker-src 'self' blob:")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = html.escape(request.scope.get("root_path", ""))
        return _page(
            "Discovery API",
            f'<link rel="stylesheet" href="{root}{ASSETS}/swagger-ui.css">',
            f'<body data-openapi="{root}{openapi_url}">\n<div id="swagger-ui"></div>\n'
            f'<script src="{root}{ASSETS}/swagger-ui-bundle.js"></script>\n'
            f'<script src="{root}/docs/swagger-init.js"></script>\n</body>',
        )

    @app.get("/docs/swagger-init.js", include_in_schema=False)
    async def swagger_init() -> Response:
        return Response(SWAGGER_INIT, media_type="text/javascript")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        # ReDoc styles itself with <style> elements its script writes as it loads (a nonce
        # cannot reach them in time: its bundle reads one only after its CSS is in), and runs
        # its search index in a worker made from a blob. For this page only, the CSP lets
        # both through; scripts stay 'self'. Its "API docs by Redocly" logo, the one file it
        # asks a CDN for, stays blocked (the image hides itself when it does not load).
        root = html.escape(request.scope.get("root_path", ""))
        page = _page(
            "Discovery API (ReDoc)",
            "",
            f'<body>\n<redoc spec-url="{root}{openapi_url}"></redoc>\n'
            f'<script src="{root}{ASSETS}/redoc.standalone.js"></script>\n</body>',
        )
        page.headers["Content-Security-Policy"] = redoc_csp
        return page

    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
