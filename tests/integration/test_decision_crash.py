"""A review decision outlives a server killed before its index document was written: the
decision's records transaction owes the document (`index_pending`), and the next server to
start writes it. Asked only through the HTTP API; the test stalls the writer by holding the
lock its drains take (as a second process draining would), then kills the server."""

from __future__ import annotations

import fcntl
import os
import signal
from pathlib import Path

import pytest
from server_support import Server, eventually

from discovery.config import Settings, TextSettings
from discovery.domain import Product
from discovery.services.owed_docs import DRAIN_LOCK
from discovery.store.derive import all_docs
from discovery.store.index import make_backend
from discovery.store.records import Records

pytestmark = pytest.mark.slow


def seed(data_dir: Path) -> Settings:
    """Two products in the records and the index, before any server starts."""
    settings = Settings(data_dir=data_dir, backend="embedded", text=TextSettings(enabled=False))
    records = Records.open(settings.records_url)
    records.upsert_products([Product(sku=f"K-{i}", name=f"Parka {i}", status="approved") for i in range(2)])
    backend = make_backend(settings)
    backend.ensure_ready()
    backend.rebuild(all_docs(records))
    backend.close()
    records.close()
    return settings


def test_a_decision_is_searchable_after_a_kill_9_before_its_document_was_written(tmp_path: Path) -> None:
    settings = seed(tmp_path / "var")
    lock_path = settings.index_dir / settings.index_prefix / DRAIN_LOCK
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)  # the server's writer waits on it: nothing reaches the index
    first = Server(settings.data_dir, tmp_path / "first.log")
    try:
        body = [{"target": {"type": "product", "id": "K-1"}, "tag": "storm-proof", "decision": "accept"}]
        answer = first.http.post("/api/review/decisions", json=body)
        assert answer.status_code == 200 and answer.json()["results"][0]["ok"], answer.text
        assert not eventually(lambda: first.total(**{"filter.tags": "storm-proof"}), timeout=1.5)
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=30)
    finally:
        first.stop()
        os.close(lock)  # the lock goes with it, as a dead holder's does
    second = Server(settings.data_dir, tmp_path / "second.log")
    try:
        assert eventually(lambda: second.total(**{"filter.tags": "storm-proof"}), timeout=5) == 1
        audit = second.http.get("/api/review/log").json()
        assert [e["target"] for e in audit["entries"] if e["action"] == "tag.accept"] == ["product:K-1"]
    finally:
        second.stop()
