"""Which failures are worth a retry, and how long to wait before it. Pure."""

from __future__ import annotations

import random
import socket

from discovery.errors import BackendUnavailable, RejectedInput

# HTTP statuses that mean "not now": too many requests, or the service is (re)starting.
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """True for failures of a service the chunk needs (search engine down or overloaded, a
    Redis or database connection blip): the same chunk will succeed later. Bad input and
    bugs are not transient. Third-party errors are recognised by their type's module and
    name, so this module loads no client library."""
    if isinstance(exc, RejectedInput):
        return False
    if isinstance(exc, BackendUnavailable | ConnectionError | TimeoutError | socket.timeout):
        return True
    for cls in type(exc).__mro__:
        module = cls.__module__.split(".", 1)[0]
        name = cls.__name__
        if module == "opensearchpy":
            if name in ("ConnectionError", "ConnectionTimeout", "SSLError"):
                return True
            if name == "TransportError":
                return _status(exc) in TRANSIENT_STATUSES
        if module == "kombu" and name == "OperationalError":  # the broker connection
            return True
        if module == "redis" and name in ("ConnectionError", "TimeoutError", "BusyLoadingError"):
            return True
        if module == "sqlalchemy" and name in ("OperationalError", "DisconnectionError"):
            # Connection refused / server restarting / lock timeouts; a bad statement is a
            # ProgrammingError or IntegrityError and does not land here.
            return True
        if module in ("httpx", "urllib3", "requests") and ("Timeout" in name or name.startswith("Connect")):
            return True
    # Only an explicit `raise ... from`: an error raised while handling another is its own.
    cause = exc.__cause__
    return cause is not None and cause is not exc and is_transient(cause)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before retry number `attempt` (1-based): exponential, capped, with "equal
    jitter" (half fixed, half random) so retries of many chunks spread out instead of
    hitting a recovering service all at once, yet never come back immediately."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    draw = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2
