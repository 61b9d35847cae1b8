"""The sample catalog: deterministic rows with canonical fields, pictures whose truth holds."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.sample_catalog import PALETTE, CatalogInfo, generate_catalog, main, nearest_colour

COLOURS = set(PALETTE)


def read_rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_manifest(info: CatalogInfo) -> set[tuple[str, str]]:
    with info.manifest_csv.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["sku", "file"]
        return {(sku, name) for sku, name in reader}


def image_names(row: dict[str, object]) -> list[str]:
    names = row.get("image")
    assert isinstance(names, list)
    return [str(name) for name in names]


def pixels(path: Path, size: int = 64) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB").resize((size, size)), dtype=np.int16)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> CatalogInfo:
    """A small catalog at the real picture size, shared by the read-only tests."""
    return generate_catalog(tmp_path_factory.mktemp("sample"), products=60, seed=11, formats=("jsonl", "csv"))


@pytest.fixture(scope="module")
def rows(catalog: CatalogInfo) -> list[dict[str, object]]:
    assert catalog.products_jsonl is not None
    return read_rows(catalog.products_jsonl)


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    first = generate_catalog(tmp_path / "a", products=25, seed=3, image_size=128, near_duplicates=0.2)
    second = generate_catalog(tmp_path / "b", products=25, seed=3, image_size=128, near_duplicates=0.2)
    names = sorted(p.relative_to(first.out_dir) for p in first.out_dir.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second.out_dir) for p in second.out_dir.rglob("*") if p.is_file())
    assert len(names) > 25
    for name in names:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


def test_another_seed_gives_another_catalog(tmp_path: Path) -> None:
    one = generate_catalog(tmp_path / "a", products=10, seed=1, images=False)
    two = generate_catalog(tmp_path / "b", products=10, seed=2, images=False)
    assert one.products_jsonl is not None and two.products_jsonl is not None
    assert one.products_jsonl.read_bytes() != two.products_jsonl.read_bytes()


def test_rows_do_not_depend_on_whether_pictures_are_drawn(tmp_path: Path, rows: list[dict[str, object]]) -> None:
    bare = generate_catalog(tmp_path, products=60, seed=11, images=False)
    assert bare.products_jsonl is not None
    assert read_rows(bare.products_jsonl) == [{k: v for k, v in row.items() if k != "image"} for row in rows]


def test_counts_match_the_files(catalog: CatalogInfo, rows: list[dict[str, object]]) -> None:
    assert len(rows) == catalog.rows == catalog.products + catalog.variants
    assert sum(1 for row in rows if "parent_sku" not in row) == catalog.products == 60
    assert catalog.images_dir is not None
    assert len(list(catalog.images_dir.iterdir())) == catalog.images == len(catalog.truth)
    assert sum(1 for t in catalog.truth.values() if t.near_duplicate_of) == catalog.near_duplicates


def test_rows_carry_the_canonical_fields(rows: list[dict[str, object]]) -> None:
    for row in rows:
        for key in ("sku", "name", "description", "brand", "categories", "price", "currency", "status", "channels"):
            assert key in row, (key, row["sku"])
        assert isinstance(row["price"], float) and row["price"] > 0
        assert row["currency"] == "EUR"
        assert row["status"] in {"approved", "in_review", "draft"}
        assert isinstance(row["channels"], list) and set(row["channels"]) <= {"web", "marketplace"}
        assert isinstance(row["categories"], list) and all(str(c).count("/") >= 1 for c in row["categories"])
        assert str(row["description"]).startswith("<p>")
    assert len({row["brand"] for row in rows}) >= 8
    assert any("name-fr_FR" in row for row in rows)
    assert len({row["sku"] for row in rows}) == len(rows)


def test_variants_name_an_existing_parent_and_carry_their_own_colour_and_size(rows: list[dict[str, object]]) -> None:
    parents = {row["sku"]: row for row in rows if "parent_sku" not in row}
    variants = [row for row in rows if "parent_sku" in row]
    assert variants
    for variant in variants:
        parent = parents[variant["parent_sku"]]
        assert variant["color"] in COLOURS and variant["size"]
        assert "color" not in parent and "size" not in parent
        assert float(parent["price"]) <= float(variant["price"])  # type: ignore[arg-type]
    groups = {str(v["parent_sku"]) for v in variants}
    assert all(2 <= sum(v["parent_sku"] == sku for v in variants) <= 4 for sku in groups)
    assert 0.15 <= len(groups) / len(parents) <= 0.5  # about 30% of the products have variants
    simple = [row for sku, row in parents.items() if sku not in groups]
    assert all(row["color"] in COLOURS and row["size"] for row in simple)


def test_every_products_images_exist_and_are_in_the_manifest(
    catalog: CatalogInfo, rows: list[dict[str, object]]
) -> None:
    assert catalog.images_dir is not None
    manifest = read_manifest(catalog)
    for row in rows:
        images = row["image"]
        assert isinstance(images, list) and images, row["sku"]
        for name in images:
            assert (catalog.images_dir / name).is_file()
            assert (row["sku"], name) in manifest
    assert {name for _, name in manifest} == set(catalog.truth)


def test_a_variant_shows_its_colour_and_its_parent_shows_every_colour(
    catalog: CatalogInfo, rows: list[dict[str, object]]
) -> None:
    images = {row["sku"]: set(image_names(row)) for row in rows}
    for row in rows:
        if "parent_sku" in row:
            assert {catalog.truth[name].color for name in images[row["sku"]]} == {row["color"]}
            assert images[row["sku"]] <= images[row["parent_sku"]]


def test_truth_file_describes_every_picture(catalog: CatalogInfo) -> None:
    truth = json.loads(catalog.truth_json.read_text(encoding="utf-8"))
    assert set(truth) == set(catalog.truth)
    backgrounds = set()
    for name, entry in truth.items():
        assert entry["color"] in COLOURS
        assert entry["background"] in {"white", "scene"}
        assert entry["sku"] == catalog.truth[name].sku
        assert name.startswith(entry["sku"].lower() + "-" + entry["color"] + "_")
        backgrounds.add(entry["background"])
    assert backgrounds == {"white", "scene"}


def test_centre_pixel_of_every_picture_is_its_named_colour(catalog: CatalogInfo) -> None:
    assert catalog.images_dir is not None
    for name, truth in catalog.truth.items():
        with Image.open(catalog.images_dir / name) as image:
            centre = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
        assert nearest_colour(centre) == truth.color, name  # type: ignore[arg-type]


def test_white_backgrounds_have_white_borders_and_scenes_do_not(catalog: CatalogInfo) -> None:
    assert catalog.images_dir is not None
    for name, truth in catalog.truth.items():
        with Image.open(catalog.images_dir / name) as image:
            grid = np.asarray(image.convert("RGB"), dtype=np.int16)
        border = np.concatenate([grid[0], grid[-1], grid[:, 0], grid[:, -1]])
        white_share = float((border.min(axis=1) > 235).mean())
        # All white: the object never touches the frame, so its outline closes it off.
        assert white_share == 1.0 if truth.background == "white" else white_share < 0.5, (name, white_share)


def test_the_object_is_the_largest_region_of_its_colour(catalog: CatalogInfo) -> None:
    assert catalog.images_dir is not None
    palette = np.array(list(PALETTE.values()), dtype=np.int32)
    names = list(PALETTE)
    for name, truth in catalog.truth.items():
        flat = pixels(catalog.images_dir / name).reshape(-1, 3).astype(np.int32)
        nearest = ((flat[:, None, :] - palette[None]) ** 2).sum(axis=2).argmin(axis=1)
        shares = np.bincount(nearest, minlength=len(names)) / len(nearest)
        if truth.background == "white" and truth.color != "white":
            shares[names.index("white")] = 0
        assert names[int(shares.argmax())] == truth.color, name
        assert shares[names.index(truth.color)] > 0.15, name


def test_near_duplicates_are_named_after_and_closest_to_their_original(tmp_path: Path) -> None:
    info = generate_catalog(tmp_path, products=30, seed=5, image_size=256, near_duplicates=0.25)
    assert info.images_dir is not None
    pairs = {name: t.near_duplicate_of for name, t in info.truth.items() if t.near_duplicate_of}
    assert len(pairs) >= 5
    grids = {name: pixels(info.images_dir / name, 32) for name in info.truth}
    for dup, original in pairs.items():
        assert dup == original.rsplit(".", 1)[0] + "_dup.jpg"
        assert info.truth[dup].sku == info.truth[original].sku
        distances = {name: float(np.abs(grid - grids[dup]).mean()) for name, grid in grids.items() if name != dup}
        assert min(distances, key=distances.__getitem__) == original
        assert distances[original] < 6


def test_csv_holds_the_same_rows_with_joined_lists(catalog: CatalogInfo, rows: list[dict[str, object]]) -> None:
    assert catalog.products_csv is not None
    with catalog.products_csv.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert line["sku"] == row["sku"] and line["name"] == row["name"]
        assert line["categories"].split("|") == row["categories"]
        assert line["image"].split("|") == row["image"]
        assert float(line["price"]) == row["price"]
        assert line["color"] == row.get("color", "") and line["material"] == row["material"]
        assert line["parent_sku"] == row.get("parent_sku", "")


def test_sample_words_find_products_by_name(catalog: CatalogInfo, rows: list[dict[str, object]]) -> None:
    assert len(catalog.sample_words) >= 5
    for word in catalog.sample_words:
        assert any(word in str(row["name"]).lower().split() for row in rows), word


def test_max_images_gives_pictures_to_the_first_products_only(tmp_path: Path) -> None:
    info = generate_catalog(tmp_path, products=20, image_size=64, max_images=5, near_duplicates=0)
    assert info.products_jsonl is not None
    with_images = ["image" in row for row in read_rows(info.products_jsonl) if "parent_sku" not in row]
    assert 1 <= info.images <= 5
    assert with_images == sorted(with_images, reverse=True)  # a prefix of the catalog
    assert not with_images[-1]


def test_images_per_product_adds_alternate_views(tmp_path: Path) -> None:
    info = generate_catalog(tmp_path, products=5, image_size=64, images_per_product=3, near_duplicates=0)
    views = {name.rsplit("_", 1)[1].split(".")[0] for name in info.truth}
    assert views == {"main", "alt1", "alt2"}


def test_a_second_run_into_the_same_folder_replaces_the_pictures(tmp_path: Path) -> None:
    generate_catalog(tmp_path, products=12, image_size=64)
    info = generate_catalog(tmp_path, products=3, image_size=64)
    assert info.images_dir is not None
    assert {p.name for p in info.images_dir.iterdir()} == set(info.truth)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="formats"):
        generate_catalog(tmp_path, products=1, formats=("xml",))
    with pytest.raises(ValueError, match="near_duplicates"):
        generate_catalog(tmp_path, products=1, near_duplicates=2.0)
    with pytest.raises(ValueError, match="products"):
        generate_catalog(tmp_path, products=-1)


def test_command_line_writes_a_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "--products", "7", "--seed", "2", "--no-images", "--csv"]) == 0
    assert len(read_rows(tmp_path / "products.jsonl")) >= 7
    assert (tmp_path / "products.csv").is_file()
    assert not (tmp_path / "images").exists()
    assert "7 products" in capsys.readouterr().out


PEAK_MEMORY_SCRIPT = """
import resource, sys
from pathlib import Path
from indexer.sample_catalog import generate_catalog
info = generate_catalog(Path(sys.argv[1]), products=int(sys.argv[2]), images=False, formats=("jsonl", "csv"))
print(info.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _rows_and_peak_kib(out_dir: Path, products: int) -> tuple[int, int]:
    """Generate in a fresh interpreter, so its peak resident memory is the generator's alone."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY_SCRIPT, str(out_dir), str(products)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    rows, peak = done.stdout.split()
    return int(rows), int(peak)


def test_twenty_thousand_products_stream_to_disk_in_bounded_memory(tmp_path: Path) -> None:
    started = time.perf_counter()
    small_rows, small_peak = _rows_and_peak_kib(tmp_path / "small", 2_000)
    rows, peak = _rows_and_peak_kib(tmp_path / "large", 20_000)
    assert rows >= 20_000 and rows > 5 * small_rows
    written_kib = ((tmp_path / "large" / "products.jsonl").stat().st_size) // 1024
    # Ten times the rows, about the same memory: rows go to disk as they are made.
    assert peak - small_peak < written_kib / 10, (small_peak, peak, written_kib)
    assert time.perf_counter() - started < 60  # loose on purpose: speed targets live in bench/
