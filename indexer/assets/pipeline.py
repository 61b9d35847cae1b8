"""Ingest a batch of files: sniff -> probe -> store -> metadata and facts -> eager
renditions -> links -> (embed) -> records -> vectors -> index.

Every file ends as exactly one of: a new asset, a new version of an asset, a duplicate
(identical bytes already stored: no new blob, no new version) or a reject with its
reason. A bad file never stops the batch. Records are written first (the source of
truth), then vectors, then the index, a batch at a time.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from discovery.domain import Asset, JSONObject, utcnow
from discovery.errors import describe
from discovery.foreground import step_aside
from discovery.store.blobs import BlobStore
from discovery.store.index.base import SearchBackend
from discovery.store.index.documents import asset_doc_id
from discovery.store.records import Records
from indexer.assets import process
from indexer.assets.indexing import index_assets
from indexer.assets.intake import Candidate, IntakeLimits, Item, Reject, expand
from indexer.assets.linking import BatchLinker
from indexer.assets.links import DEFAULT_RULES, FilenameRule, ProblemRow, name_key
from indexer.assets.record_merge import lay_onto
from indexer.assets.renditions import Preset, load_presets

Embed = Callable[[list[Image.Image]], tuple[np.ndarray, str]]


@dataclass(slots=True)
class AssetReport:
    """What became of a batch. `rejects` and `warnings` use the job reject shape
    (line, file, field, reason); `ambiguous` lists links not made, with the candidates;
    `links` lists what linking did to each file: linked (with how), suggested or ambiguous."""

    received: int = 0
    indexed: int = 0
    rejected: int = 0
    duplicates: int = 0
    versions: int = 0
    rejects: list[ProblemRow] = field(default_factory=list)
    warnings: list[ProblemRow] = field(default_factory=list)
    ambiguous: list[JSONObject] = field(default_factory=list)
    links: list[JSONObject] = field(default_factory=list)
    asset_ids: list[str] = field(default_factory=list)
    # Assets whose bytes were already in the records (not an earlier file of this call): a
    # job checks that each is in the index, since the call that stored it may have died first.
    duplicate_ids: list[str] = field(default_factory=list)

    def reject(self, file: str, reason: str) -> None:
        self.rejected += 1
        self.rejects.append({"line": None, "file": file, "field": None, "reason": reason})

    def warn(self, file: str, reason: str) -> None:
        self.warnings.append({"line": None, "file": file, "field": None, "reason": reason})

    @property
    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "indexed": self.indexed,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
        }


@dataclass(slots=True)
class _Pending:
    asset: Asset
    image: Image.Image | None  # to embed; None keeps the stored vector when still current
    counts: bool  # a new asset or version (counted as indexed once written)
    source: str
    # The stored record as this ingest first read it (None: a new asset). Its changes are
    # laid onto the record as stored at the write, so nothing written meanwhile is lost.
    read: JSONObject | None = None


@dataclass(slots=True)
class _Options:
    records: Records
    blobs: BlobStore
    backend: SearchBackend | None
    embed: Embed | None
    progress: Callable[[AssetReport], None] | None
    limits: IntakeLimits
    presets: dict[str, Preset]
    collection: str | None
    actor: str | None
    job: str | None
    versions_of: dict[str, str]
    version_by_filename: bool
    folders_as_collections: bool
    batch_size: int


def ingest_assets(
    *,
    records: Records,
    blobs: BlobStore,
    backend: SearchBackend | None,
    items: Iterable[Item],
    manifest: Path | None = None,
    collection: str | None = None,
    actor: str | None = None,
    job: str | None = None,
    embed: Embed | None = None,
    progress: Callable[[AssetReport], None] | None = None,
    limits: IntakeLimits | None = None,
    presets: dict[str, Preset] | None = None,
    rules: Sequence[FilenameRule] = DEFAULT_RULES,
    versions_of: Mapping[str, str] | None = None,
    version_by_filename: bool = False,
    folders_as_collections: bool = False,
    batch_size: int = 32,
) -> AssetReport:
    """Ingest files (bytes, local files, directories, zips) and report on each.

    `versions_of` maps an item's name to the id of the asset it is a new version of;
    with `version_by_filename`, a file named like an asset of `collection` becomes its
    new version. `embed` (from models/) turns images into vectors and names its model.
    `backend` None writes the records only (a reindex builds the index from them).
    `job` is written into each new version, so a re-run of a job knows what it stored."""
    options = _Options(
        records=records, blobs=blobs, backend=backend, embed=embed, progress=progress,
        limits=limits or IntakeLimits(), presets=presets if presets is not None else load_presets(),
        collection=collection, actor=actor, job=job, versions_of=dict(versions_of or {}),
        version_by_filename=version_by_filename and collection is not None,
        folders_as_collections=folders_as_collections, batch_size=batch_size,
    )  # fmt: skip
    return _Run(options, BatchLinker(records, manifest=manifest, rules=rules)).go(items)


class _Run:
    """One ingest call's state: the pending batch, what was seen, the report."""

    def __init__(self, options: _Options, linker: BatchLinker) -> None:
        self.o = options
        self.records = options.records
        self.blobs = options.blobs
        self.linker = linker
        self.report = AssetReport()
        self.pending: dict[str, _Pending] = {}
        self.seen: dict[str, str] = {}  # sha256 -> asset id, this batch

    def go(self, items: Iterable[Item]) -> AssetReport:
        for found in expand(items, self.o.limits):
            step_aside()  # in the API's process, requests go first
            self.report.received += 1
            if isinstance(found, Reject):
                self.report.reject(found.file, found.reason)
                continue
            try:
                self.take(found)
            except Exception as exc:  # noqa: BLE001 - one file's failure is reported, the batch goes on
                self.report.reject(found.source, f"could not process: {describe(exc)}")
            if len(self.pending) >= self.o.batch_size:
                self.flush()
        self.flush()
        self.report.ambiguous.extend(self.linker.ambiguous)
        self.report.links.extend(self.linker.report)
        self.report.warnings.extend(self.linker.warnings + self.linker.unmatched_rows())
        return self.report

    # --- one file -------------------------------------------------------------------

    def take(self, c: Candidate) -> None:
        target = self.o.versions_of.get(c.source) or self._same_name_in_collection(c)
        if target:
            self.new_version(c, target)
            return
        sha = hashlib.sha256(c.data).hexdigest()
        known = [self.current(self.seen[sha])] if sha in self.seen else self.records.assets_by_sha256(sha)
        same = [a for a in known if a is not None]
        if same:
            self.duplicate(c, same)
            return
        self.new_asset(c)

    def _same_name_in_collection(self, c: Candidate) -> str | None:
        if not self.o.version_by_filename:
            return None
        key = name_key(c.name)
        ids = [*self.linker.existing().get(key, ()), *self.linker.batch_names.get(key, ())]
        assets = [a for a in (self.current(i) for i in dict.fromkeys(ids)) if a and self.o.collection in a.collections]
        if len(assets) > 1:
            raise ValueError(f"{len(assets)} assets named {c.name!r} in {self.o.collection!r}: which one is ambiguous")
        return assets[0].id if assets else None

    def current(self, asset_id: str) -> Asset | None:
        """The live copy of an asset: pending in this batch, else from the records."""
        pending = self.pending.get(asset_id)
        return pending.asset if pending else self.records.get_asset(asset_id)

    def _probe(self, c: Candidate) -> process.Probed | None:
        try:
            probed = process.probe(c, presets=self.o.presets, max_pixels=self.o.limits.max_pixels)
        except process.Refused as exc:
            self.report.reject(c.source, str(exc))
            return None
        key, _ = self.blobs.put_bytes(c.data)
        assert key == probed.sha256, "blob store keys are sha256 of the content"
        for note in probed.notes:
            self.report.warn(c.source, note)
        return probed

    def new_asset(self, c: Candidate) -> None:
        probed = self._probe(c)
        if probed is None:
            return
        asset = Asset(id=uuid.uuid4().hex, sha256=probed.sha256, filename=c.name, media_type=probed.media_type)
        self._make_current(asset, c, probed)
        self.report.asset_ids.append(asset.id)

    def new_version(self, c: Candidate, asset_id: str) -> None:
        asset = self.current(asset_id)
        read = self._read_before_change(asset)
        if asset is None:
            self.report.reject(c.source, f"no asset {asset_id!r} to add a version to")
            return
        if asset.sha256 == hashlib.sha256(c.data).hexdigest():
            self.report.duplicates += 1  # the current version again: no new version
            if asset.id not in self.pending:
                self.report.duplicate_ids.append(asset.id)
            return
        probed = self._probe(c)
        if probed is None:
            return
        self._make_current(asset, c, probed, read=read)
        self.report.versions += 1
        if asset.id not in self.report.asset_ids:
            self.report.asset_ids.append(asset.id)

    def _read_before_change(self, asset: Asset | None) -> JSONObject | None:
        """What the records held of `asset` before this ingest changed it (None for one new
        in this ingest or already pending, whose first read is kept)."""
        if asset is None:
            return None
        pending = self.pending.get(asset.id)
        if pending is not None:
            return pending.read
        return asset.to_json()

    def _make_current(
        self, asset: Asset, c: Candidate, probed: process.Probed, *, read: JSONObject | None = None
    ) -> None:
        process.apply(asset, probed, filename=c.name)
        asset.versions.append(
            {"sha256": probed.sha256, "uploaded_at": utcnow().isoformat(), "by": self.o.actor,
             "filename": c.name, "bytes": probed.size, "media_type": probed.media_type,
             **({"job": self.o.job} if self.o.job else {})}
        )  # fmt: skip
        process.make_eager(asset, probed, self.blobs, self.o.presets)
        self._add_collections(asset, c)
        self.linker.link(asset, c.name, self.current)
        self.seen[probed.sha256] = asset.id
        self.pending[asset.id] = _Pending(asset, probed.image, True, c.source, read)

    def duplicate(self, c: Candidate, assets: list[Asset]) -> None:
        """Identical bytes already stored: no blob, no version; the upload may still add a
        collection, links (a manifest naming the file by its new name) or a suggested link."""
        self.report.duplicates += 1
        for asset in assets:
            if asset.id not in self.pending and asset.id not in self.report.duplicate_ids:
                self.report.duplicate_ids.append(asset.id)
            read = self._read_before_change(asset)
            before = (list(asset.collections), list(asset.product_skus), dict(asset.rights), len(asset.tags))
            self._add_collections(asset, c)
            self.linker.link(asset, c.name, self.current)  # may add a suggested link (a tag)
            changed = before != (asset.collections, asset.product_skus, asset.rights, len(asset.tags))
            if changed and asset.id not in self.pending:
                self.pending[asset.id] = _Pending(asset, None, False, c.source, read)

    def _add_collections(self, asset: Asset, c: Candidate) -> None:
        names = [self.o.collection] if self.o.collection else []
        if self.o.folders_as_collections and c.folder:
            names = [f"{self.o.collection}/{c.folder}" if self.o.collection else c.folder]
        for name in names:
            if name not in asset.collections:
                asset.collections.append(name)

    # --- writing a batch --------------------------------------------------------------

    def flush(self) -> None:
        if not self.pending:
            return
        batch = list(self.pending.values())
        self.pending = {}
        vectors, model = self._embed(batch)
        for item in batch:
            if item.asset.id in vectors:
                item.asset.vector_model = model
        self.records.upsert_assets([p.asset for p in batch if p.read is None])
        read = {p.asset.id: p for p in batch if p.read is not None}
        if read:

            def lay(stored: Asset) -> bool:
                return lay_onto(stored, read[stored.id].read or {}, read[stored.id].asset)

            for written in self.records.edits.assets(list(read), lay):
                read[written.id].asset = written
        if vectors and model:
            by_id = {p.asset.id: p.asset for p in batch}
            rows = [(asset_doc_id(i), v, by_id[i].sha256) for i, v in vectors.items()]
            self.records.put_vectors("image_vector", model, rows)
        self._index(batch, vectors, model)
        if self.o.progress is not None:
            self.o.progress(self.report)

    def _embed(self, batch: list[_Pending]) -> tuple[dict[str, np.ndarray], str | None]:
        todo = [p for p in batch if p.image is not None]
        if self.o.embed is None or not todo:
            return {}, None
        try:
            matrix, model = self.o.embed([p.image for p in todo if p.image is not None])
            if len(matrix) != len(todo):
                raise ValueError(f"{len(matrix)} vectors for {len(todo)} images")
        except Exception as exc:  # noqa: BLE001 - stored without a vector; a re-embed job adds it
            for p in todo:
                self.report.warn(p.source, f"not embedded: {type(exc).__name__}: {exc}")
            return {}, None
        return {p.asset.id: np.asarray(v, dtype=np.float32) for p, v in zip(todo, matrix, strict=True)}, model

    def _index(self, batch: list[_Pending], vectors: dict[str, np.ndarray], model: str | None) -> None:
        assets = [p.asset for p in batch]
        failed = index_assets(self.records, self.o.backend, assets, vectors=vectors, model=model)
        for p in batch:
            error = failed.get(p.asset.id)
            if error:
                self.report.warn(p.source, f"stored, but not indexed ({error}); a reindex will add it")
            elif p.counts:
                self.report.indexed += 1
