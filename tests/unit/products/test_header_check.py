"""An export whose header gives no SKU under the chosen mapping is refused before import,
naming the shipped mapping it looks like."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.errors import RejectedInput
from indexer.products.header_check import check_header

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "products"


@pytest.mark.parametrize(
    ("file", "mapping", "fits"),
    [
        ("shopify_products.csv", None, "a shopify"),
        ("shopify_products.csv", "magento2", "a shopify"),
        ("akeneo_products.csv", "magento2", "an akeneo"),  # `;`-delimited: one column read as `,`
    ],
)
def test_a_header_without_a_sku_names_the_mapping_it_looks_like(file: str, mapping: str | None, fits: str) -> None:
    name = fits.split()[1]
    with pytest.raises(RejectedInput, match=f"^{file} looks like {fits} export: add --mapping {name}$"):
        check_header(FIXTURES / file, mapping)


@pytest.mark.parametrize(
    ("file", "mapping"),
    [("shopify_products.csv", "shopify"), ("magento2_products.csv", "magento2"), ("akeneo_products.csv", "akeneo")],
)
def test_each_shipped_export_passes_under_its_own_mapping(file: str, mapping: str) -> None:
    check_header(FIXTURES / file, mapping)


def test_a_canonical_header_passes_under_the_default_mapping(tmp_path: Path) -> None:
    data = tmp_path / "p.csv"
    data.write_text("sku,name,price\nA,Tee,10\n")
    check_header(data, None)
