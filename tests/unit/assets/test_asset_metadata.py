from __future__ import annotations

import pytest
from asset_factories import encode, text_pdf, with_iptc, xmp_packet
from PIL import Image, PngImagePlugin

from discovery.domain import Asset
from discovery.store.index.documents import asset_to_doc
from indexer.assets import metadata as meta
from indexer.assets.pdf import UnreadablePdf, pdf_facts, render_first_page
from indexer.assets.safe_image import decode


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS R5"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 12:30:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 30.0, 0.0), "W", (1.0, 15.0, 0.0)
    return exif


def _photo() -> bytes:
    xmp = xmp_packet("Red shoe", "A red running shoe on white", ["shoe", "running"], "Ana Lopez", "(c) Acme")
    data = encode(Image.new("RGB", (40, 20), (200, 0, 0)), "JPEG", exif=_exif(), xmp=xmp)
    return with_iptc(data, {5: ["IPTC title"], 25: ["sale", "summer"], 80: ["Bob"], 110: ["Acme Studio"]})


def test_exif_iptc_and_xmp_are_extracted_with_xmp_winning() -> None:
    d = decode(_photo(), "JPEG")
    m = meta.extract(d.exif, d.info, d.iptc)
    assert m["camera_make"] == "Canon" and m["camera_model"] == "EOS R5"
    assert m["taken_at"] == "2024-05-01T12:30:00"
    assert m["title"] == "Red shoe"  # XMP over IPTC
    assert m["creator"] == "Ana Lopez"
    assert m["description"] == "A red running shoe on white"
    assert m["rights"] == "(c) Acme"
    assert m["credit"] == "Studio North"  # XMP attribute form
    assert m["keywords"] == ["sale", "summer", "shoe", "running"]  # union
    assert (m["gps_latitude"], m["gps_longitude"]) == (52.5, -1.25)


def test_gps_stays_internal_never_public_nor_searchable() -> None:
    d = decode(_photo(), "JPEG")
    m = meta.extract(d.exif, d.info, d.iptc)
    assert not any(k.startswith("gps") for k in meta.public_metadata(m))
    asset = Asset(id="a1", sha256="0" * 64, filename="x.jpg", media_type="image/jpeg", metadata=m)
    assert "52.5" not in asset_to_doc(asset).text.get("metadata", "")
    assert "running" in asset_to_doc(asset).text["metadata"]


def test_title_and_alt_come_from_metadata() -> None:
    assert meta.title_and_alt({"title": "T", "description": "D"}) == ("T", "D")
    assert meta.title_and_alt({"headline": "H", "alt_text": "A", "description": "D"}) == ("H", "A")
    assert meta.title_and_alt({}) == ("", "")


def test_xmp_in_png_is_read() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_packet("Blue mug", "d", ["mug"], "C", "R").decode())
    d = decode(encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=info), "PNG")
    assert meta.extract(d.exif, d.info, d.iptc)["title"] == "Blue mug"


def test_xmp_with_entities_is_ignored_unread() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + xmp_packet(
        "&b;", "d", [], "c", "r"
    )
    assert meta.xmp_fields(bomb) == {}


def test_control_characters_are_stripped_and_text_bounded() -> None:
    assert meta.clean_text(b"Can\x00on\x07 ") == "Canon"
    assert len(meta.clean_text("x" * 10_000)) == meta.MAX_TEXT


def test_pdf_page_count_text_and_title_are_extracted() -> None:
    facts = pdf_facts(text_pdf(["Spring lookbook intro", "Size guide"]))
    assert facts.pages == 2
    assert "Spring lookbook intro" in facts.text and "Size guide" in facts.text
    assert facts.metadata["pdf_title"] == "Spring lookbook"
    assert meta.title_and_alt(facts.metadata)[0] == "Spring lookbook"


def test_pdf_first_page_renders_to_the_asked_size() -> None:
    page = render_first_page(text_pdf(["Hello"]), longest=256)
    assert max(page.size) == 256 and page.mode == "RGB"


def test_corrupt_pdf_is_refused_with_a_reason() -> None:
    with pytest.raises(UnreadablePdf, match="PDF"):
        pdf_facts(b"%PDF-1.4\nthis is not a pdf at all")


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_metadata_loses_its_fields_not_the_picture() -> None:
    junk_exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x69\x87\x04\x00\x01\x00\x00\x00\xff\xff\xff\x7f"
    data = encode(Image.new("RGB", (20, 20), (0, 90, 0)), "JPEG", exif=junk_exif, xmp=b"<x:xmpmeta><rdf:RDF>broken")
    d = decode(data, "JPEG")
    assert d.image.size == (20, 20)
    assert meta.extract(d.exif, d.info, d.iptc) == {}


def test_pdf_is_read_and_rendered_in_the_bounded_child() -> None:
    from indexer.assets import pdf_sandbox

    data = text_pdf(["Spring lookbook intro"])
    assert pdf_sandbox.pdf_facts(data).text == "Spring lookbook intro"
    page = pdf_sandbox.render_first_page(data, longest=256)
    assert max(page.size) == 256 and page.mode == "RGB"
    with pytest.raises(UnreadablePdf, match="PDF"):
        pdf_sandbox.pdf_facts(b"%PDF-1.4\nthis is not a pdf at all")


def test_pdf_over_the_time_limit_is_refused_not_waited_for() -> None:
    from indexer.assets import pdf_sandbox

    tight = pdf_sandbox.PdfLimits(memory_mb=1024, cpu_seconds=5, wall_seconds=0.01)
    with pytest.raises(pdf_sandbox.PdfOverLimit, match=r"over the limit of 0\.01 s"):
        pdf_sandbox.render_first_page(text_pdf(["Hello"]), longest=256, limits=tight)
