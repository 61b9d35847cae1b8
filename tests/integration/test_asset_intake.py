"""The asset pipeline end to end on real stores: SQLite records, the filesystem blob
store and the embedded search engine. Hostile files are made in memory by the factories."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "assets"))

from asset_factories import (  # noqa: E402
    decompression_bomb_png,
    draw_product,
    encode,
    gif_js_polyglot,
    html_as_jpg,
    jpeg,
    png,
    text_pdf,
    truncated_jpeg,
    zip_bomb,
    zip_of,
)

from discovery.config import SearchSettings  # noqa: E402
from discovery.domain import Asset, Product, Tag  # noqa: E402
from discovery.store.blobs import FilesystemBlobStore  # noqa: E402
from discovery.store.index.base import SearchQuery  # noqa: E402
from discovery.store.index.documents import asset_doc_id  # noqa: E402
from discovery.store.index.embedded import EmbeddedBackend  # noqa: E402
from discovery.store.records import Records  # noqa: E402
from indexer.assets.indexing import index_assets  # noqa: E402
from indexer.assets.linking import link_products  # noqa: E402
from indexer.assets.pipeline import AssetReport, ingest_assets  # noqa: E402
from indexer.assets.sniff import serve_headers  # noqa: E402


@dataclass
class Env:
    root: Path
    records: Records
    blobs: FilesystemBlobStore
    backend: EmbeddedBackend

    def ingest(self, items: list[tuple[str, bytes | Path]], **kw: object) -> AssetReport:
        report = ingest_assets(records=self.records, blobs=self.blobs, backend=self.backend, items=items, **kw)  # type: ignore[arg-type]
        self.backend.refresh()
        return report

    def search(self, **kw: object) -> list[str]:
        result = self.backend.search(SearchQuery(types=("asset",), size=50, **kw))  # type: ignore[arg-type]
        return sorted(h.key for h in result.hits)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    records = Records.open(f"sqlite:///{tmp_path / 'store' / 'records.sqlite3'}")
    backend = EmbeddedBackend(tmp_path / "store" / "index", SearchSettings())
    backend.ensure_ready()
    yield Env(tmp_path, records, FilesystemBlobStore(tmp_path / "store" / "blobs"), backend)
    backend.close()
    records.close()


def _product_jpeg(seed: int, colour: str = "red") -> bytes:
    return encode(draw_product(seed, colour=colour, scene=False, size=320)[0], "JPEG", quality=88)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_hostile_files_are_rejected_with_reasons_and_the_rest_of_the_batch_ingested(env: Env) -> None:
    report = env.ingest([
        ("bomb.png", decompression_bomb_png()),
        ("cut.jpg", truncated_jpeg()),
        ("page.jpg", html_as_jpg()),
        ("../../etc/passwd.png", png()),
        ("bomb.zip", zip_bomb(entries=1, size=8 << 20)),
        ("funny.gif", gif_js_polyglot()),
        ("shoe.jpg", _product_jpeg(1)),
        ("lookbook.pdf", text_pdf(["Spring lookbook"])),
    ])  # fmt: skip
    reasons = {str(r["file"]): str(r["reason"]) for r in report.rejects}
    assert "decompression bomb" in reasons["bomb.png"]
    assert "truncated" in reasons["cut.jpg"]
    assert "markup" in reasons["page.jpg"]
    assert "path traversal" in reasons["../../etc/passwd.png"]
    assert "zip bomb" in reasons["bomb.zip"]
    assert report.counts == {"received": 8, "indexed": 3, "rejected": 5, "duplicates": 0}
    assert len(env.search()) == 3


def test_nothing_is_written_outside_the_store(env: Env) -> None:
    env.ingest([("../../etc/passwd.png", png()), ("../x.jpg", jpeg()), ("ok.png", png())])
    written = [p.relative_to(env.root).as_posix() for p in env.root.rglob("*") if p.is_file()]
    assert all(p.startswith("store/") for p in written)
    blobs = [p for p in written if p.startswith("store/blobs/") and not p.startswith("store/blobs/tmp/")]
    assert blobs and all(re.fullmatch(r"store/blobs/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", p) for p in blobs)
    assert not any("passwd" in p for p in written)


def test_the_polyglot_is_stored_only_as_the_image_it_is(env: Env) -> None:
    report = env.ingest([("evil.js", gif_js_polyglot())])
    asset = env.records.get_asset(report.asset_ids[0])
    assert asset is not None and asset.media_type == "image/gif" and asset.filename == "evil.js"
    assert serve_headers(asset.media_type)["X-Content-Type-Options"] == "nosniff"
    with env.blobs.open(asset.renditions["thumbnail"]) as fh:
        thumb = fh.read()
    assert thumb[8:12] == b"WEBP" and b"alert" not in thumb


def test_an_asset_carries_facts_metadata_and_an_eager_thumbnail(env: Env) -> None:
    report = env.ingest([("red-shoe.jpg", _product_jpeg(3))], collection="spring")
    asset = env.records.get_asset(report.asset_ids[0])
    assert asset is not None
    assert (asset.width, asset.height, asset.orientation, asset.background) == (320, 320, "square", "white")
    assert asset.colors[0]["name"] == "red" and asset.phash and len(asset.phash) == 16
    assert asset.collections == ["spring"] and len(asset.id) == 32 and asset.id != asset.sha256
    assert set(asset.renditions) == {"thumbnail", "thumbnail.stamp"}
    assert env.search(filters={"colors": ("red",), "background": ("white",)}) == [asset.id]


def test_pdf_text_is_searchable(env: Env) -> None:
    report = env.ingest([("guide.pdf", text_pdf(["Waterproof jacket care guide"]))])
    assert env.search(text="waterproof") == report.asset_ids


def test_the_same_bytes_again_make_no_new_blob_and_no_new_version(env: Env) -> None:
    first = env.ingest([("a.jpg", _product_jpeg(4))])
    blobs_before = sorted(env.blobs.keys())
    again = env.ingest([("copy-of-a.jpg", _product_jpeg(4))], collection="archive")
    assert (again.duplicates, again.indexed, again.asset_ids) == (1, 0, [])
    assert sorted(env.blobs.keys()) == blobs_before
    asset = env.records.get_asset(first.asset_ids[0])
    assert asset is not None and len(asset.versions) == 1
    assert asset.collections == ["archive"]  # the upload still files it


def test_a_new_file_for_an_existing_asset_adds_a_version(env: Env) -> None:
    first = env.ingest([("hero.jpg", _product_jpeg(5, "red"))], actor="ana")
    asset_id = first.asset_ids[0]
    second = env.ingest([("hero-v2.jpg", _product_jpeg(6, "blue"))], actor="bob", versions_of={"hero-v2.jpg": asset_id})
    assert (second.versions, second.indexed) == (1, 1)
    asset = env.records.get_asset(asset_id)
    assert asset is not None
    assert [v["by"] for v in asset.versions] == ["ana", "bob"]
    assert asset.sha256 == asset.versions[-1]["sha256"] != asset.versions[0]["sha256"]
    assert asset.colors[0]["name"] == "blue"
    assert env.search(filters={"colors": ("blue",)}) == [asset_id]  # search shows the current version
    same = env.ingest([("hero-v2.jpg", _product_jpeg(6, "blue"))], versions_of={"hero-v2.jpg": asset_id})
    assert (same.duplicates, same.versions) == (1, 0)
    assert len(env.records.get_asset(asset_id).versions) == 2  # type: ignore[union-attr]


def test_a_file_named_like_an_asset_of_the_collection_becomes_its_new_version(env: Env) -> None:
    first = env.ingest([("banner.png", png(colour=(200, 0, 0)))], collection="home")
    other = env.ingest([("banner.png", png(colour=(0, 200, 0)))], collection="sale")
    again = env.ingest([("banner.png", png(colour=(0, 0, 200)))], collection="home", version_by_filename=True)
    assert again.versions == 1 and again.asset_ids == first.asset_ids
    assert len(env.records.get_asset(other.asset_ids[0]).versions) == 1  # type: ignore[union-attr]


def test_links_by_manifest_image_ref_and_filename_rule_with_ambiguous_reported(env: Env, tmp_path: Path) -> None:
    env.records.upsert_products([
        Product(sku="MH01", name="Hoodie", image_refs=["/m/h/mh01-black_main.jpg"]),
        Product(sku="24-MB01", name="Bag"), Product(sku="24-MB02", name="Bag 2"), Product(sku="25-MB02", name="Bag 3"),
        Product(sku="WS05", name="Tee"),
    ])  # fmt: skip
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "sku,file,license,credit,expires_at,channels\n"
        "WS05,tee-hero.jpg,CC-BY,Ana,2020-01-31,web\n"
        "WS05,lookbook.jpg,,,,\n"
        "MH01,not-uploaded.jpg,,,,\n"
    )
    shoot = zip_of({"day1/lookbook.jpg": _product_jpeg(10), "day2/lookbook.jpg": _product_jpeg(11)})
    report = env.ingest(
        [("mh01-black_main.jpg", _product_jpeg(7)), ("mb01-blue-0.jpg", _product_jpeg(8, "blue")),
         ("mb02-red.jpg", _product_jpeg(9)), ("tee-hero.jpg", _product_jpeg(12)), ("shoot.zip", shoot)],
        manifest=manifest,
    )  # fmt: skip
    by_name = {a.filename: a for batch in env.records.iter_assets() for a in batch}
    assert by_name["mh01-black_main.jpg"].product_skus == [{"sku": "MH01", "how": "image_ref"}]
    assert by_name["mb01-blue-0.jpg"].product_skus == [
        {"sku": "24-MB01", "how": "filename_rule", "rule": "sku-colour-view", "color": "blue"}
    ]
    assert by_name["mb02-red.jpg"].product_skus == []
    hero = by_name["tee-hero.jpg"]
    assert hero.product_skus == [{"sku": "WS05", "how": "manifest"}]
    assert hero.rights == {
        "license": "CC-BY",
        "credit": "Ana",
        "expires_at": "2020-01-31T00:00:00",
        "channels": ["web"],
    }
    assert all(a.product_skus == [] for a in by_name.values() if a.filename == "lookbook.jpg")
    ambiguous = {(a["file"], a["how"]) for a in report.ambiguous}
    assert ambiguous == {("mb02-red.jpg", "filename_rule"), ("lookbook.jpg", "manifest")}
    assert any(w["file"] == "not-uploaded.jpg" and w["line"] == 4 for w in report.warnings)
    assert env.search(filters={"rights_status": ("expired",)}) == [hero.id]


def test_an_image_ref_naming_two_assets_is_ambiguous(env: Env) -> None:
    env.records.upsert_products([Product(sku="MH01", image_refs=["/m/h/front.jpg"])])
    first = env.ingest([("front.jpg", _product_jpeg(20))])
    second = env.ingest([("front.jpg", _product_jpeg(21))])
    assert env.records.get_asset(first.asset_ids[0]).product_skus == [{"sku": "MH01", "how": "image_ref"}]  # type: ignore[union-attr]
    assert env.records.get_asset(second.asset_ids[0]).product_skus == []  # type: ignore[union-attr]
    assert second.ambiguous[0]["how"] == "image_ref" and second.ambiguous[0]["candidates"] == sorted(
        first.asset_ids + second.asset_ids
    )


def test_embedded_vectors_go_to_the_records_and_the_index(env: Env) -> None:
    seen: list[int] = []

    def embed(images: list[Image.Image]) -> tuple[np.ndarray, str]:
        seen.extend(max(i.size) for i in images)
        rng = np.random.default_rng(len(seen))
        vecs = rng.normal(size=(len(images), 8)).astype(np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True), "fake-clip@1"

    progress: list[int] = []
    report = env.ingest(
        [(f"p{i}.jpg", _product_jpeg(30 + i)) for i in range(5)], embed=embed, batch_size=2,
        progress=lambda r: progress.append(r.indexed),
    )  # fmt: skip
    assert report.indexed == 5 and progress == [2, 4, 5]
    assert all(side >= 256 for side in seen)
    target = asset_doc_id(report.asset_ids[0])
    model, vector, digest = env.records.get_vectors("image_vector", [target])[target]
    assert model == "fake-clip@1" and digest == env.records.get_asset(report.asset_ids[0]).sha256  # type: ignore[union-attr]
    nearest = env.backend.knn(vector.tolist(), field="image_vector", model="fake-clip@1", k=1)
    assert nearest[0].id == target


def test_a_failing_embedder_leaves_the_assets_stored_and_reported(env: Env) -> None:
    def embed(images: list[Image.Image]) -> tuple[np.ndarray, str]:
        raise RuntimeError("GPU fell over")

    report = env.ingest([("a.jpg", jpeg())], embed=embed)
    assert report.indexed == 1 and "not embedded" in str(report.warnings[0]["reason"])


def test_products_arriving_after_their_assets_link_them_too(env: Env) -> None:
    report = env.ingest([("mh01-black_main.jpg", _product_jpeg(40)), ("mb07-green.jpg", _product_jpeg(41, "green"))])
    assert all(env.records.get_asset(i).product_skus == [] for i in report.asset_ids)  # type: ignore[union-attr]
    products = [Product(sku="MH01-XS-Black", image_refs=["/m/h/mh01-black_main.jpg"]), Product(sku="24-MB07")]
    env.records.upsert_products(products)
    changed, report = link_products(env.records, products)
    assert index_assets(env.records, env.backend, changed) == {}
    assert sorted((e["outcome"], e["sku"], e["how"]) for e in report) == [
        ("linked", "24-MB07", "filename_rule"),
        ("linked", "MH01-XS-Black", "image_ref"),
    ]
    env.backend.refresh()
    links = {a.filename: a.product_skus for a in changed}
    assert links == {
        "mh01-black_main.jpg": [{"sku": "MH01-XS-Black", "how": "image_ref"}],
        "mb07-green.jpg": [{"sku": "24-MB07", "how": "filename_rule", "rule": "sku-colour-view", "color": "green"}],
    }
    green = next(a.id for a in changed if a.filename == "mb07-green.jpg")
    assert env.search(filters={"product_skus": ("24-MB07",)}) == [green]


def _suggested(env: Env, asset_id: str) -> list[str]:
    asset = env.records.get_asset(asset_id)
    assert asset is not None
    return [t.name for t in asset.tags if t.name.startswith("link:") and t.status == "suggested"]


def test_a_product_whose_export_names_its_images_gets_no_filename_rule_link_only_a_suggestion(env: Env) -> None:
    env.records.upsert_products([
        Product(sku="WB02", name="Sports bra", image_refs=["/w/b/wb02-blue_main.jpg"]),
        Product(sku="ASH-000004", name="Hoodie"),
    ])  # fmt: skip
    report = env.ingest([
        ("wb02-blue_main.jpg", _product_jpeg(50, "blue")), ("wb02-green-0.jpg", _product_jpeg(51, "green")),
        ("ASH-000004-side.png", _product_jpeg(52)),
    ])  # fmt: skip
    by_name = {a.filename: a for batch in env.records.iter_assets() for a in batch}
    assert by_name["wb02-blue_main.jpg"].product_skus == [{"sku": "WB02", "how": "image_ref"}]
    bag = by_name["wb02-green-0.jpg"]
    assert bag.product_skus == [] and _suggested(env, bag.id) == ["link:WB02"]
    assert [x["sku"] for x in by_name["ASH-000004-side.png"].product_skus] == ["ASH-000004"]
    outcomes = sorted((e["outcome"], e["file"], e["sku"], e["how"]) for e in report.links)
    assert outcomes == [
        ("linked", "ASH-000004-side.png", "ASH-000004", "filename_rule"),
        ("linked", "wb02-blue_main.jpg", "WB02", "image_ref"),
        ("suggested", "wb02-green-0.jpg", "WB02", "filename_rule"),
    ]
    assert "names its images explicitly" in str(next(e for e in report.links if e["outcome"] == "suggested")["reason"])


def test_an_earlier_filename_rule_link_becomes_a_suggestion_once_the_product_names_its_images(env: Env) -> None:
    env.records.upsert_products([Product(sku="WB03", name="Sports bra")])
    files = [("wb03-purple-0.jpg", _product_jpeg(53, "purple")), ("wb03-green_main.jpg", _product_jpeg(54, "green"))]
    report = env.ingest(files)
    assert all(env.records.get_asset(i).product_skus for i in report.asset_ids)  # type: ignore[union-attr]
    named = Product(sku="WB03", name="Sports bra", image_refs=["wb03-green_main.jpg"])
    env.records.upsert_products([named])
    changed, links = link_products(env.records, [named])
    index_assets(env.records, env.backend, changed)
    by_name = {a.filename: a for batch in env.records.iter_assets() for a in batch}
    assert by_name["wb03-green_main.jpg"].product_skus == [{"sku": "WB03", "how": "image_ref"}]
    bag = by_name["wb03-purple-0.jpg"]
    assert bag.product_skus == [] and _suggested(env, bag.id) == ["link:WB03"]
    assert ("suggested", "wb03-purple-0.jpg") in [(e["outcome"], e["file"]) for e in links]


def test_an_import_may_turn_the_filename_rule_off_or_give_its_own_pattern(env: Env) -> None:
    from indexer.assets.links import rules_for

    env.records.upsert_products([Product(sku="UIX-0001"), Product(sku="KES-000012")])
    off = env.ingest([("uix-0001-red_main.png", _product_jpeg(55))], rules=rules_for("none"))
    assert env.records.get_asset(off.asset_ids[0]).product_skus == [] and off.links == []  # type: ignore[union-attr]
    pattern = rules_for("filename", r".*- (?P<sku>\S+)\.jpg$")
    own = env.ingest([("shoot 12 - KES000012.jpg", _product_jpeg(56))], rules=pattern)
    assert [x["sku"] for x in env.records.get_asset(own.asset_ids[0]).product_skus] == ["KES-000012"]  # type: ignore[union-attr]


def test_a_known_file_uploaded_again_under_a_sku_name_keeps_the_suggested_link(env: Env) -> None:
    env.records.upsert_products([Product(sku="WB05", image_refs=["wb05-red_main.jpg"])])
    data = _product_jpeg(57)
    first = env.ingest([("plain.jpg", data)])
    again = env.ingest([("WB05-side.jpg", data)])
    assert again.duplicates == 1 and [e["outcome"] for e in again.links] == ["suggested"]
    assert _suggested(env, first.asset_ids[0]) == ["link:WB05"]


def test_an_upload_touching_a_stored_asset_keeps_what_others_wrote_to_it_meanwhile(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = env.ingest([("tote.jpg", _product_jpeg(58))])
    asset_id = first.asset_ids[0]
    read = env.records.assets_by_sha256

    def read_then_others_write(sha256: str) -> list[Asset]:
        found = read(sha256)  # the upload's read; a reviewer and an editor act before it writes
        monkeypatch.undo()
        fresh = env.records.get_asset(asset_id)
        assert fresh is not None
        decided = Tag(name="style:calm", status="accepted", decided_by="rev")
        env.records.tags.apply([(fresh, [*fresh.tags, decided])], [("rev", "tag.accept", f"asset:{asset_id}", {})])

        def retitle(asset: Asset) -> bool:
            asset.title, asset.collections = "Canvas tote", [*asset.collections, "summer"]
            return True

        env.records.edits.asset(asset_id, retitle)
        return found

    monkeypatch.setattr(env.records, "assets_by_sha256", read_then_others_write)
    again = env.ingest([("tote-copy.jpg", _product_jpeg(58))], collection="archive")
    assert again.duplicates == 1
    stored = env.records.get_asset(asset_id)
    assert stored is not None
    assert ("style:calm", "accepted") in [(t.name, t.status) for t in stored.tags]
    assert stored.title == "Canvas tote"
    assert sorted(stored.collections) == ["archive", "summer"]
