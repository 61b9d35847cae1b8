"""Units of measure: parse `1.5 kg`, `300 g`, `12 in` and convert to a canonical unit.

Each dimension has one canonical unit (mass kg, length cm, volume l) so facets and ranges
compare like with like; the value as written is kept beside the converted one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from discovery.domain import JSONObject


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str  # how the canonical form writes it
    dimension: str
    factor: float  # multiply by this to get the dimension's canonical unit


CANONICAL: dict[str, str] = {"mass": "kg", "length": "cm", "volume": "l"}

_UNITS: list[tuple[tuple[str, ...], Unit]] = [
    (("mg", "milligram", "milligrams", "milligramme"), Unit("mg", "mass", 1e-6)),
    (("g", "gr", "gram", "grams", "gramme", "grammes"), Unit("g", "mass", 1e-3)),
    (("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme"), Unit("kg", "mass", 1.0)),
    (("t", "ton", "tonne", "tonnes"), Unit("t", "mass", 1000.0)),
    (("lb", "lbs", "pound", "pounds"), Unit("lb", "mass", 0.45359237)),
    (("oz", "ounce", "ounces"), Unit("oz", "mass", 0.028349523125)),
    (("mm", "millimeter", "millimeters", "millimetre", "millimetres"), Unit("mm", "length", 0.1)),
    (("cm", "centimeter", "centimeters", "centimetre", "centimetres"), Unit("cm", "length", 1.0)),
    (("dm", "decimeter", "decimetre"), Unit("dm", "length", 10.0)),
    (("m", "meter", "meters", "metre", "metres"), Unit("m", "length", 100.0)),
    (("km", "kilometer", "kilometre"), Unit("km", "length", 100_000.0)),
    (("in", "inch", "inches", '"', "\u2033"), Unit("in", "length", 2.54)),
    (("ft", "foot", "feet", "'", "\u2032"), Unit("ft", "length", 30.48)),
    (("yd", "yard", "yards"), Unit("yd", "length", 91.44)),
    (("ml", "milliliter", "milliliters", "millilitre", "millilitres"), Unit("ml", "volume", 0.001)),
    (("cl", "centiliter", "centilitre"), Unit("cl", "volume", 0.01)),
    (("dl", "deciliter", "decilitre"), Unit("dl", "volume", 0.1)),
    (("l", "liter", "liters", "litre", "litres"), Unit("l", "volume", 1.0)),
    (("floz", "fl oz", "fl. oz", "fl.oz", "fluid ounce", "fluid ounces"), Unit("fl oz", "volume", 0.0295735295625)),
    (("gal", "gallon", "gallons"), Unit("gal", "volume", 3.785411784)),
]

UNITS: dict[str, Unit] = {alias: unit for aliases, unit in _UNITS for alias in aliases}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d[\d\s.,']*\d|\d)|[-+]?[.,]\d+)\s*([^\d\s].*?)?\s*$")


class UnitError(ValueError):
    """A value that is not a quantity, or whose unit does not fit."""


@lru_cache(maxsize=1024)
def find_unit(text: str) -> Unit | None:
    """The unit an alias names, whatever its case (`KILOGRAM`, `Kg`, `kg`)."""
    key = text.strip().casefold().rstrip(".")
    return UNITS.get(key) or UNITS.get(key.replace(" ", ""))


_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")


def parse_number(text: str) -> float:
    """A number as people write it: `1.5`, `1,5`, `1 234,50`, `1,234.50`, `1'234.5`."""
    try:  # the common case, plainly written
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise UnitError(f"not a finite number: {text!r}")
        return value
    raw = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    if "," in raw and "." in raw:
        # The later separator is the decimal one.
        decimal_comma = raw.rfind(",") > raw.rfind(".")
        raw = raw.replace(".", "").replace(",", ".") if decimal_comma else raw.replace(",", "")
    elif "," in raw:
        grouped = _THOUSANDS.fullmatch(raw.lstrip("+-")) is not None
        raw = raw.replace(",", "") if grouped else raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        raise UnitError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise UnitError(f"not a finite number: {text!r}")
    return value


def split_quantity(text: str) -> tuple[float, str | None]:
    """(number, unit text or None) from `1.5 kg`, `300g`, `12"`."""
    match = _QUANTITY.match(text)
    if not match:
        raise UnitError(f"not a number with a unit: {text!r}")
    return parse_number(match.group(1)), (match.group(2) or None)


def quantity(text: str, *, default_unit: str | None = None, target_unit: str | None = None) -> JSONObject:
    """`{"value", "unit", "original"}` for a written quantity, converted to `target_unit` or
    to the canonical unit of its dimension. A bare number takes `default_unit`; `original`
    is the value as written (with the default unit appended when it had none)."""
    written = text.strip()
    number, unit_text = split_quantity(written)
    if unit_text is None and default_unit:
        unit_text = default_unit
        written = f"{written} {default_unit}"
    if unit_text is None:
        if target_unit:
            raise UnitError(f"{text!r} has no unit (expected {target_unit})")
        return {"value": number, "unit": None, "original": written}
    unit = find_unit(unit_text)
    if unit is None:
        raise UnitError(f"unknown unit {unit_text!r} in {text!r}")
    target = find_unit(target_unit) if target_unit else find_unit(CANONICAL[unit.dimension])
    if target is None:
        raise UnitError(f"unknown unit {target_unit!r}")
    if target.dimension != unit.dimension:
        raise UnitError(f"{text!r} is a {unit.dimension}, expected a {target.dimension} ({target.symbol})")
    value = round(number * unit.factor / target.factor, 9)
    return {"value": value, "unit": target.symbol, "original": written}
