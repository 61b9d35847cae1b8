"""Usage rights on an asset: licence, credit, expiry and allowed channels, validated the
same way whether they come from a manifest row or an API call. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from discovery.domain import JSONObject, JSONValue

MAX_TEXT = 500


class InvalidRights(ValueError):
    """A rights value is refused; `field` names which."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


def parse_date(text: str) -> str:
    """An ISO date or date-time, normalised (`2030-01-31` -> `2030-01-31T00:00:00`)."""
    text = text.strip()
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return datetime.combine(date.fromisoformat(text[:10]), datetime.min.time()).isoformat()
    except ValueError as exc:
        raise InvalidRights("expires_at", f"not a date: {text!r}") from exc


def parse_channels(value: object) -> list[str]:
    """Channels from a list or from text separated by `|`, `;` or `,`."""
    items = value if isinstance(value, list) else re.split(r"[|;,]", str(value))
    return list(dict.fromkeys(str(c).strip() for c in items if str(c).strip()))


def parse_rights(values: Mapping[str, object]) -> JSONObject:
    """Rights from loose input; empty values are left out (no expiry = valid for ever;
    no channels = every channel). Unknown keys are refused."""
    unknown = set(values) - {"license", "credit", "expires_at", "channels"}
    if unknown:
        raise InvalidRights(sorted(unknown)[0], f"unknown rights fields: {sorted(unknown)}")
    rights: JSONObject = {}
    for key in ("license", "credit"):
        text = str(values.get(key) or "").strip()
        if len(text) > MAX_TEXT:
            raise InvalidRights(key, f"{key} is longer than {MAX_TEXT} characters")
        if text:
            rights[key] = text
    if expires := str(values.get("expires_at") or "").strip():
        rights["expires_at"] = parse_date(expires)
    channels = values.get("channels")
    if channels and (parsed := parse_channels(channels)):
        listed: list[JSONValue] = list(parsed)
        rights["channels"] = listed
    return rights
