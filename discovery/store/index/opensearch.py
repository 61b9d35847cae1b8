"""The OpenSearch search engine: text, filters, facets and k-NN on one OpenSearch node or cluster.

Index versions are `{prefix}-v{N}` behind the alias `{prefix}`; every read and write goes
through the alias. `rebuild` fills `v{N+1}`, swaps the alias in one `_aliases` call, then
deletes the old version, so searches see the old documents or the new, never an empty or
partial index. The DSL lives in `opensearch_query` / `opensearch_search`, the layout in
`opensearch_mapping`, bulk writing in `opensearch_bulk`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from discovery.config import SearchSettings
from discovery.domain import DocType
from discovery.errors import GenerationMoved, InvalidQuery
from discovery.store.index import opensearch_bulk as bulk
from discovery.store.index import opensearch_knn as oknn
from discovery.store.index import opensearch_mapping as om
from discovery.store.index import opensearch_search as osearch
from discovery.store.index.base import (
    BulkReport,
    IndexDoc,
    ItemOutcome,
    Range,
    ScoredId,
    SearchQuery,
    SearchResult,
    VectorField,
)
from discovery.store.index.documents import check_fields
from discovery.store.index.opensearch_calls import call, is_unavailable

T = TypeVar("T")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class OpenSearchBackend:
    """`SearchBackend` on OpenSearch; see the module docstring."""

    name = "opensearch"

    def __init__(
        self,
        url: str,
        prefix: str,
        search: SearchSettings,
        *,
        limits: bulk.BulkLimits | None = None,
        shape: om.IndexShape = om.IndexShape(),
    ) -> None:
        if not _PREFIX.match(prefix):
            raise ValueError(f"index prefix {prefix!r} must be lowercase letters, digits, '_', '-' or '.'")
        self.alias = prefix
        self._search_settings = search
        self._limits = limits or bulk.BulkLimits()
        self._shape = shape
        hosts = [u.strip() for u in url.split(",") if u.strip()]
        # With several nodes, a request that finds a node gone (connection refused or reset) is
        # sent to the next one: writes carry their ids, so a repeat replaces, never duplicates.
        # One node: no retry here; `call` reports it unavailable and the job retries later.
        self._client = OpenSearch(hosts=hosts, timeout=30, max_retries=len(hosts) - 1, retry_on_timeout=False)
        self._ready = False  # the alias is known to exist (writes to a missing one would create an index)

    # -- lifecycle -----------------------------------------------------------------------

    def _versions(self) -> dict[str, bool]:
        """Every version index of this prefix, and whether it holds the alias."""
        found = call(lambda: self._client.indices.get_alias(index=f"{self.alias}-v*"))
        return {
            name: self.alias in (info.get("aliases") or {})
            for name, info in found.items()
            if _version_of(self.alias, name) is not None
        }

    def ensure_ready(self) -> None:
        versions = self._versions()
        self._ready = True
        if any(versions.values()):
            return
        if versions:  # versions without the alias: a crash between build and swap; serve the newest
            newest = max(versions, key=lambda n: _version_of(self.alias, n) or 0)
            actions = [{"add": {"index": newest, "alias": self.alias}}]
            call(lambda: self._client.indices.update_aliases(body={"actions": actions}))
            return
        body = {"settings": om.index_settings(self._shape), "mappings": om.mappings(), "aliases": {self.alias: {}}}
        try:
            call(lambda: self._client.indices.create(index=f"{self.alias}-v1", body=body))
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":  # another process won the race
                raise

    def ping(self) -> str | None:
        try:
            self._client.info()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return f"{type(exc).__name__}: {exc}"
        return None

    def warm_up(self) -> None:
        """Nothing to start: OpenSearch loads its k-NN graphs itself."""

    def warming(self) -> list[str]:
        return []

    def close(self) -> None:
        self._client.close()

    def drop(self) -> None:
        """Delete every index version of this prefix (and with them the alias)."""
        for name in self._versions():
            self._delete_index(name)

    def unserved_versions(self, *, min_age_s: float) -> list[str]:
        """Version indices that do not hold the alias and were created at least `min_age_s`
        ago: left by a rebuild that died before its swap (`rebuild` deletes the old version
        itself once the alias moved). A younger one may be a rebuild in progress."""
        versions = self._versions()
        idle = [name for name, holds in versions.items() if not holds]
        if not idle or not any(versions.values()):
            return []  # no alias at all: `ensure_ready` serves the newest, not ours to judge
        found = call(lambda: self._client.indices.get_settings(index=",".join(idle), name="index.creation_date"))
        now_ms = time.time() * 1000
        return sorted(
            name for name, info in found.items()
            if now_ms - int(info["settings"]["index"]["creation_date"]) >= min_age_s * 1000
        )  # fmt: skip

    def drop_version(self, name: str) -> None:
        """Delete one version index that does not hold the alias."""
        if self._versions().get(name, True):
            raise ValueError(f"{name} is not an unserved version of {self.alias}")
        self._delete_index(name)

    def _delete_index(self, name: str) -> None:
        call(lambda: self._client.indices.delete(index=name, params={"ignore_unavailable": "true"}))

    # -- writes --------------------------------------------------------------------------

    def upsert(self, docs: Iterable[IndexDoc], *, refresh: bool = False) -> BulkReport:
        self._ensure_once()
        return self._write(self.alias, self._index_actions(self.alias, docs), refresh=refresh)

    def delete(self, ids: Sequence[str], *, refresh: bool = False) -> BulkReport:
        self._ensure_once()
        actions = (_action("delete", doc_id) for doc_id in ids)
        # A missing id is not an error: its delete answers 404 "not_found".
        return self._write(self.alias, actions, refresh=refresh, missing_ok=True)

    def _ensure_once(self) -> None:
        if not self._ready:
            self.ensure_ready()

    def refresh(self) -> None:
        call(lambda: self._client.indices.refresh(index=self.alias))

    def make_visible(self) -> None:
        """One explicit refresh of this index, now: unlike `refresh=wait_for` it does not wait
        for the next scheduled refresh (up to `refresh_interval`, 1 s), and other writers'
        requests are not held behind it."""
        self.refresh()

    def _write(
        self,
        index: str,
        actions: Iterable[bulk.Action | ItemOutcome],
        *,
        refresh: bool,
        missing_ok: bool = False,
    ) -> BulkReport:
        report, refreshed = bulk.write(
            actions, self._sender(index), refresh=refresh, limits=self._limits, missing_ok=missing_ok
        )
        if refresh and not refreshed:
            call(lambda: self._client.indices.refresh(index=index))
        return report

    def _sender(self, index: str) -> bulk.Sender:
        # Through the alias, require it: a bulk write to a missing index name creates one.
        base = {"require_alias": "true"} if index == self.alias else {}

        def send(body: bytes, refresh: str | None) -> Mapping[str, Any]:
            params = {**base, "refresh": refresh} if refresh else base

            def one_bulk() -> Mapping[str, Any]:
                try:
                    answer: Mapping[str, Any] = self._client.bulk(body=body, index=index, params=params)
                    return answer
                except TransportError as exc:
                    if exc.status_code == 429:
                        raise bulk.BusyError(str(exc)) from exc
                    raise

            return call(one_bulk)

        return send

    def _index_actions(self, index: str, docs: Iterable[IndexDoc]) -> Iterator[bulk.Action | ItemOutcome]:
        """Index actions; vector fields are added to the mapping when first seen, with the
        dimension of the first vector (OpenSearch then refuses other dimensions per item)."""
        dims: dict[str, int] | None = None
        for doc in docs:
            try:
                source = om.to_source(doc)
            except (ValueError, TypeError) as exc:
                yield ItemOutcome(doc.id, False, str(exc))
                continue
            for name in om.VECTOR_FIELDS:
                vector = getattr(doc, name)
                if vector is None:
                    continue
                if dims is None:
                    dims = self._vector_dims(index)
                if name not in dims:
                    self._add_vector_field(index, name, len(vector))
                    dims[name] = len(vector)
            yield _action("index", doc.id, source)

    def _vector_dims(self, index: str) -> dict[str, int]:
        found = call(lambda: self._client.indices.get_mapping(index=index))
        (mapping,) = (info["mappings"] for info in found.values())
        return om.vector_dims(mapping)

    def _add_vector_field(self, index: str, name: str, dim: int) -> None:
        body = {"properties": {name: om.vector_property(dim)}}
        call(lambda: self._client.indices.put_mapping(index=index, body=body))

    def rebuild(self, docs: Iterable[IndexDoc], *, fresh_vectors: Sequence[VectorField] = ()) -> BulkReport:
        self.ensure_ready()
        versions = self._versions()
        old = [name for name, holds in versions.items() if holds]
        number = max((_version_of(self.alias, n) or 0 for n in versions), default=0) + 1
        new = f"{self.alias}-v{number}"
        dims = self._vector_dims(old[0]) if old else {}
        dims = {name: dim for name, dim in dims.items() if name not in fresh_vectors}
        body = {"settings": om.index_settings(self._shape, refresh_interval="-1"), "mappings": om.mappings(dims)}
        call(lambda: self._client.indices.create(index=new, body=body))
        try:
            report = self._write(new, self._index_actions(new, docs), refresh=False)
            settings = {"index": {"refresh_interval": None}}
            call(lambda: self._client.indices.put_settings(index=new, body=settings))
            call(lambda: self._client.indices.refresh(index=new))
            actions = [{"remove": {"index": n, "alias": self.alias}} for n in old]
            actions.append({"add": {"index": new, "alias": self.alias}})
            call(lambda: self._client.indices.update_aliases(body={"actions": actions}))
        except BaseException:
            self._delete_index(new)
            raise
        for name in versions:  # the old version, and any left by a build that crashed
            self._delete_index(name)
        return report

    # -- reads ---------------------------------------------------------------------------

    def _read(self, fn: Callable[[], T]) -> T:
        """A read through the alias. The alias may be missing (never made ready) or may have
        just moved, deleting the index a search had resolved: make ready and retry once."""
        try:
            return call(fn)
        except NotFoundError:
            self.ensure_ready()
            return call(fn)

    def _search_body(self, body: Mapping[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._read(lambda: self._client.search(index=self.alias, body=body))
        return answer

    def search(self, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        p = osearch.plan(query)
        facet_errors: dict[str, str] = {}
        try:
            response = self._search_body(p.body)
            aggs = response.get("aggregations", {})
        except (RequestError, TransportError) as exc:
            if "aggs" not in p.body or is_unavailable(exc):
                raise
            # Facets degrade, they don't fail: hits alone, then each facet on its own.
            body = {k: v for k, v in p.body.items() if k != "aggs"}
            response = self._search_body(body)
            aggs, facet_errors = self._facets_one_by_one(p)
        facets = {
            name: osearch.read_facet(aggs[osearch.facet_agg_name(name)], p.selected.get(name, ()))
            for name in p.facets
            if osearch.facet_agg_name(name) in aggs
        }
        total = response["hits"]["total"]
        return SearchResult(
            total=int(total["value"]),
            total_is_lower_bound=total.get("relation") == "gte",
            hits=osearch.read_hits(p, response),
            facets=facets,
            facet_errors=facet_errors,
            took_ms=(time.perf_counter() - started) * 1000,
        )

    def _facets_one_by_one(self, p: osearch.Plan) -> tuple[dict[str, Any], dict[str, str]]:
        aggs: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in p.facets:
            agg_name = osearch.facet_agg_name(name)
            body = {"query": p.body["query"], "size": 0, "aggs": {agg_name: p.body["aggs"][agg_name]}}
            try:
                answer = self._search_body(body)
                aggs[agg_name] = answer["aggregations"][agg_name]
            except TransportError as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
        return aggs, errors

    def knn(
        self,
        vector: Sequence[float],
        *,
        field: VectorField,
        model: str,
        k: int,
        types: tuple[DocType, ...] = ("asset",),
        filters: Mapping[str, tuple[str, ...]] | None = None,
        ranges: Mapping[str, Range] | None = None,
        min_score: float | None = None,
        exclude_ids: Sequence[str] = (),
        strict_model: bool = False,
    ) -> list[ScoredId]:
        if field not in om.VECTOR_FIELDS:
            raise InvalidQuery(f"unknown vector field {field!r}", field=field)
        filters, ranges = filters or {}, ranges or {}
        check_fields(filters, ranges, ())
        query_vector = oknn.unit(vector)
        if k <= 0:
            return []
        body = oknn.knn_body(
            query_vector, field=field, model=model, k=k, types=types, filters=filters, ranges=ranges,
            exclude_ids=exclude_ids,
        )
        try:
            response = self._search_body(body)
        except RequestError as exc:
            if strict_model and "dimension" in str(exc.info).lower():
                self._check_generation(field, model, types)
            return oknn.refused(exc, field)
        if strict_model and not response["hits"]["hits"]:
            self._check_generation(field, model, types)
        return oknn.read_knn(response, min_score)

    def _check_generation(self, field: str, model: str, types: Sequence[DocType]) -> None:
        """After an empty kNN answer: `GenerationMoved` when the index holds `field` vectors
        of other models only (a model switch swapped the alias to the next generation)."""
        held = oknn.held_models(self._search_body(oknn.held_models_body(types)))
        if held and model not in held:
            raise GenerationMoved(f"the index holds {field} of {', '.join(held)}, not {model}", models=held)

    def get(self, ids: Sequence[str]) -> dict[str, IndexDoc]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        answer = self._read(lambda: self._client.mget(index=self.alias, body={"ids": wanted}))
        return {d["_id"]: om.from_source(d["_source"]) for d in answer["docs"] if d.get("found")}

    def count(self) -> int:
        return int(self._read(lambda: self._client.count(index=self.alias))["count"])


def _version_of(prefix: str, index: str) -> int | None:
    match = re.fullmatch(re.escape(prefix) + r"-v(\d+)", index)
    return int(match.group(1)) if match else None


def _action(op: str, doc_id: str, source: str | None = None) -> bulk.Action:
    head = json.dumps({op: {"_id": doc_id}}, separators=(",", ":"))
    lines = head + "\n" + (source + "\n" if source is not None else "")
    return bulk.Action(0, doc_id, lines.encode())
