"""The embedded engine's vector store: staged writes, snapshots, files next to the index.

Writes are staged and applied at refresh, together with the tantivy commit, so a kNN
answer and a text search see the same documents. Each (field, model) block is saved
as one `.npz` (live rows only) listed in `manifest.json`, which is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from discovery.store.index.base import IndexDoc, VectorField
from discovery.store.index.vectors import TYPE_CODES, BlockView, VectorBlock, normalise

FIELDS: tuple[VectorField, ...] = ("text_vector", "image_vector")
TYPE_NAMES = {code: name for name, code in TYPE_CODES.items()}
BlockKey = tuple[str, str]  # (field, model)


@dataclass(frozen=True, slots=True)
class VectorSnapshot:
    """What searches read between two refreshes."""

    views: Mapping[BlockKey, BlockView] = field(default_factory=dict)

    def view(self, field_name: str, model: str) -> BlockView | None:
        return self.views.get((field_name, model))

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

    def stage_put(self, doc: IndexDoc, hashed: int) -> None:
        """Stage `doc`'s vectors (replacing any it had); ValueError if one doesn't fit."""
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
        self._staged.append(("put", doc, vecs, hashed))

    def stage_delete(self, doc_id: str) -> None:
        self._staged.append(("delete", doc_id, {}, 0))

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
        return bool(staged)

    def _remove(self, doc_id: str) -> None:
        for name in FIELDS:
            model = self._where.pop((name, doc_id), None)
            if model is not None:
                self._blocks[(name, model)].remove(doc_id)
                self._dirty.add((name, model))

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
        files: dict[str, str] = {}
        for key, block in self._blocks.items():
            key_json = json.dumps(key)
            fresh = key in self._dirty or key_json not in old
            files[key_json] = _write_block(folder, block) if fresh else old[key_json]
        tmp = folder / f".manifest.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(files))
        os.replace(tmp, manifest_path)
        for stale in set(old.values()) - set(files.values()):
            (folder / stale).unlink(missing_ok=True)
        self._dirty.clear()

    @classmethod
    def load(cls, folder: Path) -> VectorStore:
        store = cls()
        for key_json, name in _read_manifest(folder / "manifest.json").items():
            field_name, model = json.loads(key_json)
            with np.load(folder / name, allow_pickle=False) as data:
                ids, types, mat, hashes = data["ids"], data["types"], data["mat"], data["hashes"]
            block = VectorBlock(field_name, model, mat.shape[1], capacity=max(256, len(ids)))
            for doc_id, code, vec, hashed in zip(ids, types, mat, hashes, strict=True):
                block.put(str(doc_id), TYPE_NAMES[int(code)], vec, int(hashed))
                store._where[(field_name, str(doc_id))] = model
            store._blocks[(field_name, model)] = block
            store._dims[(field_name, model)] = mat.shape[1]
        return store


def _file_name(key: BlockKey) -> str:
    return f"{key[0]}-{hashlib.sha1(key[1].encode()).hexdigest()[:16]}"


def _write_block(folder: Path, block: VectorBlock) -> str:
    live = block.compacted()
    generation = hashlib.sha1(os.urandom(8)).hexdigest()[:8]
    name = f"{_file_name((block.field, block.model))}-{generation}.npz"
    tmp = folder / f".{name}.tmp.npz"
    np.savez(
        tmp,
        ids=np.array(live.ids, dtype=str),
        types=live.types[: live.n],
        mat=live.mat[: live.n],
        hashes=live.hashes[: live.n],
    )
    os.replace(tmp, folder / name)
    return name


def _read_manifest(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(k): str(v) for k, v in data.items()}
