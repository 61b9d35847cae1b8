"""`discovery demo`: what a newcomer reads after it. A second run prints the true counts (the
assets it finds already there included) and the same keys, which work for their roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery import cli
from discovery.api.auth import hash_key
from discovery.config import get_settings
from discovery.store.records import Records


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DISCOVERY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DISCOVERY_BACKEND", "embedded")
    monkeypatch.delenv("DISCOVERY_DATABASE_URL", raising=False)
    monkeypatch.delenv("DISCOVERY_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


def _run_demo() -> str:
    result = CliRunner().invoke(cli.app, ["demo", "--no-serve", "--products", "6", "--seed", "11"])
    assert result.exit_code == 0, result.output
    return result.output


def _summary(output: str) -> tuple[int, int, dict[str, str]]:
    counts = re.search(r"Discovery demo: (\d+) products, (\d+) assets", output)
    assert counts, output
    keys = dict(re.findall(r"^\s+(reviewer|editor|admin)\s+(dk_\S+)$", output, re.MULTILINE))
    return int(counts[1]), int(counts[2]), keys


@pytest.mark.slow
def test_second_demo_prints_true_counts_and_the_same_working_keys(demo_dir: Path) -> None:
    products, assets, keys = _summary(_run_demo())
    assert products > 0 and assets > 0
    assert set(keys) == {"reviewer", "editor", "admin"}
    again = _summary(_run_demo())
    assert again == (products, assets, keys), "a second run finds the same catalog and keeps the keys"
    records = Records.open(get_settings().records_url)
    try:
        assert records.count_assets() == assets and records.count_products() == products
        assert {role: records.role_for_key_hash(hash_key(key)) for role, key in keys.items()} == {
            role: role for role in keys
        }
    finally:
        records.close()
    assert (demo_dir / cli.DEMO_KEYS_FILE).stat().st_mode & 0o077 == 0, "the key file is the owner's only"
