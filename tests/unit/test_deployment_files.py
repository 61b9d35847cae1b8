"""What can be checked of the deployment files without a Docker engine: the build context
leaves the heavy folders out, the image gets every package the wheel holds, and every
long-running compose service restarts and reports its health with commands that exist."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from discovery import cli

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_docker_build_context_leaves_out_the_venv_services_data_and_git() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".services", "var", ".git", "**/__pycache__"} <= ignored


def test_image_copies_every_package_the_wheel_holds() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "search_ui" in packages
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, package
    assert "download.pytorch.org/whl/${TORCH_VARIANT}" in dockerfile and "ARG TORCH_VARIANT=cpu" in dockerfile


def test_every_compose_service_restarts_and_the_app_services_have_healthchecks() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
        assert "healthcheck" in service, name
    worker = services["worker"]["healthcheck"]["test"]
    assert worker[:3] == ["CMD", "discovery", "worker-ping"]
    assert "worker-ping" in get_command(cli.app).commands  # type: ignore[attr-defined]
    for app in ("api", "worker"):
        assert set(services[app]["depends_on"]) == {"postgres", "opensearch", "redis"}
