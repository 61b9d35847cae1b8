"""DISCOVERY_SEARCH_SYNONYMS_PATH: read when the service opens, a malformed file refused there."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.config import SearchSettings, Settings, TextSettings
from discovery.services.context import Context
from discovery.store.index.synonyms import SynonymsError


def _settings(tmp_path: Path, synonyms: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var", text=TextSettings(enabled=False), search=SearchSettings(synonyms_path=str(synonyms))
    )


def test_the_service_reads_the_synonyms_file_beside_the_taxonomy(tmp_path: Path) -> None:
    file = tmp_path / "synonyms.txt"
    file.write_text("windbreaker => anorak\n", encoding="utf-8")
    ctx = Context.open(_settings(tmp_path, file))
    try:
        assert ctx.synonyms.groups(["windbreaker"])[0].alternatives == (("anorak",),)
        assert ctx.synonyms.groups(["tee"])  # the taxonomy's
    finally:
        ctx.close()


def test_a_malformed_synonyms_file_stops_the_start_naming_its_line(tmp_path: Path) -> None:
    file = tmp_path / "synonyms.txt"
    file.write_text("tee, t-shirt\nlonely\n", encoding="utf-8")
    with pytest.raises(SynonymsError, match=r"synonyms\.txt line 2"):
        Context.open(_settings(tmp_path, file))
    assert not (tmp_path / "var").exists()  # nothing was opened
