"""Which blobs the records name: the rule retention and `discovery gc` delete by."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from discovery.domain import Asset
from discovery.store import blob_refs
from discovery.store.blob_refs import BlobRefs, keys_in
from discovery.store.records import Records

A, R, V, X = ("a" * 64), ("b" * 64), ("c" * 64), ("d" * 64)


def test_keys_are_found_anywhere_in_a_json_value_and_nothing_else() -> None:
    value = {"file": {"blob": A}, "items": [{"blob": R}, "x" + "e" * 63], "note": f"see {V}.", "n": 3}
    assert keys_in(value) == {A, R, V}
    assert keys_in("f" * 65) == set()  # too long to be a key


@pytest.mark.parametrize("few", [20, 0])  # one query per key, or one pass over the assets
def test_a_blob_is_named_by_an_asset_file_rendition_or_older_version(tmp_path: Path, few: int,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blob_refs, "FEW", few)
    records = Records.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        asset = Asset(id="a1", sha256=A, filename="a.png", media_type="image/png",
                      renditions={"thumbnail": R}, versions=[{"sha256": V}])  # fmt: skip
        records.upsert_assets([asset])
        assert BlobRefs(records.engine).named_by_assets([A, R, V, X, "not-a-key"]) == {A, R, V}
    finally:
        records.close()


def test_only_a_file_list_is_read_for_the_keys_it_names(tmp_path: Path) -> None:
    from discovery.services.retention import expand_lists
    from discovery.store.blobs import FilesystemBlobStore

    blobs = FilesystemBlobStore(tmp_path / "blobs")
    file_list, _ = blobs.put_bytes(json.dumps([{"name": "a.png", "blob": A}]).encode())
    # A product import's stored batch: its rows carry content hashes, which are no blobs.
    batch, _ = blobs.put_bytes(json.dumps({"products": [{"sku": "S1", "content_hash": R}]}).encode())
    assert expand_lists(blobs, [file_list, batch]) == {file_list, batch, A}
