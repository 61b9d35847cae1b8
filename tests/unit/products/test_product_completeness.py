from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from discovery.domain import Asset, Product
from indexer.products.completeness import (
    ChannelError,
    ChannelSpec,
    channels_digest,
    load_channels,
    parse_channels,
)
from indexer.products.completeness import completeness as completeness_json


def completeness(
    product: Product, channels: Mapping[str, ChannelSpec], assets: Mapping[str, Asset] | None = None
) -> dict[str, Any]:
    return cast(dict[str, Any], completeness_json(product, channels, assets))


FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "products" / "channels_test.yaml"


def tee() -> Product:
    return Product(
        sku="T1",
        name="Tee",
        price=10.0,
        description="<p>Soft</p>",
        description_text="Soft",
        locales={"fr_FR": {"name": "T-shirt"}},
        image_refs=["front.jpg"],
        attributes={"color": "red"},
    )


def test_completeness_matches_the_hand_computed_fixture() -> None:
    result = completeness(tee(), load_channels(FIXTURE))
    # web: name, price, brand(x), en_US name+description (plain fields), fr_FR name, fr_FR description(x), 1 jpg
    assert result["web"] == {
        "ratio": 0.75,
        "missing": ["brand", "locales.fr_FR.description"],
        "ready": False,
        "locales": {
            "en_US": {"ratio": 1.0, "missing": []},
            "fr_FR": {"ratio": 0.5, "missing": ["locales.fr_FR.description"]},
        },
        "images": {"have": 1, "need": 1, "rule": "1 image, jpg/png"},
    }
    # print: name, color, 2 white >= 1000px images(x: file names cannot show that), status approved(x)
    assert (result["print"]["ratio"], result["print"]["missing"], result["print"]["ready"]) == (
        0.5,
        ["images", "status"],
        False,
    )


def test_completeness_changes_when_the_channel_rules_change() -> None:
    channels = load_channels(FIXTURE)
    before = completeness(tee(), channels)["web"]
    relaxed = dict(channels)
    relaxed["web"] = channels["web"].model_copy(update={"required": ["name", "price"], "locales": ["en_US"]})
    after = completeness(tee(), relaxed)["web"]
    assert (before["ratio"], before["ready"]) == (0.75, False)
    assert (after["ratio"], after["missing"], after["ready"]) == (1.0, [], True)
    assert channels_digest(channels) != channels_digest(relaxed)


def _image(asset_id: str, *, background: str, size: int) -> Asset:
    return Asset(
        id=asset_id,
        sha256=asset_id,
        filename=f"{asset_id}.jpg",
        media_type="image/jpeg",
        width=size,
        height=size,
        background=background,
    )


def test_image_kind_rules_are_judged_on_linked_analysed_assets() -> None:
    product = tee()
    product.status = "approved"
    product.asset_ids = ["a", "b", "c"]
    assets = {
        "a": _image("a", background="white", size=1200),
        "b": _image("b", background="white", size=800),
        "c": _image("c", background="other", size=2000),
    }
    print_channel = completeness(product, load_channels(FIXTURE), assets)["print"]
    assert print_channel["images"] == {"have": 1, "need": 2, "rule": "2 images, white background, at least 1000x1000"}
    assets["b"] = _image("b", background="white", size=1500)
    assert completeness(product, load_channels(FIXTURE), assets)["print"]["ready"] is True


def test_a_withdrawn_product_is_never_ready() -> None:
    product = tee()
    product.brand, product.status = "Acme", "withdrawn"
    product.locales["fr_FR"]["description"] = "Doux"
    assert completeness(product, load_channels(FIXTURE))["web"]["missing"] == ["status"]


def test_the_shipped_sample_channels_load() -> None:
    channels = load_channels()
    assert {"web", "marketplace"} <= set(channels)
    assert channels["marketplace"].images.background == "white"


def test_a_bad_channel_file_says_where() -> None:
    with pytest.raises(ChannelError, match=r"web\.images\.min"):
        parse_channels("channels:\n  web:\n    images: {min: -1}\n")
    with pytest.raises(ChannelError, match="requried"):
        parse_channels("channels:\n  web:\n    requried: [name]\n")
