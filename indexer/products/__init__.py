"""Product imports: streaming readers, declarative mappings, normalisation, variants,
validation and per-channel completeness. `import_products` runs the whole pipeline."""

from indexer.products.completeness import ChannelSpec, completeness, load_channels, parse_channels
from indexer.products.importrun import ImportRun
from indexer.products.mapping_spec import MappingError, list_mappings, load_mapping, parse_mapping, save_mapping
from indexer.products.pipeline import import_products, survey
from indexer.products.readers import ReadLimits
from indexer.products.refresh import recompute_completeness, refresh_completeness_if_stale
from indexer.products.report import ImportReport, Reject

__all__ = [
    "ChannelSpec",
    "ImportReport",
    "ImportRun",
    "MappingError",
    "ReadLimits",
    "Reject",
    "completeness",
    "import_products",
    "list_mappings",
    "load_channels",
    "load_mapping",
    "parse_channels",
    "parse_mapping",
    "recompute_completeness",
    "refresh_completeness_if_stale",
    "save_mapping",
    "survey",
]
