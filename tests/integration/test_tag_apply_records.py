"""A review decision's records write on SQLite and PostgreSQL: tags, audit entry and the owed
index document in one transaction, refused whole when another decision changed the target's
tags since they were read (so concurrent decisions on one target all land, each on a fresh
read), and concurrent writers on one product serialised by the row lock."""

from __future__ import annotations

import threading

import pytest

from discovery.domain import Asset, JSONObject, Product, Tag
from discovery.store.records import Records
from discovery.store.tag_records import ChangedMeanwhile
from discovery.store.usage_records import UsageRecords


def accepted(name: str) -> Tag:
    return Tag(name=name, status="accepted", decided_by="rev")


def audit(key: str, tag: str) -> tuple[str, str, str, JSONObject]:
    return ("rev", "tag.accept", key, {"tag": tag})


def tag_audits(records: Records) -> list[str]:
    return [str(e["detail"]["tag"]) for e in records.audit_entries() if e["action"] == "tag.accept"]  # type: ignore[index, call-overload]


def test_a_decision_on_tags_read_before_another_decision_is_refused_and_writes_nothing(records: Records) -> None:
    records.upsert_products([Product(sku="S-1", name="Parka")])
    records.upsert_assets([Asset(id="a1", sha256="0" * 64, filename="a1.jpg", media_type="image/jpeg")])
    for key, read in (("product:S-1", records.get_product), ("asset:a1", records.get_asset)):
        first, second = read(key.partition(":")[2]), read(key.partition(":")[2])
        assert first is not None and second is not None
        records.tags.apply([(first, [accepted("one")])], [audit(key, "one")])
        with pytest.raises(ChangedMeanwhile):
            records.tags.apply([(second, [accepted("two")])], [audit(key, "two")])
        again = read(key.partition(":")[2])
        assert again is not None and [t.name for t in again.tags] == ["one"]
    assert tag_audits(records) == ["one", "one"]
    assert records.pending.count() == 2  # one owed document per written decision, none for the refused


def test_concurrent_decisions_on_one_product_each_land_on_a_fresh_read(records: Records) -> None:
    records.upsert_products([Product(sku="S-2", name="Boot")])
    names = [f"t{i}" for i in range(6)]

    def decide(name: str) -> None:
        for _ in range(20):
            product = records.get_product("S-2")
            assert product is not None
            try:
                records.tags.apply([(product, [*product.tags, accepted(name)])], [audit("product:S-2", name)])
                return
            except ChangedMeanwhile:
                continue
        raise AssertionError(f"{name} never landed")

    threads = [threading.Thread(target=decide, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = records.get_product("S-2")
    assert stored is not None and sorted(t.name for t in stored.tags) == names
    assert sorted(tag_audits(records)) == names


def test_a_usage_flush_never_writes_back_tags_a_decision_changed_while_it_ran(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    records.upsert_assets([Asset(id="a1", sha256="0" * 64, filename="a1.jpg", media_type="image/jpeg")])
    read = records.get_asset("a1")
    assert read is not None
    decided = threading.Event()

    def decide() -> None:
        records.tags.apply([(read, [accepted("kept")])], [audit("asset:a1", "kept")])
        decided.set()

    decision = threading.Thread(target=decide)
    from_json = Asset.from_json.__func__  # type: ignore[attr-defined]

    def flush_reads(cls: type[Asset], data: JSONObject) -> Asset:
        # Between the flush's read of the record and its write: a reviewer's decision lands
        # (or, with the flush holding the row, waits for it).
        if threading.current_thread() is threading.main_thread() and not decision.is_alive() and not decided.is_set():
            decision.start()
            decided.wait(timeout=1.0)
        return from_json(cls, data)  # type: ignore[no-any-return]

    monkeypatch.setattr(Asset, "from_json", classmethod(flush_reads))
    UsageRecords(records.engine).set_asset_usage({"a1": {"views": 3}})
    monkeypatch.undo()
    decision.join(timeout=60)

    stored = records.get_asset("a1")
    assert stored is not None and decided.is_set()
    assert stored.usage == {"views": 3}
    assert [(t.name, t.status) for t in stored.tags] == [("kept", "accepted")], "the decision was not lost"
