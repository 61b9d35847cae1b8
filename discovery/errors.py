"""Domain errors that carry what went wrong. Converted to problem+json only at the HTTP edge."""

from __future__ import annotations

import re

# `<_io.BytesIO object at 0x7f...>` and the like: a library naming its own objects.
_OBJECT_REPR = re.compile(r"\s*<[^<>]*? at 0x[0-9a-fA-F]+>|\s+at 0x[0-9a-fA-F]+")
# Messages of these are about Python's objects (`'NoneType' object has no attribute ...`),
# not about the file: they mean nothing to the person who sent it.
_INTERNAL = (AttributeError, TypeError, KeyError, IndexError, AssertionError, NameError, RecursionError)


def describe(exc: BaseException) -> str:
    """A library's exception as a reason a person can read in a report: no object reprs
    or memory addresses, and a plain sentence for errors about Python's own objects."""
    if isinstance(exc, _INTERNAL):
        return "its structure is not what its format requires"
    text = _OBJECT_REPR.sub("", str(exc)).strip(" :")
    return text or "it cannot be read"


class DiscoveryError(Exception):
    """Base of every error the services raise on purpose."""

    status = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidQuery(DiscoveryError):
    """A search request names an unknown field, a bad range or an impossible page."""


class InvalidParameter(InvalidQuery):
    """A request parameter whose value cannot mean anything (a range `300..10`, a bound
    that is not a number); `field` names the parameter as the caller wrote it."""

    status = 422


class NotFound(DiscoveryError):
    status = 404


class Conflict(DiscoveryError):
    status = 409


class Forbidden(DiscoveryError):
    status = 403


class Unauthorized(DiscoveryError):
    status = 401


class TooManyRequests(DiscoveryError):
    """A caller went past a rate limit; worth a retry after `retry_after` seconds."""

    status = 429

    def __init__(self, detail: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after = retry_after


class TooLarge(DiscoveryError):
    """The input is well formed but costs more than this operation allows (413)."""

    status = 413


class BackendUnavailable(DiscoveryError):
    """The search engine or a service it needs does not answer; worth a retry."""

    status = 503


class GenerationMoved(BackendUnavailable):
    """A kNN query named a model the index holds no vector of in that field, while it holds
    other models' vectors there: a model switch swapped the index's generation under the
    caller. Asked again with one of `models` (the index's), it is answered."""

    def __init__(self, detail: str, *, models: tuple[str, ...], field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.models = models


class IndexLayoutChanged(BackendUnavailable):
    """The index on disk was written with another layout than this version reads; it
    is rebuilt from the records (the index is derived data)."""


class RejectedInput(DiscoveryError):
    """One input item (row, file) is refused; carries where."""

    status = 422

    def __init__(
        self, detail: str, *, field: str | None = None, line: int | None = None, file: str | None = None
    ) -> None:
        super().__init__(detail, field=field)
        self.line = line
        self.file = file
