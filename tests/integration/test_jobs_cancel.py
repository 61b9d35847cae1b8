"""Cancel stops every stage of a job: a large XLSX import cancelled while its plan still reads
the file stops reading within seconds and leaves no chunk pending or running; chunks a plan
adds after the cancel are cancelled at once (embedded engine, in-process jobs)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from discovery.config import Settings, TextSettings
from discovery.services import jobs
from discovery.services.context import Context
from discovery.store.job_records import JobStore
from indexer.jobs.model import JobTuning

ROWS = 40_000


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    ctx = Context.open(Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False)))
    yield ctx
    jobs.close_jobs(ctx, wait=True)
    ctx.close()


def _large_xlsx(rows: int) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("products")
    sheet.append(["sku", "name", "brand", "price", "categories"])
    for i in range(rows):
        sheet.append([f"X-{i:06d}", f"Sheet product {i}", f"Brand {i % 9}", 10 + i % 50, "Home/Kitchen"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _wait_for(what: str, check: object, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout}s")


def test_cancelling_a_large_xlsx_import_stops_its_planning_and_leaves_nothing_pending(ctx: Context) -> None:
    job_id = jobs.start_product_import(
        ctx, source=_large_xlsx(ROWS), filename="large.xlsx", mode="full", tuning=JobTuning(chunk_size=20)
    )
    store = JobStore(ctx.records.engine)

    def plan_state() -> str:
        return str(store.chunks(job_id)[0]["state"])

    _wait_for("the plan running", lambda: plan_state() == "running", 60)
    time.sleep(0.5)  # well inside the reading of the file (the plan reads it for seconds)
    assert jobs.cancel_job(ctx, job_id)["state"] == "cancelled"

    took = _wait_for("the plan stopping", lambda: plan_state() != "running", 15)
    print(f"the plan stopped {took:.1f}s after the cancel")
    assert plan_state() == "cancelled"
    assert store.chunk_states(job_id) == {"total": 0}  # no work chunk was added behind the cancel
    assert store.pending_chunks(job_id) == []
    assert took < 6, took
    assert sum(len(b) for b in ctx.records.iter_products()) == 0


def test_chunks_a_plan_adds_after_its_job_was_cancelled_are_cancelled(ctx: Context) -> None:
    store = JobStore(ctx.records.engine)
    job_id = store.create_job("import_products", params={}, created_by=None, plan={"label": "plan"})
    assert store.cancel(job_id)
    store.add_chunks(job_id, [{"label": "a"}, {"label": "b"}])
    assert store.pending_chunks(job_id) == []
    assert store.chunk_states(job_id) == {"total": 2, "cancelled": 2}  # the plan not counted
