"""Model warm-up at server start: the text model and the CLIP text tower are loaded and
answer one query each, in the background, before `/readyz` says ready.

Without it the first search after a start paid for loading MiniLM, exporting it to ONNX
and building CLIP (11.5 s measured) while `/readyz` already said ready.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

from discovery.services.context import Context

log = logging.getLogger(__name__)

TEXT = "text model"
CLIP = "clip text encoder"
SEARCHES = "first searches"
WARM_QUERY = "warm-up query"


class Warmup:
    """What is still warming (`pending`), what failed (`failed`: name -> reason), and how
    long each step took (`seconds`). `start` runs the steps on a daemon thread."""

    def __init__(self, ctx: Context, *, requests: Callable[[], None] | None = None) -> None:
        """`requests`: sends the first searches through the HTTP layer too (the app's
        routes, response models and middleware have first-call costs of their own)."""
        self._ctx = ctx
        self._requests = requests
        self._lock = threading.Lock()
        self._pending = [TEXT, CLIP, SEARCHES] if ctx.settings.text.enabled else [CLIP, SEARCHES]
        self.failed: dict[str, str] = {}
        self.seconds: dict[str, float] = {}
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="discovery-warmup", daemon=True)

    @property
    def pending(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def start(self) -> Warmup:
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """True once every step ran (tests and benches)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """The server is stopping: steps not started are skipped (a started one finishes)."""
        self._closed.set()

    def _run(self) -> None:
        steps = {TEXT: self._text, CLIP: self._clip, SEARCHES: self._searches}
        for name in self.pending:
            if self._closed.is_set():
                return
            started = time.perf_counter()
            try:
                steps[name]()
            except Exception as exc:  # reported by /readyz, which then says unready
                if self._closed.is_set():
                    return  # the stores closed under it: nothing to report
                log.warning("warm-up of the %s failed: %s: %s", name, type(exc).__name__, exc)
                self.failed[name] = f"{type(exc).__name__}: {exc}"
            self.seconds[name] = round(time.perf_counter() - started, 3)
            # What a step loaded is half a million objects more (MiniLM, its ONNX export,
            # CLIP's text tower): a full collection walked them in ~290 ms, landing on
            # whichever request it met (the idle tail of search latency at 100,000
            # documents). Like what `Context.open` froze, they live as long as the process.
            gc.freeze()
            with self._lock:
                self._pending.remove(name)
        log.info("warm-up done in %s", self.seconds)

    def _text(self) -> None:
        model = self._ctx.text()
        if model is not None:
            model.encode([WARM_QUERY])  # loads it, exports it to ONNX, runs the graph once

    def _clip(self) -> None:
        self._ctx.clip().encode_texts([WARM_QUERY])

    def _searches(self) -> None:
        """One search per mode through the service: the index readers, the vector stores
        and the code paths a first request would otherwise load."""
        from discovery.services.search import Mode, SearchRequest, search

        modes: tuple[Mode, ...] = ("keyword", "hybrid", "semantic")
        from discovery.services.analytics import start_recording

        search(self._ctx, SearchRequest(type="all", facets=("brand", "color", "category"), size=10))  # a listing
        for mode in modes:
            search(self._ctx, SearchRequest(q=WARM_QUERY, type="all", mode=mode, size=10))
        start_recording(self._ctx)  # the usage buffer's writer, which the first search would start
        if self._requests is not None:
            self._requests()
