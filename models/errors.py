"""Errors the models package raises, each carrying what a caller needs to act on it."""

from __future__ import annotations


class ModelError(Exception):
    """Base of every error raised by the models package."""


class ModelUnavailable(ModelError):
    """A configured model cannot be loaded here; the message names the setting to change."""

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class TaxonomyError(ModelError):
    """The taxonomy file is invalid; `key` is the dotted path of the offending entry."""

    def __init__(self, message: str, *, key: str, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {message}")
        self.key = key
        self.source = source
