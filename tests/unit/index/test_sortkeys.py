"""Sort keys: byte order of the hex key is (value, id) order, missing values last."""

from __future__ import annotations

import pytest

from discovery.errors import InvalidQuery
from discovery.store.index.base import IndexDoc
from discovery.store.index.sortkeys import SORTS, cursor_key, doc_keys, encode, spec_for


def _doc(doc_id: str, price: float | None = None, updated: str | None = None, name: str = "") -> IndexDoc:
    return IndexDoc(
        id=doc_id, type="product", key=doc_id,
        numbers={"price": price} if price is not None else {},
        dates={"updated_at": updated} if updated else {},
        sort_name=name,
    )


def test_number_keys_order_like_numbers_including_negatives() -> None:
    spec = SORTS["price"]
    values = [-1e9, -2.5, -0.0, 0.0, 1e-9, 3.0, 3.5, 1e12]
    keys = [encode(spec, v, "product:x") for v in values]
    assert keys == sorted(keys)


def test_descending_keys_reverse_values_but_not_the_id_tie_break() -> None:
    spec = SORTS["-price"]
    keys = sorted([encode(spec, 5.0, "b"), encode(spec, 9.0, "z"), encode(spec, 5.0, "a")])
    assert keys == [encode(spec, 9.0, "z"), encode(spec, 5.0, "a"), encode(spec, 5.0, "b")]


@pytest.mark.parametrize("sort", ["price", "-price", "newest", "popular"])
def test_missing_values_sort_last_in_both_directions(sort: str) -> None:
    spec = SORTS[sort]
    present = encode(spec, "2024-01-01" if spec.source == "date" else 1.0, "z")
    assert encode(spec, None, "a") > present


def test_a_name_sorts_before_its_extensions() -> None:
    spec = SORTS["name"]
    assert encode(spec, "trail", "z") < encode(spec, "trail hoodie", "a") < encode(spec, "trailx", "a")


def test_newest_orders_by_instant_across_time_zones() -> None:
    docs = [_doc("a", updated="2024-01-01T10:00:00+02:00"), _doc("b", updated="2024-01-01T09:00:00+00:00")]
    keys = {d.id: doc_keys(d)[SORTS["newest"].field] for d in docs}
    assert keys["b"] < keys["a"]  # 09:00Z is later than 08:00Z


def test_cursor_key_rebuilds_the_key_of_the_last_hit() -> None:
    spec = spec_for("price")
    assert cursor_key(spec, (12.5, "product:x")) == encode(spec, 12.5, "product:x")
    assert cursor_key(spec_for("id"), ("product:x",)) == encode(spec_for("id"), None, "product:x")


@pytest.mark.parametrize("after", [(), ("x",), (1.0, 2), ("cheap", "product:x"), (1.0, "a", "b")])
def test_a_cursor_that_does_not_fit_the_sort_is_refused(after: tuple[object, ...]) -> None:
    with pytest.raises(InvalidQuery):
        cursor_key(spec_for("price"), after)  # type: ignore[arg-type]


def test_an_unknown_sort_is_refused() -> None:
    with pytest.raises(InvalidQuery):
        spec_for("cheapest")
