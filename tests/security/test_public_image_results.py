"""The shopper view on image results, on both engines: collapsed near-duplicates, facets
and filters count and name only what a shopper may see."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw

from tests.security.shop_support import ENGINES, Shop, open_shop, png, settings_for


def _picture() -> Image.Image:
    """A product drawn on white, shaded top to bottom as a photo would be (a flat drawing
    leaves many pHash coefficients near their median, where re-encoding flips bits)."""
    image = Image.new("RGB", (240, 240), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for y in range(30, 210):
        shade = 60 + (y - 30)
        draw.line((40, y, 200, y), fill=(shade, 30, 30))
    draw.rectangle((60, 50, 110, 120), fill=(240, 220, 120))
    draw.ellipse((130, 140, 190, 200), fill=(20, 20, 90))
    return image


def _encoded(image: Image.Image, fmt: str, scale: float = 1.0, quality: int = 85) -> bytes:
    out = io.BytesIO()
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    image.save(out, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()


@pytest.fixture(scope="module", params=ENGINES)
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    settings = settings_for(request.param, tmp_path_factory.mktemp(f"image-{request.param}"), request)
    with open_shop(settings, request.param) as built:
        # A picture and two resized, re-encoded copies: one anyone may see, one whose rights expired.
        manifest = (
            "sku,file,license,credit,expires_at,channels\nPUB-2,bag.png,,,,\nPUB-2,bag-copy.jpg,,,,\n"
            "PUB-2,bag-expired-copy.jpg,,,2020-01-31,\n"
        )
        files = [
            ("files", ("bag.png", _encoded(_picture(), "PNG"), "image/png")),
            ("files", ("bag-copy.jpg", _encoded(_picture(), "JPEG", 0.8, 85), "image/jpeg")),
            ("files", ("bag-expired-copy.jpg", _encoded(_picture(), "JPEG", 0.7, 75), "image/jpeg")),
            ("manifest", ("manifest.csv", manifest.encode(), "text/csv")),
        ]
        built.upload("/api/ingest/assets", files)
        built.assets = {a.filename: a.id for batch in built.ctx.records.iter_assets() for a in batch}
        yield built


def _image_search(shop: Shop, role: str | None, **data: str) -> dict[str, object]:
    files = {"file": ("probe.jpg", _encoded(_picture(), "JPEG", 0.9, 90), "image/jpeg")}
    answer = shop.client.post("/api/search/image", files=files, data={"k": "50", **data}, headers=shop.as_role(role))
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _group_of(body: dict[str, object], asset_id: str) -> set[str]:
    for hit in body["hits"]:  # type: ignore[attr-defined]
        ids = {str(hit["id"]), *(str(c["id"]) for c in hit["collapsed"])}
        if asset_id in ids:
            return ids
    raise AssertionError(f"{asset_id} is in no hit")


def test_collapsed_duplicates_name_only_assets_the_shopper_may_see(shop: Shop) -> None:
    free, copy, expired = (shop.assets[n] for n in ("bag.png", "bag-copy.jpg", "bag-expired-copy.jpg"))
    staff = _image_search(shop, "viewer")
    assert _group_of(staff, free) == {free, copy, expired}, "staff see the expired copy collapsed with the others"
    shopper = _image_search(shop, "public")
    assert _group_of(shopper, free) == {free, copy}
    hidden = {shop.assets[n] for n in ("expired.png", "print-only.png", "web-only.png", "bag-expired-copy.jpg")}
    every = {str(h["id"]) for h in shopper["hits"]} | {  # type: ignore[attr-defined]
        str(c["id"]) for h in shopper["hits"] for c in h["collapsed"]  # type: ignore[attr-defined]
    }
    assert every and not every & hidden
    assert shopper["total_assets"] == len(every)


def test_shopper_facets_count_only_visible_assets_and_internal_fields_are_refused(shop: Shop) -> None:
    staff = _image_search(shop, "viewer", facets="rights_status")
    assert "expired" in {v["value"] for v in staff["facets"]["rights_status"]}  # type: ignore[index]
    shopper = _image_search(shop, "public", facets="rights_status", collapse="false")
    values = shopper["facets"]["rights_status"]  # type: ignore[index]
    assert "expired" not in {v["value"] for v in values}
    assert sum(v["count"] for v in values) == shopper["total_assets"] == shopper["total"]
    # A channel the caller names shows that channel's assets too, and only to that caller.
    web = _image_search(shop, "public", channel="web", collapse="false")
    assert shop.assets["web-only.png"] in {str(h["id"]) for h in web["hits"]}  # type: ignore[attr-defined]
    files = {"file": ("probe.png", png((200, 30, 30)), "image/png")}
    for data in ({"facets": "collections"}, {"filter.listed": "true"}, {"filter.tags_suggested": "red"}):
        answer = shop.client.post("/api/search/image", files=files, data=data, headers=shop.as_role("public"))
        assert answer.status_code == 400, (data, answer.text)
