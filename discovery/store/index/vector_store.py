"""The embedded engine's vector store: staged writes, snapshots, files next to the index.

Writes are staged and applied at refresh, together with the tantivy commit, so a kNN
answer and a text search see the same documents. On disk each (field, model) block is a
list of `.npz` segments replayed in order: a save appends one segment holding the rows
added and the ids removed since the last save (a refresh after a small batch writes a
small file, not the whole matrix), and a block is rewritten whole once it has many
segments or was compacted. `manifest.json` lists the segments and is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from discovery.store.index.base import IndexDoc, VectorField
from discovery.store.index.vectors import TYPE_CODES, BlockView, VectorBlock, normalise

FIELDS: tuple[VectorField, ...] = ("text_vector", "image_vector")
TYPE_NAMES = {code: name for name, code in TYPE_CODES.items()}
BlockKey = tuple[str, str]  # (field, model)
# A block is rewritten whole past this many segments. Every other process then reads the
# block again and builds its HNSW graph anew (tens of seconds of both cores at 100,000
# vectors): at 16, a server did so every 16 commits of an import's worker, which was the
# tail of its search latency. Replaying many small segments costs only a cold start.
MAX_SEGMENTS = 256


@dataclass(slots=True)
class _Saved:
    """What of a block is on disk: its segments, rows `[:rows]`, and ids removed since."""

    files: list[str] = field(default_factory=list)
    rows: int = 0
    removed: list[str] = field(default_factory=list)
    whole: bool = False  # the next save must rewrite the block (it was compacted)


@dataclass(frozen=True, slots=True)
class VectorSnapshot:
    """What searches read between two refreshes."""

    views: Mapping[BlockKey, BlockView] = field(default_factory=dict)

    def view(self, field_name: str, model: str) -> BlockView | None:
        return self.views.get((field_name, model))

    def models_of(self, field_name: str, types: Sequence[str]) -> tuple[str, ...]:
        """The models this snapshot holds live `field_name` vectors of, of documents of `types`."""
        codes = [TYPE_CODES[t] for t in types]
        held = (m for (f, m), v in self.views.items() if f == field_name and (v.alive & np.isin(v.types, codes)).any())
        return tuple(sorted(held))

    def ids_by_hash(self, hashes: Sequence[int]) -> list[str | None]:
        """The ids of documents with a vector, by id hash (None for the others): the
        embedded engine names a ranking window's hits this way instead of reading each
        stored document."""
        wanted = np.array(hashes, dtype=np.uint64)
        out: list[str | None] = [None] * len(hashes)
        for view in self.views.values():
            missing = [i for i, found in enumerate(out) if found is None]
            if not missing:
                break
            for i, doc_id in zip(missing, view.ids_of(wanted[missing]), strict=True):
                out[i] = doc_id
        return out

    def vectors_of(self, doc: IndexDoc) -> None:
        """Fill `doc`'s vectors from the store (for `get`)."""
        for name in FIELDS:
            view = self.views.get((name, doc.vector_model or ""))
            if view is not None:
                setattr(doc, name, view.vector(doc.id))


class VectorStore:
    def __init__(self) -> None:
        self._blocks: dict[BlockKey, VectorBlock] = {}
        self._where: dict[tuple[str, str], str] = {}  # (field, id) -> model holding it
        self._dims: dict[BlockKey, int] = {}
        self._staged: list[tuple[str, IndexDoc | str, dict[str, np.ndarray], int]] = []
        self._dirty: set[BlockKey] = set()
        self._saved: dict[BlockKey, _Saved] = {}

    def stage_put(self, doc: IndexDoc, hashed: int) -> None:
        """Stage `doc`'s vectors (replacing any it had); ValueError if one doesn't fit."""
        self._staged.append(("put", doc, self.check(doc), hashed))

    def check(self, doc: IndexDoc) -> dict[str, np.ndarray]:
        """`doc`'s vectors, normalised; ValueError if one doesn't fit its block."""
        vecs: dict[str, np.ndarray] = {}
        for name in FIELDS:
            raw = getattr(doc, name)
            if raw is None:
                continue
            if not doc.vector_model:
                raise ValueError(f"{name} given without vector_model")
            vec = normalise(raw)
            dim = self._dims.setdefault((name, doc.vector_model), len(vec))
            if dim != len(vec):
                raise ValueError(f"{name} has {len(vec)} dimensions, {doc.vector_model} has {dim}")
            vecs[name] = vec
        return vecs

    def stage_delete(self, doc_id: str) -> None:
        self._staged.append(("delete", doc_id, {}, 0))

    def drop_staged(self) -> None:
        """Forget staged writes (their commit failed)."""
        self._staged = []

    def apply(self) -> bool:
        """Apply staged writes; True when anything changed."""
        staged, self._staged = self._staged, []
        for op, target, vecs, hashed in staged:
            if op == "delete":
                assert isinstance(target, str)
                self._remove(target)
                continue
            assert isinstance(target, IndexDoc)
            self._remove(target.id)
            for name, vec in vecs.items():
                self._put(name, target, vec, hashed)
        for key in list(self._dirty):
            block = self._blocks[key]
            if block.n > 1024 and block.live < block.n // 2:
                self._blocks[key] = block.compacted()
                self._saved.setdefault(key, _Saved()).whole = True
        return bool(staged)

    def _remove(self, doc_id: str) -> None:
        for name in FIELDS:
            model = self._where.pop((name, doc_id), None)
            if model is not None:
                key = (name, model)
                block = self._blocks[key]
                saved = self._saved.get(key)
                if saved is not None and block.row_of.get(doc_id, saved.rows) < saved.rows:
                    saved.removed.append(doc_id)
                block.remove(doc_id)
                self._dirty.add(key)

    def _put(self, name: str, doc: IndexDoc, vec: np.ndarray, hashed: int) -> None:
        model = doc.vector_model or ""
        key = (name, model)
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = VectorBlock(name, model, len(vec))  # type: ignore[arg-type]
        block.put(doc.id, doc.type, vec, hashed)
        self._where[(name, doc.id)] = model
        self._dirty.add(key)

    def snapshot(self) -> VectorSnapshot:
        return VectorSnapshot({key: block.view() for key, block in self._blocks.items()})

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        manifest_path = folder / "manifest.json"
        old = _read_manifest(manifest_path)
        files: dict[str, list[str]] = {}
        for key, block in self._blocks.items():
            saved = self._saved.setdefault(key, _Saved())
            if key in self._dirty or not saved.files:
                if saved.whole or not saved.files or len(saved.files) >= MAX_SEGMENTS:
                    saved.files = [_write_segment(folder, block, 0, [])]
                else:
                    saved.files.append(_write_segment(folder, block, saved.rows, saved.removed))
                saved.rows, saved.removed, saved.whole = block.n, [], False
            files[json.dumps(key)] = list(saved.files)
        tmp = folder / f".manifest.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(files))
        os.replace(tmp, manifest_path)
        kept = {name for names in files.values() for name in names}
        for stale in {name for names in old.values() for name in names} - kept:
            (folder / stale).unlink(missing_ok=True)
        self._dirty.clear()

    @classmethod
    def load(cls, folder: Path) -> VectorStore:
        store = cls()
        store.follow(folder)
        return store

    def follow(self, folder: Path) -> bool:
        """Catch up with what another process saved under `folder` since this store last
        saved or followed: a block whose segment list grew replays the new segments only; a
        block rewritten whole (compacted) is read again. Staged writes are kept. True when
        anything changed."""
        changed = False
        manifest = _read_manifest(folder / "manifest.json")
        for key_json, names in manifest.items():
            field_name, model = json.loads(key_json)
            key: BlockKey = (field_name, model)
            saved = self._saved.get(key)
            block = self._blocks.get(key)
            if saved is not None and block is not None and saved.files == names:
                continue
            if saved is None or block is None or names[: len(saved.files)] != saved.files:
                self._drop_block(key)
                block, new = None, names
            else:
                new = names[len(saved.files) :]
            for name in new:
                block = self._replay(folder / name, key, block)
            if block is not None:
                self._blocks[key] = block
                self._dims[key] = block.dim
                self._saved[key] = _Saved(list(names), block.n)
            changed = True
        for key in [k for k in self._blocks if json.dumps(k) not in manifest and k in self._saved]:
            self._drop_block(key)
            changed = True
        return changed

    def _drop_block(self, key: BlockKey) -> None:
        block = self._blocks.pop(key, None)
        self._saved.pop(key, None)
        self._dirty.discard(key)
        if block is not None:
            for doc_id in block.row_of:
                if self._where.get((key[0], doc_id)) == key[1]:
                    del self._where[(key[0], doc_id)]

    def _replay(self, path: Path, key: BlockKey, block: VectorBlock | None) -> VectorBlock:
        """Apply one saved segment: its removed ids, then its rows."""
        field_name, model = key
        with np.load(path, allow_pickle=False) as data:
            ids, types, mat = data["ids"], data["types"], data["mat"]
            hashes, removed = data["hashes"], data["removed"]
        if block is None:
            block = VectorBlock(field_name, model, mat.shape[1], capacity=max(256, len(ids)))  # type: ignore[arg-type]
        for doc_id in removed:
            block.remove(str(doc_id))
            self._where.pop((field_name, str(doc_id)), None)
        names = [str(doc_id) for doc_id in ids]
        for doc_id in names:
            # A document moved to another model leaves its old block in the writer's process:
            # follow that here.
            other = self._where.get((field_name, doc_id))
            if other is not None and other != model and (field_name, other) in self._blocks:
                self._blocks[(field_name, other)].remove(doc_id)
            self._where[(field_name, doc_id)] = model
        block.put_many(names, types.astype(np.uint8), mat, hashes.astype(np.uint64))
        return block


def _file_name(key: BlockKey) -> str:
    return f"{key[0]}-{hashlib.sha1(key[1].encode()).hexdigest()[:16]}"


def _write_segment(folder: Path, block: VectorBlock, start: int, removed: list[str]) -> str:
    """The live rows from `start` on, and the ids removed before them."""
    rows = start + np.flatnonzero(block.alive[start : block.n])
    generation = hashlib.sha1(os.urandom(8)).hexdigest()[:8]
    name = f"{_file_name((block.field, block.model))}-{generation}.npz"
    tmp = folder / f".{name}.tmp.npz"
    np.savez(
        tmp,
        ids=np.array([block.ids[r] for r in rows], dtype=str),
        types=block.types[rows],
        mat=block.mat[rows],
        hashes=block.hashes[rows],
        removed=np.array(removed, dtype=str),
    )
    os.replace(tmp, folder / name)
    return name


def _read_manifest(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(k): [str(n) for n in v] for k, v in data.items()}
