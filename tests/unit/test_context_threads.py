"""The service process keeps numpy's BLAS to DISCOVERY_TORCH_THREADS threads, as torch."""

from __future__ import annotations

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
