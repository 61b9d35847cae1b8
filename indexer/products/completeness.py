"""Per-channel, per-locale completeness from channel YAML. Pure: no I/O but loading YAML.

A channel says which fields it needs, in which locales, and how many images of which kind.
`completeness(product, channels)` answers, per channel, the share of those checks the
product passes, what is missing, and whether it is ready; the result is stored on the
product (`Product.completeness`) and becomes the `ready_for` facet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from discovery.domain import Asset, JSONObject, Product
from discovery.errors import DiscoveryError
from indexer.products.mapping_spec import RuleSpec
from indexer.products.validate import field_value

DEFAULT_CHANNELS = Path(__file__).resolve().parents[2] / "discovery" / "defaults" / "channels.yaml"


class ChannelError(DiscoveryError):
    """A channel file that cannot be used."""


class ImageRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = Field(0, ge=0, description="at least this many fitting images")
    formats: list[str] = Field(default_factory=list, description="file extensions or media types; any when empty")
    background: str | None = Field(None, description="`white`, `transparent`...: needs analysed assets")
    min_width: int | None = Field(None, description="pixels; needs analysed assets")
    min_height: int | None = Field(None, description="pixels; needs analysed assets")
    rendition: str | None = Field(
        None, description="cut-out preset whose fit or accepted cut-out meets the background rule"
    )

    def describe(self) -> str:
        parts = [f"{self.min} image{'s' if self.min != 1 else ''}"]
        if self.formats:
            parts.append("/".join(self.formats))
        if self.background:
            parts.append(f"{self.background} background")
        if self.min_width or self.min_height:
            parts.append(f"at least {self.min_width or 0}x{self.min_height or 0}")
        return ", ".join(parts)


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = ""
    required: list[str] = Field(default_factory=list, description="field paths that must have a value")
    locales: list[str] = Field(default_factory=list, description="locales the channel publishes")
    localized: list[str] = Field(
        default_factory=lambda: ["name", "description"], description="fields needed in each locale"
    )
    default_locale: str = Field("en_US", description="the locale plain (unsuffixed) fields are written in")
    images: ImageRule = Field(default_factory=ImageRule)
    statuses: list[str] = Field(
        default_factory=list, description="statuses that may be ready; any but withdrawn when empty"
    )
    rules: list[RuleSpec] = Field(default_factory=list, description="validation for products assigned to the channel")


Channels = Mapping[str, ChannelSpec]


def parse_channels(text: str) -> dict[str, ChannelSpec]:
    """Channels from YAML (`channels: {name: rules}`); `ChannelError` says what and where."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ChannelError(f"channel file is not valid YAML: {exc}") from None
    raw = data.get("channels", data) if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        raise ChannelError("channel file must map channel names to their rules")
    channels: dict[str, ChannelSpec] = {}
    for name, spec in raw.items():
        try:
            channels[str(name)] = ChannelSpec.model_validate(spec or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            raise ChannelError(f"channels: {where}: {first['msg']}", field=where) from None
    return channels


def load_channels(path: Path | None = None, *, data_dir: Path | None = None) -> dict[str, ChannelSpec]:
    """Channels from `path`, else `<data_dir>/channels.yaml` when it exists, else the defaults."""
    if path is None and data_dir is not None and (data_dir / "channels.yaml").is_file():
        path = data_dir / "channels.yaml"
    return parse_channels((path or DEFAULT_CHANNELS).read_text(encoding="utf-8"))


def channels_digest(channels: Channels) -> str:
    """Changes whenever any rule that affects completeness changes."""
    raw = json.dumps({k: v.model_dump() for k, v in sorted(channels.items())}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _filled(value: object) -> bool:
    return not (value is None or value == "" or value == [] or value == {})


def _image_fits(rule: ImageRule, *, name: str, asset: Asset | None) -> bool:
    if rule.formats:
        ext = name.rsplit(".", 1)[-1].casefold() if "." in name else ""
        kinds = {ext, "jpeg" if ext == "jpg" else ext}
        if asset is not None:
            kinds.update({asset.media_type, asset.media_type.split("/")[-1]})
        if not kinds & {f.casefold() for f in rule.formats}:
            return False
    needs_analysis = rule.background or rule.min_width or rule.min_height
    if needs_analysis and asset is None:
        return False  # a file name alone cannot show its background or size
    if asset is not None:
        if rule.background and asset.background != rule.background and not _cut_out_fits(rule, asset):
            return False
        if rule.min_width and (asset.width or 0) < rule.min_width:
            return False
        if rule.min_height and (asset.height or 0) < rule.min_height:
            return False
    return True


def _cut_out_fits(rule: ImageRule, asset: Asset) -> bool:
    """A white background generated by the channel's cut-out preset counts when the
    cut-out was confident or a reviewer accepted it."""
    from indexer.assets.renditions import cutout_state

    if rule.rendition is None or rule.background != "white":
        return False
    state = cutout_state(asset, rule.rendition)
    return state is not None and state[0] in ("fit", "accepted")


def count_fitting_images(product: Product, rule: ImageRule, assets: Mapping[str, Asset] | None) -> int:
    """Linked assets when known (their analysis decides), else the file names the source gave."""
    linked = [assets[i] for i in product.asset_ids if assets and i in assets]
    if linked:
        return sum(_image_fits(rule, name=a.filename, asset=a) for a in linked if a.media_type.startswith("image/"))
    return sum(_image_fits(rule, name=ref, asset=None) for ref in product.image_refs)


def channel_completeness(product: Product, spec: ChannelSpec, assets: Mapping[str, Asset] | None = None) -> JSONObject:
    """`{"ratio", "missing", "ready", "locales": {loc: {"ratio", "missing"}}, "images": {...}}`."""
    checks: list[tuple[str, bool, str | None]] = [(p, _filled(field_value(product, p)), None) for p in spec.required]
    for locale in spec.locales:
        texts = product.locales.get(locale, {})
        for name in spec.localized:
            plain = locale == spec.default_locale and _filled(field_value(product, name))
            checks.append((f"locales.{locale}.{name}", plain or _filled(texts.get(name)), locale))
    have = 0
    if spec.images.min:
        have = count_fitting_images(product, spec.images, assets)
        checks.append(("images", have >= spec.images.min, None))
    allowed = spec.statuses or None
    if product.status == "withdrawn" or (allowed and product.status not in allowed):
        checks.append(("status", False, None))
    missing = [name for name, ok, _ in checks if not ok]
    passed = len(checks) - len(missing)
    per_locale: JSONObject = {}
    for locale in spec.locales:
        mine = [(n, ok) for n, ok, loc in checks if loc == locale]
        lost = [n for n, ok in mine if not ok]
        per_locale[locale] = {"ratio": _ratio(len(mine) - len(lost), len(mine)), "missing": lost}  # type: ignore[dict-item]
    result: JSONObject = {
        "ratio": _ratio(passed, len(checks)),
        "missing": missing,  # type: ignore[dict-item]
        "ready": not missing,
        "locales": per_locale,
    }
    if spec.images.min:
        result["images"] = {"have": have, "need": spec.images.min, "rule": spec.images.describe()}
    return result


def _ratio(passed: int, total: int) -> float:
    return round(passed / total, 4) if total else 1.0


def completeness(product: Product, channels: Channels, assets: Mapping[str, Asset] | None = None) -> JSONObject:
    """Completeness of one product for every channel."""
    return {name: channel_completeness(product, spec, assets) for name, spec in channels.items()}
