"""Typed attribute values: string, number (with unit), boolean, date, enum, multi-enum.

`converter(spec, ...)` compiles an attribute's type once into a function applied to every
cell, which returns the stored JSON value or raises `ValueError` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from discovery.domain import JSONValue
from indexer.products.mapping_spec import AttributeSpec
from indexer.products.normalize import clean_text, parse_bool, parse_date, split_values
from indexer.products.units import UnitError, parse_number, quantity

Converter = Callable[[JSONValue, str | None], JSONValue]
STRING = AttributeSpec()


def as_text(value: JSONValue) -> str:
    """A scalar cell as text (JSON numbers and booleans as their JSON spelling)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict) and "value" in value:
        unit = value.get("unit")
        return f"{as_text(value['value'])} {unit}" if unit else as_text(value["value"])
    raise ValueError(f"expected a single value, got {type(value).__name__}")


def as_list(value: JSONValue, separator: str | None) -> list[str]:
    """Several values: a JSON list, or a cell split on `separator`."""
    if isinstance(value, list):
        return [v for v in (clean_text(as_text(item)) for item in value if item is not None) if v]
    return split_values(as_text(value), separator or "")


def enum_lookup(name: str, spec: AttributeSpec) -> Callable[[str], str]:
    """Case-folded match of a value (or an alias) to the option as the mapping spells it."""
    table = {clean_text(o).casefold(): o for o in spec.options}
    table.update({clean_text(a).casefold(): o for a, o in spec.aliases.items()})
    shown = ", ".join(spec.options[:12]) + (", ..." if len(spec.options) > 12 else "")

    def lookup(text: str) -> str:
        key = clean_text(text).casefold()
        try:
            return table[key]
        except KeyError:
            raise ValueError(f"unknown option {text!r} for {name} (allowed: {shown})") from None

    return lookup


def converter(name: str, spec: AttributeSpec, *, split: str | None = None, unit: str | None = None) -> Converter:
    """The function turning a cell into attribute `name`'s value. `split` makes a string
    attribute multi-valued; `unit` is the unit of bare numbers (or the second argument,
    the unit read from another column, when given)."""
    kind = spec.type
    separator = spec.split or split
    if kind == "string":
        if separator:
            return lambda value, _unit: list[JSONValue](as_list(value, separator))
        return lambda value, _unit: clean_text(as_text(value))
    if kind == "number":
        return _number(spec, unit)
    if kind == "boolean":
        return lambda value, _unit: value if isinstance(value, bool) else parse_bool(as_text(value))
    if kind == "date":
        fmt = spec.format
        return lambda value, _unit: parse_date(as_text(value), fmt)
    lookup = enum_lookup(name, spec)
    if kind == "enum":
        return lambda value, _unit: lookup(as_text(value))
    multi_separator = separator or "|"
    return lambda value, _unit: list[JSONValue](
        dict.fromkeys(lookup(as_text(v)) for v in as_list(value, multi_separator))
    )


def _number(spec: AttributeSpec, column_unit: str | None) -> Converter:
    target = spec.unit

    def convert(value: JSONValue, row_unit: str | None) -> JSONValue:
        default = row_unit or column_unit
        if isinstance(value, int | float) and not isinstance(value, bool) and not (default or target):
            return float(value)
        text = as_text(value)
        try:
            if default or target:
                return quantity(text, default_unit=default, target_unit=target)
            try:
                return parse_number(text)
            except UnitError:
                if not any(ch.isdigit() for ch in text):
                    raise
                return quantity(text)  # a unit written in the cell: keep it, canonical
        except UnitError as exc:
            raise ValueError(str(exc)) from None

    return convert
