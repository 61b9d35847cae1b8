"""Script written into EXIF, IPTC and XMP text fields and into product export columns is
stored as text and comes back as JSON string data, exactly as written: in the asset and
product views, search hits and highlights, channel views and feeds. Nothing is served as
HTML, and GPS never reaches a public (shopper) view."""

from __future__ import annotations

import csv
import html
import io
import json

from tests.security import hostile_files as hf
from tests.security.security_support import Answer, SecuredCatalog

JSON_TYPES = ("application/json", "application/problem+json", "application/x-ndjson", "text/csv")


def _is_data(response: Answer) -> None:
    """Served as data a browser will not render or sniff as HTML."""
    kind = response.headers["content-type"]
    assert kind.startswith(JSON_TYPES), kind
    assert response.headers["x-content-type-options"] == "nosniff"


def _comes_back_as_json_text(response: Answer, text: str) -> None:
    # The raw body holds the text only as an escaped JSON string: its quotes cannot close
    # the string, so nothing of it can become markup or code around it.
    assert json.dumps(text, ensure_ascii=False) in response.text


def test_every_exif_iptc_and_xmp_text_field_comes_back_exactly_as_written(secured: SecuredCatalog) -> None:
    for asset_id, expected in secured.hostile.metadata.items():
        response = secured.client.get(f"/api/assets/{asset_id}")
        _is_data(response)
        metadata = response.json()["metadata"]
        for key, text in expected.items():
            assert metadata[key] == text, f"{key} of {asset_id} changed"
            for one in text if isinstance(text, list) else [text]:
                _comes_back_as_json_text(response, str(one))


def test_script_in_metadata_is_found_by_search_with_plain_text_highlights(secured: SecuredCatalog) -> None:
    response = secured.client.get("/api/search", params={"q": "alert onerror", "type": "asset", "mode": "keyword"})
    _is_data(response)
    hits = {h["id"]: h for h in response.json()["hits"]}
    assert set(secured.hostile.metadata) <= set(hits)
    iptc = hits[secured.hostile.asset_ids["hostile-iptc.jpg"]]
    assert iptc["title"] == hf.payload("xmp:title") or iptc["title"] == hf.payload("iptc:title")
    for asset_id in secured.hostile.metadata:
        marked = [h for hs in hits[asset_id]["highlights"].values() for h in hs]
        assert marked, f"no highlight for {asset_id}"
        for highlight in marked:
            # A highlight is the stored text as it was plus where the match is: no markup
            # is added, none is taken away.
            assert "<script>alert(" in highlight["text"]
            assert "<em>" not in highlight["text"] and "<b>" not in highlight["text"]
            for start, end in highlight["offsets"]:
                assert highlight["text"][start:end].lower() in ("alert", "onerror")


def _as_imported(fields: dict[str, str]) -> dict[str, str]:
    """Character references (`&amp;`) are decoded at import; the description keeps its HTML."""
    return {k: v if k == "description" else html.unescape(v) for k, v in fields.items()}


def test_script_in_product_columns_comes_back_as_text_in_views_and_search(secured: SecuredCatalog) -> None:
    fields = _as_imported(secured.hostile.products[hf.HOSTILE_SKU])
    response = secured.client.get(f"/api/products/{hf.HOSTILE_SKU}")
    _is_data(response)
    product = response.json()
    assert product["name"] == fields["name"]
    assert product["brand"] == fields["brand"]
    assert product["attributes"]["color"] == fields["color"]
    for text in fields.values():
        _comes_back_as_json_text(response, text)
    search = secured.client.get("/api/search", params={"q": "alert script", "mode": "keyword", "size": 50})
    _is_data(search)
    hit = next(h for h in search.json()["hits"] if h["id"] == hf.HOSTILE_SKU)
    assert hit["title"] == fields["name"]
    assert all("<script>" in h["text"] for hs in hit["highlights"].values() for h in hs)


def test_channel_views_and_feeds_carry_script_as_data_and_quote_formulas(secured: SecuredCatalog) -> None:
    client = secured.client
    fields = _as_imported(secured.hostile.products[hf.HOSTILE_SKU])
    view = client.get(f"/api/channels/web/products/{hf.HOSTILE_SKU}")
    _is_data(view)
    assert view.json()["name"] == fields["name"]
    names: dict[str, str] = {}
    for ready in ("false", "true"):
        feed = client.get("/api/channels/web/feed", params={"format": "jsonl", "report": ready})
        _is_data(feed)
        assert "attachment" in feed.headers["content-disposition"]
        names.update({row["sku"]: row["name"] for row in map(json.loads, feed.text.splitlines())})
        table = client.get("/api/channels/web/feed", params={"format": "csv", "report": ready})
        _is_data(table)
        rows = list(csv.DictReader(io.StringIO(table.text)))
        for row in rows:
            if row["sku"] == hf.FORMULA_SKU:
                # A spreadsheet would run a cell starting with = + - @: it is quoted.
                assert row["name"] == "'" + hf.FORMULA
            if row["sku"] == hf.HOSTILE_SKU:
                assert row["name"] == fields["name"]
    assert names[hf.HOSTILE_SKU] == fields["name"]
    assert names[hf.FORMULA_SKU] == hf.FORMULA


def _gps_free(text: str) -> None:
    assert "gps" not in text.lower()
    for coordinate in hf.GPS:
        assert str(coordinate)[:6] not in text


def test_gps_never_reaches_a_public_view(secured: SecuredCatalog) -> None:
    client = secured.client
    public = secured.as_role("public")
    asset_id = secured.hostile.asset_ids["hostile-exif.jpg"]
    internal = client.get(f"/api/assets/{asset_id}").json()["metadata"]
    assert round(internal["gps_latitude"], 3) == round(hf.GPS[0], 3), "the fixture must carry GPS to hide"
    calls: list[tuple[str, dict[str, str]]] = [
        (f"/api/assets/{asset_id}", {}),
        (f"/api/products/{hf.HOSTILE_SKU}", {}),
        ("/api/search", {"q": "alert", "type": "all", "mode": "keyword", "size": "100"}),
        ("/api/search", {"q": str(hf.GPS[0]), "type": "asset", "mode": "keyword"}),
        (f"/api/assets/{asset_id}/similar", {}),
        (f"/api/channels/web/products/{hf.HOSTILE_SKU}", {}),
        ("/api/channels/web/feed", {}),
    ]
    for path, params in calls:
        response = client.get(path, params=params, headers=public)
        assert response.status_code == 200, (path, response.text)
        _gps_free(response.text)
    # The not-ready report names unlisted products: not for a public key at all.
    assert client.get("/api/channels/web/feed", params={"report": "true"}, headers=public).status_code == 403
