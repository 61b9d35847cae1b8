"""Marketplace renditions through HTTP: the product cut out onto pure white, filling the
frame as the preset asks; a doubtful cut-out waits in the review queue with before and
after pictures, and an accepted one stands for the channel."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

import indexer.assets.renditions as renditions
from tests.api.conftest import Catalog


def _scene_asset(catalog: Catalog, skip: int = 0) -> str:
    hits = catalog.client.get("/api/search", params={"type": "asset", "size": 100, "mode": "keyword"}).json()["hits"]
    busy = [h["id"] for h in hits if catalog.client.get(f"/api/assets/{h['id']}").json().get("background") == "other"]
    assert len(busy) > skip, "the sample catalog draws busy-scene pictures"
    return str(busy[skip])


def _reviewer(catalog: Catalog) -> dict[str, str]:
    return {"X-API-Key": catalog.keys["reviewer"]}


def test_marketplace_rendition_is_the_product_on_pure_white_filling_the_frame(catalog: Catalog) -> None:
    asset_id = _scene_asset(catalog)
    response = catalog.client.get(f"/api/assets/{asset_id}/renditions/marketplace")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    pixels = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB")).astype(np.int16)
    side = pixels.shape[0]
    assert pixels.shape[:2] == (side, side) and side >= 1000  # the preset's min_longest
    edge = max(2, side // 50)
    frame = np.concatenate([pixels[:edge].reshape(-1, 3), pixels[-edge:].reshape(-1, 3),
                            pixels[:, :edge].reshape(-1, 3), pixels[:, -edge:].reshape(-1, 3)])  # fmt: skip
    assert (frame == 255).all(), "the background is pure white (255, 255, 255)"
    product = (pixels < 235).any(axis=-1)
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    spans = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) / side
    assert 0.8 <= spans <= 0.9, spans  # fill: 0.85
    state = catalog.client.get(f"/api/assets/{asset_id}").json()["renditions"]["marketplace.cutout"]
    assert state.split(":")[0] in ("fit", "review")
    _decide_any_cutout(catalog, asset_id)


def _decide_any_cutout(catalog: Catalog, asset_id: str) -> None:
    """Leave the shared queue as it was: decide the cut-out this test queued, if any."""
    items = catalog.client.get("/api/review/queue", params={"tag": "cutout:marketplace", "limit": 100},
                               headers=_reviewer(catalog)).json()["items"]  # fmt: skip
    mine = [i for i in items if i["target"]["id"] == asset_id]
    if mine:
        decision = {"target": mine[0]["target"], "tag": "cutout:marketplace", "decision": "reject"}
        catalog.client.post("/api/review/decisions", json=[decision], headers=_reviewer(catalog))


def test_a_doubtful_cutout_waits_for_review_with_before_and_after_and_accepted_fits(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preset that trusts no cut-out (min_confidence 1.0) makes every cut-out doubtful."""
    strict = {
        n: dataclasses.replace(p, min_confidence=1.0) if p.cutout else p for n, p in renditions.load_presets().items()
    }
    monkeypatch.setattr(renditions, "load_presets", lambda path=None: strict)
    asset_id = _scene_asset(catalog, skip=1)
    assert catalog.client.get(f"/api/assets/{asset_id}/renditions/marketplace").status_code == 200
    asset = catalog.client.get(f"/api/assets/{asset_id}").json()
    assert asset["renditions"]["marketplace.cutout"].startswith("review:")
    items = catalog.client.get("/api/review/queue", params={"tag": "cutout:marketplace", "limit": 100},
                               headers=_reviewer(catalog)).json()["items"]  # fmt: skip
    item = next(i for i in items if i["target"]["id"] == asset_id)
    assert item["source"] == "cutout"
    assert item["before"] == f"/api/assets/{asset_id}/renditions/preview"
    assert item["after"] == f"/api/assets/{asset_id}/renditions/marketplace"
    for url in (item["before"], item["after"]):
        assert catalog.client.get(url).status_code == 200
    decision = {"target": item["target"], "tag": "cutout:marketplace", "decision": "accept"}
    out = catalog.client.post("/api/review/decisions", json=[decision], headers=_reviewer(catalog)).json()
    assert out["results"][0]["ok"]
    asset = catalog.client.get(f"/api/assets/{asset_id}").json()
    assert asset["renditions"]["marketplace.cutout"].startswith("accepted:")
    assert "cutout:marketplace" not in asset.get("tags_accepted", [])  # a rendition's review, not a tag to search
