"""Declarative mappings: what a YAML mapping may say, and where mappings are stored.

A mapping is looked up by name: first `<data_dir>/mappings/<name>.yaml` (the user's),
then the ones shipped in `indexer/mappings/`. Unknown keys are refused, so a typo in a
mapping fails at load time with the key named, not silently during an import.

Targets (`to:`) are canonical fields (`sku`, `parent_sku`, `name`, `description`,
`brand`, `categories`, `price`, `currency`, `status`, `channels`, `image_refs`),
`attributes.<name>`, `attributes` (with `name_from` or `pairs`), `locales.<locale>.<field>`,
`children` (the cell lists this product's variants: `sku=A,size=S|sku=B,size=M` as Magento
writes it, or `A|B`), or `ignore`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from discovery.errors import DiscoveryError, NotFound
from discovery.store.index.documents import FACET_ATTRIBUTES

SHIPPED = Path(__file__).resolve().parent.parent / "mappings"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CANONICAL_TARGETS = (
    "sku",
    "parent_sku",
    "name",
    "description",
    "brand",
    "categories",
    "price",
    "currency",
    "status",
    "channels",
    "image_refs",
)
AttributeType = Literal["string", "number", "boolean", "date", "enum", "multi-enum"]


class MappingError(DiscoveryError):
    """A mapping that cannot be used; `field` names the offending key."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Spec):
    """How one source column becomes part of a product."""

    to: str = Field(description="target: a canonical field, attributes.<name>, locales.<locale>.<field> or ignore")
    split: str | None = Field(None, description="separator of several values in one cell")
    delimiter: str | None = Field(None, description="categories: path separator (default `>` or `/`)")
    drop_root: bool = Field(False, description="categories: drop the first path segment")
    unit: str | None = Field(None, description="unit of bare numbers in this column")
    unit_from: str | None = Field(None, description="column holding the unit of this one")
    values: dict[str, str] = Field(default_factory=dict, description="source value -> value (case-insensitive)")
    skip: list[str] = Field(default_factory=list, description="values that mean 'no value'")
    name_from: str | None = Field(None, description="to: attributes -- the attribute's name is in this column")
    pairs: bool = Field(False, description="to: attributes -- cell holds key=value,key=value")
    pair_separator: str = Field(",", description="separator between key=value pairs")
    parent: bool = Field(False, description="group mode: the value belongs to the group's parent product")


class AttributeSpec(_Spec):
    """The type of an attribute, whichever column it comes from."""

    type: AttributeType = "string"
    options: list[str] = Field(default_factory=list, description="enum/multi-enum: allowed values")
    aliases: dict[str, str] = Field(default_factory=dict, description="enum: other spellings -> option")
    unit: str | None = Field(None, description="number: convert to this unit (values may carry their own)")
    split: str | None = Field(None, description="multi-valued: separator (multi-enum default `|`)")
    format: str | None = Field(None, description="date: strptime format; ISO-8601 when absent")


class RuleSpec(_Spec):
    """A validation rule; a product breaking it is rejected with the rule's reason."""

    field: str
    required: bool = False
    type: AttributeType | None = None
    options: list[str] | None = None
    min: float | None = None
    max: float | None = None
    regex: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    message: str | None = Field(None, description="reason shown instead of the generated one")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return value


class GroupSpec(_Spec):
    """Rows sharing `key` are the variants of one parent product made from them (Shopify)."""

    key: str = Field(description="column whose value is the parent's SKU")
    sticky: list[str] = Field(default_factory=list, description="columns whose value, when empty, is the group's")


class TranslationSpec(_Spec):
    """Rows with a value in `column` translate the product with their SKU (Magento store views)."""

    column: str
    locales: dict[str, str] = Field(description="column value -> locale, e.g. fr: fr_FR")


class MappingSpec(_Spec):
    name: str
    description: str = ""
    delimiter: str | None = Field(None, description="CSV delimiter; sniffed when absent")
    sheet: str | None = Field(None, description="XLSX sheet; the first when absent")
    columns: dict[str, str | ColumnSpec] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict, description="target -> value for every row")
    defaults: dict[str, str] = Field(default_factory=dict, description="target -> value when the row has none")
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list)
    unmapped: Literal["attribute", "ignore"] = Field("attribute", description="columns not named anywhere")
    default_locale: str | None = Field(None, description="locale columns of this locale also fill the plain field")
    locale_scope: str | None = Field(None, description="Akeneo: of `x-<locale>-<scope>` columns, read this scope")
    group: GroupSpec | None = None
    translations: TranslationSpec | None = None
    value_separator: str | None = Field(
        None, description="separator of several values in one attribute cell (multi-select: `|` Magento, `,` Akeneo)"
    )
    multi_valued: list[str] = Field(
        default_factory=lambda: list(FACET_ATTRIBUTES),
        description="string attributes `value_separator` splits (each part its own facet value); `*` for all",
    )

    def value_split(self, attribute: str) -> str | None:
        """The separator that splits cells of `attribute`, if it is multi-valued here."""
        if self.value_separator and ("*" in self.multi_valued or attribute in self.multi_valued):
            return self.value_separator
        return None

    @field_validator("columns")
    @classmethod
    def _targets(cls, value: dict[str, str | ColumnSpec]) -> dict[str, str | ColumnSpec]:
        for column, spec in value.items():
            target = spec if isinstance(spec, str) else spec.to
            if not valid_target(target):
                raise ValueError(f"column {column!r}: unknown target {target!r}")
        return value

    def column(self, name: str) -> ColumnSpec | None:
        spec = self.columns.get(name)
        if spec is None or isinstance(spec, ColumnSpec):
            return spec
        return ColumnSpec(to=spec)


def valid_target(target: str) -> bool:
    if target in CANONICAL_TARGETS or target in ("ignore", "attributes", "children"):
        return True
    if target.startswith("attributes.") and len(target) > len("attributes."):
        return True
    parts = target.split(".")
    return len(parts) == 3 and parts[0] == "locales" and all(parts[1:])


def parse_mapping(text: str, *, name: str | None = None) -> MappingSpec:
    """A mapping from YAML text; `MappingError` says what is wrong and where."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError("mapping must be a YAML mapping (key: value)")
    if name is not None:
        data.setdefault("name", name)
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MappingError(f"mapping {data.get('name', name)!r}: {where}: {first['msg']}", field=where) from None


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise MappingError(f"invalid mapping name {name!r} (letters, digits, _ . -)", field="mapping")


def mapping_path(name: str, *, data_dir: Path | None = None) -> Path:
    """Where the mapping called `name` lives (the user's shadows the shipped one)."""
    _check_name(name)
    if data_dir is not None:
        user = data_dir / "mappings" / f"{name}.yaml"
        if user.is_file():
            return user
    shipped = SHIPPED / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    raise NotFound(f"no mapping named {name!r}; known: {', '.join(list_mappings(data_dir=data_dir))}", field="mapping")


def load_mapping(name: str, *, data_dir: Path | None = None) -> MappingSpec:
    path = mapping_path(name, data_dir=data_dir)
    return parse_mapping(path.read_text(encoding="utf-8"), name=name)


def save_mapping(name: str, text: str, *, data_dir: Path) -> MappingSpec:
    """Validate and store a user mapping under `<data_dir>/mappings/`."""
    _check_name(name)
    spec = parse_mapping(text, name=name)
    folder = data_dir / "mappings"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.yaml.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(folder / f"{name}.yaml")
    return spec


def list_mappings(*, data_dir: Path | None = None) -> list[str]:
    names = {p.stem for p in SHIPPED.glob("*.yaml")}
    if data_dir is not None and (data_dir / "mappings").is_dir():
        names |= {p.stem for p in (data_dir / "mappings").glob("*.yaml")}
    return sorted(names)
