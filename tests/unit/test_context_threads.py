"""The service process: numpy BLAS on DISCOVERY_TORCH_THREADS threads, as torch; a heap left out of full collections."""

from __future__ import annotations

import gc
from pathlib import Path

from threadpoolctl import threadpool_info

from discovery.config import Settings, TextSettings
from discovery.services.context import Context


def test_opening_the_service_puts_numpy_blas_on_the_configured_threads(tmp_path: Path) -> None:
    ctx = Context.open(Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False), torch_threads=1))
    try:
        assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}
    finally:
        ctx.close()


def test_what_the_service_loaded_is_left_out_of_full_collections_until_it_closes(tmp_path: Path) -> None:
    ctx = Context.open(Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False)))
    try:
        assert gc.get_freeze_count() > 0
    finally:
        ctx.close()
    assert gc.get_freeze_count() == 0
