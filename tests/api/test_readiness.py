"""`/readyz` tells the truth: not ready until the text model and the CLIP text encoder
are loaded and have answered a query (the tiny CLIP model, the real MiniLM)."""

from __future__ import annotations

import gc
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from discovery.api.app import create_app
from discovery.api.deps import WARM_UP_HEADER
from discovery.config import Settings
from discovery.services import warmup


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The text model's warm-up waits for this event before it loads the model."""
    release = threading.Event()
    load = warmup.Warmup._text

    def slow(self: warmup.Warmup) -> None:
        release.wait(timeout=120)
        load(self)

    monkeypatch.setattr(warmup.Warmup, "_text", slow)
    yield release
    release.set()


def wait_ready(client: TestClient, timeout: float = 300) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/readyz")
        if response.status_code == 200:
            return dict(response.json())
        time.sleep(0.05)
    raise AssertionError(f"not ready after {timeout} s: {client.get('/readyz').json()}")


def test_the_app_is_not_ready_until_the_models_answered_a_warm_up_query(
    settings: Settings, held: threading.Event
) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/readyz")
        body = response.json()
        assert response.status_code == 503 and body["status"] == "warming" and body["failing"] == []
        assert warmup.TEXT in body["warming"]
        ctx = app.state.ctx
        assert ctx._text is None  # held before loading: nothing answered a query yet
        held.set()
        ready = wait_ready(client)
        assert ready["status"] == "ready" and ready["warming"] == []
        text = ctx.text()
        assert text is not None and text._onnx is not None  # loaded and exported by the warm-up
        assert ctx._clip is not None
        assert set(app.state.warmup.seconds) == {warmup.TEXT, warmup.CLIP, warmup.SEARCHES}
        # What the warm-up loaded is frozen, out of the way of full collections.
        collected = {id(o) for o in gc.get_objects()}
        assert id(text._model) not in collected and id(text._onnx) not in collected


def test_a_failed_warm_up_is_reported_unready_by_name(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: warmup.Warmup) -> None:
        raise RuntimeError("no weights here")

    monkeypatch.setattr(warmup.Warmup, "_clip", broken)
    app = create_app(settings)
    with TestClient(app) as client:
        assert app.state.warmup.wait(timeout=300)
        response = client.get("/readyz")
        body = response.json()
        assert response.status_code == 503 and body["status"] == "unready"
        assert body["failing"] == [warmup.CLIP] and "no weights here" in body["checks"][warmup.CLIP]


def test_the_first_search_after_ready_costs_what_the_next_ones_do(settings: Settings) -> None:
    from discovery.services.demo import load_demo

    load_demo(settings, products=24, seed=5)
    app = create_app(settings)
    with TestClient(app) as client:
        wait_ready(client)
        timings = []
        for _ in range(21):
            started = time.perf_counter()
            response = client.get("/api/search", params={"q": "warm jacket", "type": "all", "mode": "hybrid"})
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
        first, steady = timings[0], statistics.median(timings[1:])
        print(f"first search after ready {first * 1000:.1f} ms, steady p50 {steady * 1000:.1f} ms")
        # 2x the steady median, plus a little for a busy shared machine's scheduling.
        assert first <= 2 * steady + 0.005, (first, steady)


def test_where_reads_need_a_key_the_warm_up_still_searches_and_the_app_gets_ready(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"read_key_required": True}))
    with TestClient(app) as client:
        ready = wait_ready(client, timeout=300)
        assert ready["status"] == "ready" and ready["failing"] == []
        assert warmup.SEARCHES in app.state.warmup.seconds
        # The warm-up's pass lived as long as the warm-up: a caller without a key is refused.
        assert app.state.warm_up_token is None
        assert client.get("/api/search", params={"q": "jacket"}).status_code == 401
        assert client.get("/api/search", headers={WARM_UP_HEADER: "a guess"}).status_code == 401
