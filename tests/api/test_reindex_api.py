"""Reindex while searches run: no error and no empty result during the swap."""

from __future__ import annotations

import threading

from tests.api.conftest import Catalog


def test_reindex_while_searching_never_errors_or_empties(catalog: Catalog) -> None:
    client = catalog.client
    word = str(catalog.info["sample_word"])
    baseline = client.get("/api/search", params={"q": word, "mode": "keyword"}).json()["total"]
    assert baseline > 0
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def searching() -> None:
        while not stop.is_set():
            response = client.get("/api/search", params={"q": word, "mode": "keyword", "size": 5})
            seen.append((response.status_code, response.json().get("total", -1)))

    thread = threading.Thread(target=searching)
    thread.start()
    try:
        admin = {"X-API-Key": catalog.keys["admin"]}
        for _ in range(2):
            result = client.post("/api/admin/reindex", headers=admin).json()
            assert result["failed"] == 0 and result["indexed"] == result["documents"]
    finally:
        stop.set()
        thread.join()
    assert seen, "the searching thread ran"
    assert all(status == 200 for status, _ in seen)
    assert all(total == baseline for _, total in seen), "never empty, never partial"
    after = client.get("/api/search", params={"q": word, "mode": "keyword"}).json()["total"]
    assert after == baseline
