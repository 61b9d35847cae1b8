"""A per-caller token bucket, held on `app.state` (never a module global).

Each caller (an actor string) may spend `per_minute` tokens at once and regains them at
`per_minute` a minute. Memory is bounded: past `max_callers` the least recently seen
caller is forgotten (it starts again with a full bucket, which costs nothing but a burst).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self, *, per_minute: int, max_callers: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.max_callers = max_callers
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # caller -> (tokens, at)
        self._lock = threading.Lock()

    def allow(self, caller: str) -> float:
        """Spend a token of `caller`: 0.0 when allowed, else the seconds until one is back."""
        now = self._clock()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.pop(caller, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / rate
            self._buckets[caller] = (tokens, now)
            while len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> int:
    """A Retry-After value: whole seconds, at least 1."""
    return max(1, math.ceil(wait))
