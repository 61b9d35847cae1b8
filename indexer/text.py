"""Text cleanups shared by product and asset intake."""

from __future__ import annotations

import html
import html.entities
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls and DEL, not tab/newline/CR


def drop_controls(text: str) -> str:
    """The text without C0 control characters or DEL (tab, newline and CR stay): catalog
    text and metadata never mean them, and PostgreSQL refuses a NUL in a text column."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


# A named (`&trade;`), decimal (`&#174;`) or hex (`&#xAE;`) character reference, closed by
# `;`. Only closed ones: `AT&T` or `R&D Lab` are text, never entities.
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def decode_entities(text: str) -> str:
    """The text with HTML character references decoded (`Backpack&trade;` -> `Backpack™`):
    exports from web shops (Magento) escape names and titles as they would for a page,
    and the references would show in results and facets as written. Unknown names stay."""
    if "&" not in text:
        return text
    return _ENTITY.sub(_decoded, text)


def _decoded(match: re.Match[str]) -> str:
    reference = match.group(0)
    if reference[1] != "#" and reference[1:] not in html.entities.html5:
        return reference  # `&notanentity;` is not `&not;` followed by text
    return html.unescape(reference)
