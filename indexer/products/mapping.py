"""Apply a declarative mapping to rows: source columns -> a normalised `Product`.

A mapping is compiled once per header into a list of steps (one per mapped column), so the
per-row work is a loop of small functions. A file whose headers are canonical needs no
mapping: `Mapper(None)` maps canonical names to their fields, `<field>-<locale>` columns to
`Product.locales`, image columns to `image_refs`, and every other column to a string
attribute named after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from discovery.domain import JSONValue, Product
from indexer.products import fields
from indexer.products.fields import Draft, Setter
from indexer.products.mapping_spec import CANONICAL_TARGETS, ColumnSpec, MappingSpec
from indexer.products.normalize import attribute_name, clean_text
from indexer.products.report import Reject
from indexer.products.typed import as_text
from indexer.products.variants import merge_parent

IMAGE_COLUMNS = frozenset(
    {
        "image",
        "images",
        "image_url",
        "image_urls",
        "image_refs",
        "picture",
        "pictures",
        "photo",
        "photos",
        "main_image",
        "additional_images",
        "image src",
        "base_image",
    }
)
_IMAGE_N = re.compile(r"^image[_ ]?\d+$")
_LOCALE_COLUMN = re.compile(r"^(?P<base>.+?)-(?P<locale>[a-z]{2,3}_[A-Z]{2})(?:-(?P<scope>[A-Za-z0-9_]+))?$")


@dataclass(slots=True)
class MappedRow:
    """One mapped row. `product` is None for a row that only adds to its group's parent
    (a Shopify image row). `translation` names the locale of a translation row, whose
    `texts` go into the product with `product.sku`."""

    line: int
    product: Product | None
    group: str | None = None
    parent: Product | None = None
    children: list[str] = field(default_factory=list)
    translation: str | None = None
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    steps: list[tuple[str, Setter]]
    columns: dict[str, str]  # target path -> source column, for naming fields in rejects
    sku_column: str | None


class Mapper:
    """Maps rows of one file; holds the state of the current Shopify-style group."""

    def __init__(self, spec: MappingSpec | None = None) -> None:
        self.spec = spec or MappingSpec(name="canonical")
        self._plans: dict[tuple[str, ...], Plan] = {}
        self._constants = [(t, fields.setter(t, ColumnSpec(to=t), self.spec)) for t in self.spec.constants]
        self._defaults = [(t, fields.setter(t, ColumnSpec(to=t), self.spec)) for t in self.spec.defaults]
        group = self.spec.group
        self._consumed = {c for c in (group.key if group else None, *(group.sticky if group else ())) if c}
        if self.spec.translations:
            self._consumed.add(self.spec.translations.column)
        # (column, its values meaning none) of the columns naming a variant's options
        self._option_columns: list[tuple[str, set[str]]] = []
        for name in self.spec.columns:
            col = self.spec.column(name)
            if col is not None:
                self._consumed.update(c for c in (col.name_from, col.unit_from) if c)
                if col.name_from:
                    self._option_columns.append((name, {v.casefold() for v in col.skip}))
        self._group_key: str | None = None
        self._sticky: dict[str, JSONValue] = {}
        self._last: Plan | None = None

    def plan(self, columns: tuple[str, ...]) -> Plan:
        plan = self._plans.get(columns)
        if plan is None:
            if len(self._plans) > 256:  # JSON rows with ever-changing keys
                self._plans.clear()
            plan = self._plans[columns] = self._compile(columns)
        return plan

    def _compile(self, columns: tuple[str, ...]) -> Plan:
        steps: list[tuple[str, Setter]] = []
        targets: dict[str, str] = {}
        sku_column = None
        for column in columns:
            col = self.resolve(column)
            if col is None or col.to == "ignore":
                continue
            set_value = fields.setter(col.to, col, self.spec)
            steps.append((column, _step(set_value, col, grouped=self.spec.group is not None)))
            targets.setdefault(col.to, column)
            if col.to == "sku":
                sku_column = column
        return Plan(steps, targets, sku_column)

    def resolve(self, column: str) -> ColumnSpec | None:
        """What `column` maps to under this mapping, or None to leave it out."""
        explicit = self.spec.column(column)
        if explicit is not None:
            return explicit
        if column in self._consumed:
            return None
        key = column.casefold()
        if key in CANONICAL_TARGETS:
            return ColumnSpec(to=key)
        if key in IMAGE_COLUMNS or _IMAGE_N.match(key):
            return ColumnSpec(to="image_refs")
        if key.startswith("attributes.") and len(key) > 11:
            return ColumnSpec(to=f"attributes.{attribute_name(column[11:])}")
        match = _LOCALE_COLUMN.match(column)
        if match:
            scope = match.group("scope")
            if scope and self.spec.locale_scope and scope != self.spec.locale_scope:
                return None
            base = match.group("base")
            name = base.casefold() if base.casefold() in ("name", "description") else attribute_name(base)
            return ColumnSpec(to=f"locales.{match.group('locale')}.{name}")
        if self.spec.unmapped == "ignore":
            return None
        return ColumnSpec(to=f"attributes.{attribute_name(column)}")

    def survey(self, row: dict[str, JSONValue]) -> tuple[str | None, str | None]:
        """(the row's SKU, its group key) without mapping the rest; a translation row has
        neither (it makes no product of its own)."""
        spec = self.spec
        if spec.translations is not None and _text(row.get(spec.translations.column)):
            return None, None
        key = _text(row.get(spec.group.key)) or None if spec.group is not None else None
        column = self.plan(tuple(row)).sku_column
        return (_text(row.get(column)) or None) if column else None, key

    def column_for(self, path: str) -> str:
        """The source column behind a field of the last mapped row (for naming rejects)."""
        return self._last.columns.get(path, path) if self._last else path

    def map(self, line: int, row: dict[str, JSONValue]) -> MappedRow | Reject:
        """The product a row describes, or a reject naming the column at fault."""
        spec = self.spec
        group_key = None
        if spec.group is not None:
            group_key = _text(row.get(spec.group.key))
            row = self._apply_sticky(group_key, row)
        plan = self._last = self.plan(tuple(row))
        draft = Draft(row)
        product = draft.product
        for column, set_value in plan.steps:
            value = row[column]
            if value.__class__ is str:
                if not value or value.isspace():
                    continue
            elif value is None:
                continue
            try:
                set_value(value, product, draft)
            except ValueError as exc:
                return Reject(line=line, field=column, reason=str(exc), sku=_sku(row, plan))
        try:
            self._finish(draft)
        except ValueError as exc:
            return Reject(line=line, field=_column(plan, exc), reason=str(exc), sku=_sku(row, plan))
        return self._result(line, draft, group_key, row, plan)

    def _option_values(self, row: dict[str, JSONValue]) -> list[str]:
        """The row's values of the columns that name a variant's options (`name_from`),
        leaving out the values that mean none (Shopify's `Default Title`)."""
        out: list[str] = []
        for column, col in self._option_columns:
            value = _text(row.get(column))
            if value and value.casefold() not in col:
                out.append(value)
        return out

    def _apply_sticky(self, key: str | None, row: dict[str, JSONValue]) -> dict[str, JSONValue]:
        sticky = self.spec.group.sticky if self.spec.group else []
        if key != self._group_key:
            self._group_key, self._sticky = key, {}
        if not sticky or not key:
            return row
        row = dict(row)
        for column in sticky:
            if _text(row.get(column)):
                self._sticky[column] = row[column]
            elif column in self._sticky:
                row[column] = self._sticky[column]
        return row

    def _finish(self, draft: Draft) -> None:
        for product in (draft.product, draft.parent):
            if product is None:
                continue
            for target, set_value in self._constants:
                set_value(self.spec.constants[target], product, draft)
            for target, set_value in self._defaults:
                if fields.is_empty(product, target):
                    set_value(self.spec.defaults[target], product, draft)
            if self.spec.default_locale:
                fields.fill_from_locale(product, self.spec.default_locale)
        fields.settle_currency(draft)

    def _result(
        self, line: int, draft: Draft, group_key: str | None, row: dict[str, JSONValue], plan: Plan
    ) -> MappedRow | Reject:
        product = draft.product
        spec = self.spec
        if spec.translations is not None:
            code = _text(row.get(spec.translations.column))
            if code:
                locale = spec.translations.locales.get(code)
                if locale is None:
                    return Reject(
                        line=line,
                        field=spec.translations.column,
                        sku=product.sku or None,
                        reason=f"unknown store view {code!r} (map it under translations.locales)",
                    )
                if not product.sku:
                    return Reject(line=line, field=plan.sku_column or "sku", reason="missing SKU")
                return MappedRow(line, product, translation=locale, texts=fields.translation_texts(product))
        if group_key:
            parent = draft.parent or Product(sku=group_key)
            parent.sku = group_key
            if not product.sku and draft.own:
                # Shopify names a product by its handle and lets a variant go without a SKU
                # (the public sample exports have none at all): the variant is named by the
                # handle and its option values; with none (one "Default Title" variant) the
                # row's own values belong to the product itself.
                options = self._option_values(row)
                if not options:
                    merge_parent(parent, product)
                    return MappedRow(line, None, group=group_key, parent=parent, children=draft.children)
                product.sku = variant_sku(group_key, options)
            if not product.sku:
                return MappedRow(line, None, group=group_key, parent=parent, children=draft.children)
            product.parent_sku = group_key
            return MappedRow(line, product, group=group_key, parent=parent, children=draft.children)
        if not product.sku:
            return Reject(line=line, field=plan.sku_column or "sku", reason="missing SKU")
        return MappedRow(line, product, children=draft.children)


def variant_sku(group_key: str, options: list[str]) -> str:
    """The SKU of a grouped variant that has none of its own: the group's key and its
    option values (`classic-varsity-top` + `Small` -> `classic-varsity-top-small`). Pure."""
    words = [re.sub(r"[^\w]+", "-", value.casefold()).strip("-") for value in options]
    return "-".join([group_key, *(w for w in words if w)])


def _step(set_value: Setter, col: ColumnSpec, *, grouped: bool) -> Setter:
    """The column's setter, wrapped only for what this column needs (value maps, values
    meaning "none", writing to the group's parent, counting the row's own values)."""
    values = {k.casefold(): v for k, v in col.values.items()}
    skip = {s.casefold() for s in col.skip}
    if values or skip:
        inner = set_value

        def set_value(value: JSONValue, product: Product, draft: Draft) -> None:
            key = as_text(value).strip().casefold() if not isinstance(value, list | dict) else ""
            if key not in skip:
                inner(values.get(key, value), product, draft)

    if col.parent:
        to_product = set_value

        def to_parent(value: JSONValue, product: Product, draft: Draft) -> None:
            to_product(value, draft.parent_product(), draft)

        return to_parent
    if grouped:
        counted = set_value

        def own(value: JSONValue, product: Product, draft: Draft) -> None:
            draft.own += 1
            counted(value, product, draft)

        return own
    return set_value


def _text(value: JSONValue) -> str:
    if value is None or isinstance(value, list | dict):
        return ""
    return clean_text(as_text(value))


def _sku(row: dict[str, JSONValue], plan: Plan) -> str | None:
    if plan.sku_column is None:
        return None
    return _text(row.get(plan.sku_column)) or None


def _column(plan: Plan, exc: ValueError) -> str | None:
    target = getattr(exc, "target", None)
    return plan.columns.get(target, target) if target else None
