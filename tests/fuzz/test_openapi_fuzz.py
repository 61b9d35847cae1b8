"""OpenAPI fuzzing with schemathesis against the app in-process, on the embedded engine
and on OpenSearch, as an anonymous, a viewer and an editor caller: no operation answers a
5xx, and every answer matches the document (status, content type, body schema).

Bounded to fit the test run: EXAMPLES cases per operation and a time budget per pass."""

from __future__ import annotations

import pytest
from schemathesis.generation import GenerationMode

from tests.fuzz.conftest import Fuzzed
from tests.fuzz.fuzz_support import fuzz

EXAMPLES = 25
BUDGET_S = 60.0


@pytest.mark.parametrize("role", [None, "viewer", "editor"], ids=["anonymous", "viewer", "editor"])
def test_generated_requests_never_answer_5xx_or_off_schema(fuzzed: Fuzzed, role: str | None) -> None:
    run = fuzz(fuzzed.schema, headers=fuzzed.catalog.as_role(role), examples=EXAMPLES, budget_s=BUDGET_S)
    print(f"\n{fuzzed.catalog.engine} {role or 'anonymous'}: {run.summary()}")
    assert run.operations > 30 and not run.not_run, run.report()
    assert not run.failures, run.report()


def test_real_ids_reach_real_answers_that_match_the_schema(fuzzed: Fuzzed) -> None:
    # Random ids only ever meet 404s; with real ones the files, renditions, feeds and CSVs answer.
    run = fuzz(
        fuzzed.schema, headers=fuzzed.catalog.as_role("viewer"), examples=10, budget_s=BUDGET_S,
        path_parameters=fuzzed.known,
    )  # fmt: skip
    print(f"\n{fuzzed.catalog.engine} viewer, real ids: {run.summary()}")
    assert run.operations >= 10 and not run.not_run, run.report()
    assert not run.failures, run.report()


def _takes_input(operation: object) -> bool:
    query = [p for p in operation.query]  # type: ignore[attr-defined]
    return bool(query) or bool(list(operation.body))  # type: ignore[attr-defined]


def test_invalid_requests_are_refused_with_a_problem_never_a_5xx(fuzzed: Fuzzed) -> None:
    run = fuzz(
        fuzzed.schema, headers=fuzzed.catalog.as_role("editor"), examples=10, budget_s=BUDGET_S,
        mode=GenerationMode.NEGATIVE, select=_takes_input,
    )  # fmt: skip
    print(f"\n{fuzzed.catalog.engine} editor, invalid input: {run.summary()}")
    assert not run.not_run, run.report()
    assert not run.failures, run.report()
