"""`discovery models use` on a live catalog, through real processes: a running `discovery
serve` (embedded engine) answers a loop of image searches while the CLI hands the switch
to it; every answer comes from one model whole (its picture's own vector is its best hit at
cosine 1, which a query vector of the other model cannot reach), none fails, none is empty,
and the answers move from the old model to the new once, never back."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from server_support import ROOT, Server, base_env

pytestmark = pytest.mark.slow
COLOURS = [(220, 30, 30), (30, 200, 40), (40, 60, 230), (240, 220, 20), (20, 20, 20), (200, 200, 200),
           (120, 40, 160), (250, 140, 0), (0, 150, 150), (90, 90, 40), (255, 180, 200), (60, 20, 10)]  # fmt: skip


def picture(rgb: tuple[int, int, int], i: int) -> bytes:
    image = Image.new("RGB", (96, 96), rgb)
    for x in range(0, 96, 8 + i):
        for y in range(96):
            image.putpixel((x, y), (255 - rgb[0], 255 - rgb[1], 255 - rgb[2]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def server(tmp_path: Path, data_dir: Path) -> Iterator[Server]:
    s = Server(data_dir, tmp_path / "server.log")
    yield s
    s.stop()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "discovery.cli", *args],
        cwd=ROOT, env=base_env(data_dir), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_model_switch_under_a_query_loop_never_mixes_models(server: Server, data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    for i, rgb in enumerate(COLOURS):
        (folder / f"shot-{i}.png").write_bytes(picture(rgb, i))
    ingested = _cli(data_dir, "ingest", "assets", str(folder))
    assert ingested.returncode == 0, ingested.stderr[-3000:]

    query = picture(COLOURS[0], 0)
    answers: list[tuple[int, str, int, float]] = []  # status, model, hits, best cosine
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            response = server.http.post(
                "/api/search/image", files={"file": ("q.png", query)}, data={"k": "12", "collapse": "false"}
            )
            body = response.json() if response.status_code == 200 else {}
            hits = body.get("hits") or []
            best = float(hits[0]["cosine"]) if hits else 0.0
            answers.append((response.status_code, str((body.get("model") or {}).get("clip")), len(hits), best))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    time.sleep(1.0)
    switched = _cli(data_dir, "models", "use", "tiny-b")
    time.sleep(2.5)  # every process has read the new generation
    stop.set()
    thread.join(timeout=60)

    assert switched.returncode == 0, switched.stderr[-3000:]
    assert "handing the job to" in " ".join(switched.stderr.split())
    last = json.loads(switched.stdout.strip().splitlines()[-1])
    assert last["state"] == "succeeded"
    job = server.http.get(f"/api/jobs/{last['job']}").json()
    assert job["kind"] == "use_clip_model" and job["progress"] == 1.0

    assert len(answers) > 10
    assert {status for status, *_ in answers} == {200}, [a for a in answers if a[0] != 200][:3]
    assert min(n for _, _, n, _ in answers) == len(COLOURS)
    assert min(best for *_, best in answers) > 0.9999  # query vector and neighbours: one model
    models = [model for _, model, _, _ in answers]
    old, new = models[0], models[-1]
    assert old.startswith("tiny@") and new.startswith("tiny-b@")
    flips = [i for i in range(1, len(models)) if models[i] != models[i - 1]]
    assert len(flips) == 1, models  # old, then new, never back

    listed = _cli(data_dir, "models", "list")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert f"image_vector  {new}" in listed.stdout and "active" in listed.stdout
    assert old not in listed.stdout.split("vectors in the records")[1].split("image_vector searches")[0]
    assert f"image_vector searches use {new}" in listed.stdout


def test_models_use_with_an_unknown_model_exits_with_one_line_naming_it(data_dir: Path) -> None:
    done = _cli(data_dir, "models", "use", "NoSuchNet-9")
    assert done.returncode == 2
    assert "error: unknown CLIP architecture 'NoSuchNet-9'" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
