"""Text cleanups shared by product and asset intake."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls and DEL, not tab/newline/CR


def drop_controls(text: str) -> str:
    """The text without C0 control characters or DEL (tab, newline and CR stay): catalog
    text and metadata never mean them, and PostgreSQL refuses a NUL in a text column."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text
