"""Drive schemathesis over the in-process app, operation by operation, and collect what
breaks instead of stopping at the first failure: a 5xx (or an exception out of the app)
and any answer that does not match the OpenAPI document (status, content type, body).

Generation is bounded: `examples` per operation, no deadline, no shrinking, a fixed seed
(the same cases every run, so a failure is reproducible from the printed curl), and a wall
clock budget after which the remaining operations are reported as not run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class FuzzRun:
    """What one pass found: failures by (operation, what), and how much ran."""

    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # -> first reproduction
    calls: int = 0
    operations: int = 0
    not_run: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.operations} operations, {self.calls} calls in {self.seconds:.1f}s, "
            f"{len(self.failures)} failures, {len(self.not_run)} operations over budget"
        )

    def report(self) -> str:
        lines = [self.summary()]
        lines += [f"- {op}: {what}\n    {repro}" for (op, what), repro in sorted(self.failures.items())]
        return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if line.startswith("- "):  # schemathesis names each failed check on such a line
            return line[2:]
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:200]


def fuzz(
    schema: schemathesis.BaseSchema,
    *,
    headers: dict[str, str],
    examples: int,
    budget_s: float,
    mode: GenerationMode = GenerationMode.POSITIVE,
    path_parameters: dict[str, str] | None = None,
    select: Callable[[Any], bool] = lambda _op: True,
) -> FuzzRun:
    """Fuzz every selected operation; with `path_parameters`, only operations whose path
    parameters are all known, called with those values (real ids reach real answers)."""
    run = FuzzRun()
    _wait_until_ready(schema, headers)
    started = time.perf_counter()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken: nothing to fuzz against
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        names = [p.name for p in operation.path_parameters]
        if not select(operation) or (path_parameters is not None and (not names or set(names) - set(path_parameters))):
            continue
        if time.perf_counter() - started > budget_s:
            run.not_run.append(label)
            continue
        run.operations += 1
        fixed = {n: path_parameters[n] for n in names} if path_parameters is not None else None
        _fuzz_operation(run, operation, label, headers, examples, mode, fixed)
    run.seconds = time.perf_counter() - started
    return run


def _wait_until_ready(schema: schemathesis.BaseSchema, headers: dict[str, str], timeout_s: float = 120.0) -> None:
    """Schemathesis starts the app's lifespan afresh, and `/readyz` answers 503 while its
    models warm up (as it should): fuzzing starts once it says ready."""
    readyz = schema["/readyz"]["GET"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if readyz.Case().call(headers=headers, timeout=30).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"/readyz did not say ready within {timeout_s:.0f} s")


def _fuzz_operation(
    run: FuzzRun,
    operation: Any,
    label: str,
    headers: dict[str, str],
    examples: int,
    mode: GenerationMode,
    fixed: dict[str, str] | None,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        # The caller is who the test says: a generated X-API-Key would make every call a 401.
        for name in list(case.headers or {}):
            if name.lower() == "x-api-key":
                del case.headers[name]
        try:
            response = case.call(headers=headers, timeout=120)
        except Exception as exc:  # an exception out of the app is a 500 to its client
            run.failures.setdefault((label, f"exception {_first_line(exc)}"), case.as_curl_command(headers=headers))
            return
        run.calls += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:
            what = f"{response.status_code} {_first_line(exc)}"
            run.failures.setdefault((label, what), case.as_curl_command(headers=headers))

    # In negative mode an operation whose inputs cannot be made invalid is Unsatisfiable.
    with contextlib.suppress(Unsatisfiable):
        one()
