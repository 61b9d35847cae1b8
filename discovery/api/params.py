"""Request parameters named by a prefix (`filter.<field>`, `range.<field>`), read the same
way from a query string and from a form."""

from __future__ import annotations

from collections.abc import Iterable


def prefixed(items: Iterable[tuple[str, object]], prefix: str) -> dict[str, tuple[str, ...]]:
    """The string values of every `<prefix><name>` item by name, in order (repeats add)."""
    found: dict[str, list[str]] = {}
    for key, value in items:
        if key.startswith(prefix) and isinstance(value, str):
            found.setdefault(key.removeprefix(prefix), []).append(value)
    return {name: tuple(values) for name, values in found.items()}
