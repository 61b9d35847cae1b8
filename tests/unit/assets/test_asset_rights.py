from __future__ import annotations

import pytest

from indexer.assets.rights import InvalidRights, parse_rights


def test_rights_are_normalised_from_loose_input() -> None:
    assert parse_rights(
        {"license": " CC-BY ", "credit": "Ana", "expires_at": "2030-01-31", "channels": "web| shop"}
    ) == {
        "license": "CC-BY",
        "credit": "Ana",
        "expires_at": "2030-01-31T00:00:00",
        "channels": ["web", "shop"],
    }
    assert parse_rights({"channels": ["web", "web", ""]}) == {"channels": ["web"]}


def test_empty_rights_mean_valid_everywhere() -> None:
    assert parse_rights({"license": "", "expires_at": None, "channels": ""}) == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [({"expires_at": "next week"}, "expires_at"), ({"licence": "x"}, "licence"), ({"credit": "x" * 501}, "credit")],
)
def test_bad_rights_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRights) as err:
        parse_rights(values)
    assert err.value.field == field
