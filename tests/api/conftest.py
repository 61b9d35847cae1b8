"""The real app over a generated sample catalog, on the embedded engine and on OpenSearch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.api.auth import create_key
from discovery.config import Settings
from discovery.services.demo import load_demo


@dataclass
class Catalog:
    client: TestClient
    settings: Settings
    info: dict[str, object]
    keys: dict[str, str]

    @property
    def truth(self) -> dict[str, dict[str, object]]:
        return json.loads(Path(str(self.info["truth_json"])).read_text())


def _settings(engine: str, tmp: Path, request: pytest.FixtureRequest) -> Settings:
    if engine == "opensearch":
        url = request.getfixturevalue("opensearch_url")
        prefix = f"api{abs(hash(str(tmp))) % 10**8}"
        return Settings(data_dir=tmp / "var", backend="opensearch", opensearch_url=url, index_prefix=prefix)
    return Settings(data_dir=tmp / "var", backend="embedded")


@pytest.fixture(scope="session", params=["embedded", "opensearch"])
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    engine = request.param
    tmp = tmp_path_factory.mktemp(f"api-{engine}")
    settings = _settings(engine, tmp, request)
    info = load_demo(settings, products=24, seed=5)
    app = create_app(settings)
    with TestClient(app) as client:
        ctx = app.state.ctx
        ctx.backend.refresh()
        assert app.state.warmup.wait(timeout=300), "the models did not warm up"
        keys = {
            role: create_key(ctx.records, role=role) for role in ("public", "viewer", "reviewer", "editor", "admin")
        }
        yield Catalog(client=client, settings=settings, info=dict(info), keys=keys)
        if engine == "opensearch":
            ctx.backend.drop()
