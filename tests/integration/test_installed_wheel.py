"""The app as a deployment gets it: the wheel built from this checkout, installed into a fresh
folder, started from there with the checkout off the path, serves the UI, the API and /docs
(with every file /docs needs) and ships every default YAML."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import ROOT, free_port, spawn, stop_group, wait_until_up

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
SOURCES = ("pyproject.toml", "README.md", "discovery", "indexer", "models", "search_ui")


@dataclass
class Installed:
    wheel: Path
    site: Path
    url: str


def _build_wheel(out: Path) -> Path:
    """`pip wheel` offline (no build isolation, no index) from a copy, so the checkout gets no
    build/ or egg-info of its own."""
    src = out / "src"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / name)
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out / "dist"), str(src)],
        check=True,
        timeout=120,
    )
    (wheel,) = (out / "dist").glob("discovery-*.whl")
    return wheel


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback
            return resp.status, resp.headers.get("content-type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    site = tmp / "site"
    install = [*PIP, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, timeout=120)
    # Only the installed copy and the dependencies: not the checkout (cwd elsewhere; the venv's
    # editable finder comes after PYTHONPATH on the path).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCOVERY_", "PYTHON"))}
    env.update(PYTHONPATH=str(site), DISCOVERY_DATA_DIR=str(tmp / "var"), HF_HUB_OFFLINE="1")
    where = subprocess.run(
        [sys.executable, "-c", "import discovery, search_ui, indexer, models; print(discovery.__file__)"],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str(site / "discovery" / "__init__.py"), where.stdout
    port = free_port()
    log = tmp / "server.log"
    server = spawn(
        [sys.executable, str(site / "bin" / "discovery"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp,
        env=env,
        log=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, lambda: _get(url + "/healthz")[0] == 200, log=log, every=0.2)
        yield Installed(wheel=wheel, site=site, url=url)
    finally:
        stop_group(server, timeout=15)


def test_wheel_holds_the_ui_and_every_default_yaml(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    ui = {p.relative_to(ROOT).as_posix() for p in (ROOT / "search_ui").rglob("*") if p.is_file()}
    tops = ("discovery", "indexer", "models")
    yamls = {p.relative_to(ROOT).as_posix() for top in tops for p in (ROOT / top).rglob("*.yaml")}
    assert "search_ui/index.html" in ui and len(yamls) >= 6
    assert not (ui | yamls) - names, f"missing from the wheel: {sorted((ui | yamls) - names)}"
    assert not [n for n in names if n.startswith(("tests/", "bench/", "var/"))]


def test_installed_app_serves_the_ui_and_the_api(installed: Installed) -> None:
    status, kind, body = _get(installed.url + "/")
    assert status == 200 and kind.startswith("text/html") and b"<script" in body
    for src in re.findall(rb'(?:src|href)="/?([^"]+\.(?:js|css|svg))"', body):
        assert _get(f"{installed.url}/{src.decode()}")[0] == 200, src
    status, _, body = _get(installed.url + "/api/search?q=hoodie&mode=keyword&facets=brand")
    assert status == 200 and "hits" in json.loads(body)
    status, _, body = _get(installed.url + "/api/taxonomy")  # from the shipped taxonomy.yaml
    assert status == 200 and json.loads(body)


def test_installed_app_serves_docs_with_their_files_and_declares_the_key(installed: Installed) -> None:
    for page in ("/docs", "/redoc"):
        status, kind, body = _get(installed.url + page)
        assert status == 200 and kind.startswith("text/html")
        files = re.findall(rb'(?:src|href)="(/[^"]+)"', body)
        assert any(f.endswith(b".js") for f in files), body
        for path in files:
            status, _, content = _get(installed.url + path.decode())
            assert status == 200 and content, path
    status, _, body = _get(installed.url + "/openapi.json")
    schemes = json.loads(body)["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "X-API-Key"}.items() <= next(
        s for s in schemes.values() if s.get("type") == "apiKey"
    ).items()
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
