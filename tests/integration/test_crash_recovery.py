"""`kill -9` of a real server in the middle of an asset ingest sent as a zip: once it is
restarted and the job has finished, every asset the records hold is in the search index
exactly once, and the job reports them as indexed, not as duplicates of themselves.
Asserted through the HTTP API only, on both engines."""

from __future__ import annotations

import contextlib
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_server import Server, image_zip

PICTURES = 300
ENGINES = [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)]


@pytest.fixture(params=ENGINES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    env: dict[str, str] = {"DISCOVERY_BACKEND": request.param}
    prefix = ""
    if request.param == "opensearch":
        url = request.getfixturevalue("opensearch_url")
        prefix = f"crash-{uuid.uuid4().hex[:10]}"
        env |= {"DISCOVERY_OPENSEARCH_URL": url, "DISCOVERY_INDEX_PREFIX": prefix}
    srv = Server(tmp_path / "var", tmp_path / "server.log", key=f"crash-{secrets.token_hex(12)}", env=env)
    yield srv
    srv.stop()
    if prefix:
        _drop_indices(request.getfixturevalue("opensearch_url"), prefix)


def _drop_indices(url: str, prefix: str) -> None:
    import urllib.request

    req = urllib.request.Request(f"{url}/{prefix}*", method="DELETE")
    with contextlib.suppress(OSError):
        urllib.request.urlopen(req, timeout=30).read()  # noqa: S310 - loopback test service


def _stored_originals(server: Server) -> int:
    """Files in the blob store: only to choose the moment of the kill, never asserted on."""
    root = server.data_dir / "blobs"
    return sum(1 for _ in root.glob("??/??/*")) if root.exists() else 0


def _settled_titles(server: Server, within_s: float = 5.0) -> list[str]:
    """The index's asset titles once the server has followed the worker's last commit: the
    chunk the kill interrupted runs again last, and a server process sees another process's
    commit within about a second (DESIGN: readers follow), not at the instant the job ends."""
    deadline = time.monotonic() + within_s
    titles = server.asset_titles()
    while len(titles) < PICTURES and time.monotonic() < deadline:
        time.sleep(0.2)
        titles = server.asset_titles()
    return titles


def test_assets_stored_before_a_kill_9_are_all_searchable_once_the_job_succeeds(server: Server) -> None:
    data, names = image_zip(PICTURES)
    server.start()
    job = server.upload("/api/ingest/assets", "files", "pictures.zip", data, "application/zip")
    before = _stored_originals(server)
    deadline = time.monotonic() + 240
    # Kill once part of the zip is stored (originals and renditions): mid-chunk.
    while _stored_originals(server) < before + PICTURES // 2:
        assert time.monotonic() < deadline, server.tail()
        assert server.get(f"/api/jobs/{job['id']}")["state"] in ("queued", "running"), "finished before the kill"
        time.sleep(0.1)
    server.kill9()

    server.start()
    done = server.wait_job(job["id"], timeout=600)
    assert done["state"] == "succeeded", done
    counts = done["counts"]
    got = (counts["received"], counts["indexed"], counts["duplicates"], counts["rejected"])
    assert got == (PICTURES, PICTURES, 0, 0)
    titles = _settled_titles(server)
    assert sorted(titles) == sorted(names)  # every picture once, none twice
    assert server.get("/api/search?type=asset&mode=keyword&size=1")["total"] == PICTURES

    server.stop()
    server.start()  # and so it stays after another restart
    assert sorted(server.asset_titles()) == sorted(names)
