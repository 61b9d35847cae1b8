"""Every setting is documented in the README, with its help line in the code."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from discovery.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _env_names(model: type[BaseModel], prefix: str) -> list[tuple[str, str | None]]:
    names: list[tuple[str, str | None]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_env_names(annotation, f"{prefix}{name.upper()}_"))
        else:
            names.append((f"{prefix}{name.upper()}", field.description))
    return names


def test_every_setting_has_help_and_is_in_the_readme() -> None:
    names = _env_names(Settings, "DISCOVERY_")
    assert len(names) > 20
    for env, help_text in names:
        assert help_text, f"{env} has no description"
        assert f"`{env}`" in README, f"{env} is missing from the README's Configure table"


def test_group_settings_take_one_underscore(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISCOVERY_CLIP_MODEL", "ViT-B-32")
    monkeypatch.setenv("DISCOVERY_CLIP_BATCH_SIZE", "7")
    monkeypatch.setenv("DISCOVERY_SEARCH_RRF_K", "11")
    settings = Settings()
    assert settings.clip.model == "ViT-B-32"
    assert settings.clip.batch_size == 7
    assert settings.search.rrf_k == 11


def test_placeholder_admin_key_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest
    from pydantic import ValidationError

    monkeypatch.setenv("DISCOVERY_ADMIN_KEY", "changeme")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()
