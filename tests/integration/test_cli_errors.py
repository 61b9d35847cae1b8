"""`discovery ingest products` errors: one line on stderr and a non-zero exit, never a
traceback (the real command, in a subprocess, on a temporary data dir)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "products"
DISCOVERY = Path(sys.executable).parent / "discovery"


def ingest(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DISCOVERY_DATA_DIR": str(data_dir), "DISCOVERY_TEXT__ENABLED": "false"}
    env.pop("DISCOVERY_REDIS_URL", None)
    return subprocess.run(
        [str(DISCOVERY), "ingest", "products", *args], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT
    )


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_an_unknown_mapping_is_one_line_listing_the_known_ones(tmp_path: Path) -> None:
    done = ingest(tmp_path / "var", str(FIXTURES / "shopify_products.csv"), "--mapping", "shopfiy")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "no mapping named 'shopfiy'" in line and "akeneo, magento2, shopify" in line


@pytest.mark.parametrize("mapping", [None, "akeneo"])
def test_a_shopify_export_without_its_mapping_is_refused_before_import(tmp_path: Path, mapping: str | None) -> None:
    chosen = ["--mapping", mapping] if mapping else []
    done = ingest(tmp_path / "var", str(FIXTURES / "shopify_products.csv"), *chosen)
    assert done.returncode == 2
    assert one_line(done.stderr) == "error: shopify_products.csv looks like a shopify export: add --mapping shopify"
    assert not (tmp_path / "var" / "blobs").exists() or not any((tmp_path / "var" / "blobs").rglob("*.*"))


def test_a_header_no_mapping_fits_names_its_columns(tmp_path: Path) -> None:
    data = tmp_path / "odd.csv"
    data.write_text("ref,label\n1,Tee\n")
    done = ingest(tmp_path / "var", str(data))
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "odd.csv: no column gives a SKU under the default mapping (columns: ref, label)" in line


def test_a_job_that_rejected_every_row_exits_non_zero(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("sku,name,price,currency\nA,Tee,ten,EUR\nB,Mug,n/a,EUR\n")
    done = ingest(tmp_path / "var", str(data))
    assert done.returncode == 1, done.stderr
    assert "error: no product imported: all 2 rows were rejected" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_good_import_exits_zero(tmp_path: Path) -> None:
    data = tmp_path / "good.csv"
    shutil.copy(FIXTURES / "magento2_products.csv", data)
    done = ingest(tmp_path / "var", str(data), "--mapping", "magento2")
    assert done.returncode == 0, done.stderr
