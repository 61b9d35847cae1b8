"""Validation rules: required, type, allowed options, range, regex, length.

Rules come from the mapping (every product) and from channel files (products assigned to
that channel). A product breaking one is rejected with the field and the rule's reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from discovery.domain import JSONValue, Product
from indexer.products.mapping_spec import RuleSpec
from indexer.products.normalize import parse_date

# Always on: the records database keys products by SKU in a 255-character column.
BUILTIN_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(field="sku", required=True, max_length=255),
    RuleSpec(field="parent_sku", max_length=255),
)
Check = Callable[[Product], tuple[str, str] | None]


def field_value(product: Product, path: str) -> JSONValue:
    """The value at `path`: a canonical field, `attributes.<name>` or `locales.<loc>.<field>`."""
    if path.startswith("attributes."):
        return product.attributes.get(path[11:])
    if path.startswith("locales."):
        _, locale, name = path.split(".", 2)
        return product.locales.get(locale, {}).get(name)
    return getattr(product, path, None)  # type: ignore[no-any-return,unused-ignore]


def _scalars(value: JSONValue) -> list[JSONValue]:
    if isinstance(value, dict) and "value" in value:
        return [value["value"]]
    if isinstance(value, list):
        return list(value)
    return [value]


def _type_ok(kind: str, value: JSONValue) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        try:
            parse_date(str(value))
        except ValueError:
            return False
        return True
    return isinstance(value, str)


ValueCheck = Callable[[JSONValue, list[JSONValue]], str | None]


def _type_check(kind: str) -> ValueCheck:
    def check(value: JSONValue, items: list[JSONValue]) -> str | None:
        bad = [v for v in items if not _type_ok(kind, v)]
        return f"is not a {kind}: {bad[0]!r}" if bad else None

    return check


def _options_check(options: list[str]) -> ValueCheck:
    allowed = {o.casefold() for o in options}
    shown = ", ".join(options)

    def check(value: JSONValue, items: list[JSONValue]) -> str | None:
        bad = [v for v in items if str(v).casefold() not in allowed]
        return f"{bad[0]!r} is not one of {shown}" if bad else None

    return check


def _range_check(low: float | None, high: float | None) -> ValueCheck:
    def check(value: JSONValue, items: list[JSONValue]) -> str | None:
        for v in items:
            if isinstance(v, int | float) and not isinstance(v, bool):
                if low is not None and v < low:
                    return f"{v} is below the minimum {low:g}"
                if high is not None and v > high:
                    return f"{v} is above the maximum {high:g}"
        return None

    return check


def _regex_check(regex: str) -> ValueCheck:
    pattern = re.compile(regex)

    def check(value: JSONValue, items: list[JSONValue]) -> str | None:
        bad = [v for v in items if isinstance(v, str) and not pattern.fullmatch(v)]
        return f"{bad[0]!r} does not match {pattern.pattern}" if bad else None

    return check


def _length_check(shortest: int | None, longest: int | None) -> ValueCheck:
    def check(value: JSONValue, items: list[JSONValue]) -> str | None:
        size = len(value) if isinstance(value, list | str) else None
        if size is None:
            return None
        if shortest is not None and size < shortest:
            return f"is {size} long, shorter than {shortest}"
        if longest is not None and size > longest:
            return f"is {size} long, longer than {longest}"
        return None

    return check


def _value_checks(rule: RuleSpec) -> list[ValueCheck]:
    """One small check per aspect the rule sets, so a rule costs only what it asks for."""
    checks: list[ValueCheck] = []
    if rule.type and rule.type not in ("enum", "multi-enum"):
        checks.append(_type_check(rule.type))
    if rule.options is not None:
        checks.append(_options_check(rule.options))
    if rule.min is not None or rule.max is not None:
        checks.append(_range_check(rule.min, rule.max))
    if rule.regex:
        checks.append(_regex_check(rule.regex))
    if rule.min_length is not None or rule.max_length is not None:
        checks.append(_length_check(rule.min_length, rule.max_length))
    return checks


def _getter(path: str) -> Callable[[Product], JSONValue]:
    if path.startswith(("attributes.", "locales.")):
        return lambda product: field_value(product, path)
    if path not in Product.__dataclass_fields__:
        return lambda product: None
    return lambda product: getattr(product, path)


def compile_rule(rule: RuleSpec, *, prefix: str = "") -> Check:
    get = _getter(rule.field)
    checks = _value_checks(rule)
    required, field = rule.required, rule.field

    def found(problem: str) -> tuple[str, str]:
        return field, f"{prefix}{rule.message or f'{field} {problem}'}"

    def check(product: Product) -> tuple[str, str] | None:
        value = get(product)
        if value is None or value == "" or value == [] or value == {}:
            return found("is required") if required else None
        if not checks:
            return None
        items = _scalars(value)
        for one in checks:
            problem = one(value, items)
            if problem is not None:
                return found(problem)
        return None

    return check


class Validator:
    """All rules that apply to the products of one import.

    A variant may inherit what it lacks from its parent, so `check(..., relaxed=True)`
    (a variant's row as read) does not yet hold its empty fields against `required`, nor
    apply channel rules (its channels may be inherited); the pipeline checks it again,
    fully, once it has inherited."""

    def __init__(
        self, rules: Sequence[RuleSpec] = (), channel_rules: Mapping[str, Sequence[RuleSpec]] | None = None
    ) -> None:
        all_rules = (*BUILTIN_RULES, *rules)
        self._checks = [compile_rule(r) for r in all_rules]
        self._relaxed = [
            compile_rule(r.model_copy(update={"required": False}) if _deferrable(r) else r) for r in all_rules
        ]
        self._channel_checks = {
            channel: [compile_rule(r, prefix=f"channel {channel}: ") for r in rules]
            for channel, rules in (channel_rules or {}).items()
            if rules
        }

    def check(self, product: Product, *, relaxed: bool = False) -> tuple[str, str] | None:
        """(field, reason) of the first broken rule, or None."""
        for check in self._relaxed if relaxed else self._checks:
            found = check(product)
            if found:
                return found
        if product.parent_sku and product.parent_sku == product.sku:
            return "parent_sku", "parent_sku is the product's own SKU"
        if relaxed:
            return None
        for channel in product.channels:
            for check in self._channel_checks.get(channel, ()):
                found = check(product)
                if found:
                    return found
        return None


def _deferrable(rule: RuleSpec) -> bool:
    return rule.required and rule.field not in ("sku", "parent_sku")
