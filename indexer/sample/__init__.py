"""A deterministic sample catalog (products, pictures, ground truth) for the demo, tests and benchmarks.

Public entry: `indexer.sample_catalog.generate_catalog` (also `python -m indexer.sample_catalog`).
"""

from indexer.sample.catalog import CatalogInfo, generate_catalog
from indexer.sample.gallery import ImageTruth
from indexer.sample.palette import PALETTE, nearest_colour

__all__ = ["PALETTE", "CatalogInfo", "ImageTruth", "generate_catalog", "nearest_colour"]
