"""The search index: one `SearchBackend` contract, two engines."""

from __future__ import annotations

from discovery.config import Settings
from discovery.store.index.base import SearchBackend


def make_backend(settings: Settings) -> SearchBackend:
    """The engine the settings name. Engines are imported lazily: the embedded default
    never loads the OpenSearch client, and a deployment never opens tantivy."""
    if settings.backend == "opensearch":
        from discovery.store.index.opensearch import OpenSearchBackend
        from discovery.store.index.opensearch_mapping import IndexShape

        return OpenSearchBackend(
            url=settings.opensearch_url,
            prefix=settings.index_prefix,
            search=settings.search,
            shape=IndexShape(shards=settings.opensearch_shards, replicas=settings.opensearch_replicas),
        )
    from discovery.store.index.embedded import EmbeddedBackend

    return EmbeddedBackend(path=settings.index_dir / settings.index_prefix, search=settings.search)
