from __future__ import annotations

import re

import pytest

from indexer.assets.links import (
    DEFAULT_RULES,
    FilenameRule,
    LinkMatch,
    SkuIndex,
    ids_by_name,
    match_filename,
    match_image_refs,
    match_manifest,
    merge_links,
    name_key,
    parse_manifest,
    rules_for,
)

SKUS = SkuIndex(["24-MB01", "MH01", "MH01-XS-Black", "24-MB02", "25-MB02", "XMB03", "WS05"])


def test_image_refs_name_files_by_their_last_component() -> None:
    assert name_key("/m/h/MH01-black_main.jpg") == "mh01-black_main.jpg"
    assert name_key("https://cdn.example.com/m/h/mh01-black_main.jpg?v=2#x") == "mh01-black_main.jpg"
    assert name_key("images\\ws05%20front.png") == "ws05 front.png"


def test_a_product_image_ref_links_the_asset_of_that_file_name() -> None:
    names = ids_by_name([("a1", "mh01-black_main.jpg"), ("a2", "other.jpg")])
    links, ambiguous = match_image_refs({"MH01-XS-Black": ["/m/h/mh01-black_main.jpg", "/m/h/missing.jpg"]}, names)
    assert links == [LinkMatch("a1", "MH01-XS-Black", "image_ref")]
    assert ambiguous == []


def test_two_assets_with_one_name_are_ambiguous_not_guessed() -> None:
    names = ids_by_name([("a1", "front.jpg"), ("a2", "FRONT.jpg")])
    links, ambiguous = match_image_refs({"WS05": ["/w/s/front.jpg"]}, names)
    assert links == [] and ambiguous[0].candidates == ("a1", "a2")


def test_manifest_rows_with_rights_and_bad_rows_by_line() -> None:
    rows, problems = parse_manifest(
        "sku,file,license,credit,expires_at,channels\n"
        "MH01,mh01-black_main.jpg,CC-BY,Ana,2030-01-31,web|marketplace\n"
        ",nosku.jpg,,,,\n"
        "WS05,ws05.jpg,,,not-a-date,\n"
    )
    assert len(rows) == 1 and rows[0].line == 2
    assert rows[0].rights == {"license": "CC-BY", "credit": "Ana", "expires_at": "2030-01-31T00:00:00",
                              "channels": ["web", "marketplace"]}  # fmt: skip
    assert [(p.line, p.field) for p in problems] == [(3, "sku"), (4, "expires_at")]


def test_manifest_without_the_needed_header_is_one_problem() -> None:
    rows, problems = parse_manifest("a,b\n1,2\n")
    assert rows == [] and "header" in problems[0].reason


def test_manifest_matching_reports_ambiguous_and_missing_files() -> None:
    rows, _ = parse_manifest("sku,file\nMH01,a.jpg\nWS05,dup.jpg\nXMB03,gone.jpg\n")
    names = ids_by_name([("a1", "a.jpg"), ("d1", "dup.jpg"), ("d2", "dup.jpg")])
    links, ambiguous, missing = match_manifest(rows, names)
    assert [(link.asset_id, link.sku, link.how) for link, _ in links] == [("a1", "MH01", "manifest")]
    assert ambiguous[0].file == "dup.jpg" and set(ambiguous[0].candidates) == {"d1", "d2"}
    assert missing[0].file == "gone.jpg" and missing[0].line == 4


def test_filename_rule_links_the_sku_ending_in_the_token_with_the_colour() -> None:
    found = match_filename("a1", "mb01-blue-0.jpg", DEFAULT_RULES, SKUS)
    assert isinstance(found, LinkMatch)
    assert found.to_json() == {"sku": "24-MB01", "how": "filename_rule", "rule": "sku-colour-view", "color": "blue"}


def test_filename_rule_reports_a_token_ending_several_skus() -> None:
    found = match_filename("a1", "mb02-red.jpg", DEFAULT_RULES, SKUS)
    assert not isinstance(found, LinkMatch) and found is not None
    assert found.candidates == ("24-MB02", "25-MB02")


def test_filename_rule_needs_a_separator_and_a_known_sku() -> None:
    assert match_filename("a1", "mb03.jpg", DEFAULT_RULES, SKUS) is None  # XMB03 does not end in -MB03
    assert match_filename("a1", "zz99-red.jpg", DEFAULT_RULES, SKUS) is None
    view = match_filename("a1", "ws05_front.png", DEFAULT_RULES, SKUS)
    assert isinstance(view, LinkMatch) and "color" not in view.to_json()  # `front` is no colour


def test_rules_are_configurable() -> None:
    rule = FilenameRule.of("exact-sku", r"^(?P<sku>.+?)__\d+\.jpg$", sku_match="exact")
    assert match_filename("a1", "MH01-XS-Black__2.jpg", [rule], SKUS) == LinkMatch(
        "a1", "MH01-XS-Black", "filename_rule", (("rule", "exact-sku"),)
    )


def test_merging_keeps_one_link_per_sku_the_most_trusted() -> None:
    merged = merge_links(
        [{"sku": "MH01", "how": "filename_rule"}],
        [LinkMatch("a", "MH01", "manifest"), LinkMatch("a", "WS05", "image_ref")],
    )
    assert merged == [{"sku": "MH01", "how": "manifest"}, {"sku": "WS05", "how": "image_ref"}]


def test_filename_rule_accepts_the_sample_catalog_sku_formats_in_any_case_and_separator() -> None:
    skus = SkuIndex(["ASH-000004", "UIX-0001", "UIX-0002", "24-MB01"])
    found = {
        name: m.sku if isinstance(m := match_filename("a", name, DEFAULT_RULES, skus), LinkMatch) else None
        for name in ("ASH-000004-side.png", "ash_000004.jpg", "ASH000004-back.webp", "uix-0001-red_main.png",
                     "UIX0002.png", "Uix_0002_front.JPG", "mb01-blue-0.jpg", "ash-000005.png")
    }  # fmt: skip
    assert found == {
        "ASH-000004-side.png": "ASH-000004", "ash_000004.jpg": "ASH-000004", "ASH000004-back.webp": "ASH-000004",
        "uix-0001-red_main.png": "UIX-0001", "UIX0002.png": "UIX-0002", "Uix_0002_front.JPG": "UIX-0002",
        "mb01-blue-0.jpg": "24-MB01", "ash-000005.png": None,
    }  # fmt: skip
    red = match_filename("a", "uix-0001-red_main.png", DEFAULT_RULES, skus)
    assert isinstance(red, LinkMatch) and dict(red.extra)["color"] == "red"


def test_link_rule_of_an_import_is_filename_none_or_a_pattern_with_a_sku_group() -> None:
    assert rules_for(None) == DEFAULT_RULES and rules_for("FILENAME") == DEFAULT_RULES and rules_for("none") == ()
    (rule,) = rules_for("filename", r"^(?P<sku>[a-z]+\d+)__")
    found = match_filename("a", "mh01__x.jpg", [rule], SKUS)
    assert found == LinkMatch("a", "MH01", "filename_rule", (("rule", "pattern"),))
    for bad, says in (("sometimes", "link_rule must be one of"), ("filename:(", "not a regular expression"),
                      ("filename:^x", "(?P<sku>")):  # fmt: skip
        rule_name, _, pattern = bad.partition(":")
        with pytest.raises(ValueError, match=re.escape(says)):
            rules_for(rule_name, pattern or None)
