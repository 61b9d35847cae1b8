"""Rows appended after a block's HNSW graph was built are found at once (scored exactly)
while a background thread adds them to the graph; a search never adds them itself."""

from __future__ import annotations

import numpy as np

from discovery.store.index.vectors import VectorBlock


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_rows_appended_after_the_graph_are_found_before_and_after_it_grows() -> None:
    rng = np.random.default_rng(3)
    block = VectorBlock("text_vector", "m@1", 16)
    base = _unit(rng.normal(size=(400, 16)))
    block.put_many([f"p{i}" for i in range(400)], np.zeros(400, np.uint8), base, np.arange(400, dtype=np.uint64))
    block.hnsw_ready()
    block.wait_for_graph(timeout=30)
    assert block.has_graph()

    query = _unit(rng.normal(size=(1, 16)))[0]
    late = np.stack([query, -query])  # the best possible row, and the worst
    block.put_many(["late-best", "late-worst"], np.zeros(2, np.uint8), late, np.array([900, 901], dtype=np.uint64))
    allowed = np.ones(block.n, dtype=bool)

    scores, rows = block.hnsw_search(query, 5, allowed, block.n)
    assert block.ids[int(rows[0])] == "late-best" and scores[0] > 0.999
    assert "late-worst" not in {block.ids[int(r)] for r in rows}

    allowed[block.row_of["late-best"]] = False  # filtered out: never returned
    _, rows = block.hnsw_search(query, 5, allowed, block.n)
    assert "late-best" not in {block.ids[int(r)] for r in rows}

    block.wait_for_graph(timeout=30)  # the background thread has added the late rows
    assert block._hnsw_rows == block.n
    allowed[:] = True
    scores, rows = block.hnsw_search(query, 5, allowed, block.n)
    assert block.ids[int(rows[0])] == "late-best"
    assert list(scores) == sorted(scores, reverse=True)
