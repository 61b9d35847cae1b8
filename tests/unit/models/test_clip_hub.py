"""Pretrained CLIP weights come from a hub: fetched once, verified, resumed, or refused and replaced.

A local HTTP server plays the hub the way Hugging Face answers: `/{repo}/resolve/main/{file}`
redirects to the bytes, stating their size and sha256 on the redirect. It serves a random-weight
checkpoint of the real ViT-B-32 architecture, so the real load path runs end to end.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import open_clip
import pytest
from safetensors.torch import save_file

from models.clip import ClipModel
from models.errors import ModelUnavailable

REPO = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
WEIGHTS = "open_clip_model.safetensors"
TAG = "laion2b_s34b_b79k"


@dataclass
class FakeHub:
    """What the hub serves and how it misbehaves; what it was asked."""

    payload: bytes
    sha256: str
    interrupt_next: bool = False
    corrupt: bool = False
    byte_requests: list[str | None] = field(default_factory=list)  # the Range header of each
    url: str = ""


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == f"/{REPO}/resolve/main/{WEIGHTS}":
                self.send_response(302)
                self.send_header("Location", f"/cdn/{hub.sha256}")
                self.send_header("X-Linked-Size", str(len(hub.payload)))
                self.send_header("X-Linked-Etag", f'"{hub.sha256}"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if not self.path.startswith("/cdn/"):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            rng = self.headers.get("Range")
            hub.byte_requests.append(rng)
            body = bytes(reversed(hub.payload)) if hub.corrupt else hub.payload
            start = int(rng.removeprefix("bytes=").rstrip("-")) if rng else 0
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            if hub.interrupt_next:  # half the bytes, then the connection drops
                hub.interrupt_next = False
                self.wfile.write(body[start : start + (len(body) - start) // 2])
                self.close_connection = True
                return
            self.wfile.write(body[start:])

    return Handler


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A random-weight ViT-B-32 checkpoint in half precision (the real architecture, ~300 MB)."""
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    path = tmp_path_factory.mktemp("ckpt") / WEIGHTS
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(path))
    return path.read_bytes()


@pytest.fixture
def hub(checkpoint: bytes) -> Iterator[FakeHub]:
    fake = FakeHub(checkpoint, hashlib.sha256(checkpoint).hexdigest())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def _clip(cache: Path, hub_url: str, *, fallback: bool = False) -> ClipModel:
    return ClipModel(
        "ViT-B-32", TAG, device="cpu", cpu_accel="none", cache_dir=str(cache), hub_url=hub_url,
        fallback_to_tiny=fallback,
    )  # fmt: skip


def test_weights_download_once_verify_load_and_a_second_start_downloads_nothing(hub: FakeHub, tmp_path: Path) -> None:
    first = _clip(tmp_path, hub.url).load()
    vectors = first.encode_texts(["a red sneaker on a white background"])
    assert vectors.shape == (1, 512) and np.isclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-3)
    assert first.model_id == f"ViT-B-32@{TAG}" and not first.random_weights and first.fallback is None
    assert len(hub.byte_requests) == 1
    stored = tmp_path / "hub" / REPO.replace("/", "--") / "main" / WEIGHTS
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hub.sha256

    again = _clip(tmp_path, hub.url).load()  # a second start, as a new process would
    assert np.allclose(again.encode_texts(["a red sneaker on a white background"]), vectors, atol=1e-5)
    assert len(hub.byte_requests) == 1, "the second start downloaded again"


def test_an_interrupted_download_is_refused_then_resumes_where_it_stopped(hub: FakeHub, tmp_path: Path) -> None:
    hub.interrupt_next = True
    with pytest.raises(ModelUnavailable, match="resumes"):
        _clip(tmp_path, hub.url).load()
    assert not (tmp_path / "hub" / REPO.replace("/", "--") / "main" / WEIGHTS).exists()

    resumed = _clip(tmp_path, hub.url).load()
    assert resumed.model_id == f"ViT-B-32@{TAG}"
    assert hub.byte_requests[0] is None
    resumed_from = int((hub.byte_requests[1] or "").removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= len(hub.payload) // 2  # the kept half was not fetched again


def test_a_corrupt_file_is_deleted_and_never_loaded(hub: FakeHub, tmp_path: Path) -> None:
    hub.corrupt = True
    with pytest.raises(ModelUnavailable, match="sha256"):
        _clip(tmp_path, hub.url).load()
    folder = tmp_path / "hub" / REPO.replace("/", "--") / "main"
    assert list(folder.iterdir()) == [], "corrupt bytes were kept"


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_without_a_hub_the_tiny_model_runs_and_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="discovery.models"):
        clip = _clip(tmp_path, _closed_port_url(), fallback=True).load()
    assert clip.model_id.startswith("tiny@") and clip.is_tiny
    assert clip.fallback and "could not be reached" in clip.fallback
    status = clip.status()
    assert status["configured"] == "ViT-B-32" and status["tiny"] is True and status["fallback"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "tiny random model runs instead" in warnings[0]
    assert "\n" not in warnings[0]


def test_without_a_hub_and_no_fallback_the_setting_to_change_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="DISCOVERY_CLIP_PRETRAINED"):
        _clip(tmp_path, _closed_port_url()).load()


def _cli(args: list[str], data_dir: Path, hub_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DISCOVERY_DATA_DIR": str(data_dir), "DISCOVERY_CLIP_HUB_URL": hub_url,
           "DISCOVERY_CLIP_MODEL": "ViT-B-32", "DISCOVERY_CLIP_PRETRAINED": TAG}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "discovery.cli", "models", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_models_pull_list_and_verify_from_the_command_line(hub: FakeHub, tmp_path: Path) -> None:
    pulled = _cli(["pull"], tmp_path, hub.url)
    assert pulled.returncode == 0, pulled.stderr
    path = Path(pulled.stdout.strip())
    assert path.is_file() and path.is_relative_to(tmp_path / "models")
    assert _cli(["pull"], tmp_path, hub.url).returncode == 0 and len(hub.byte_requests) == 1  # cached

    listed = _cli(["list"], tmp_path, hub.url)
    assert listed.returncode == 0 and WEIGHTS in listed.stdout and "ViT-B-32/laion2b_s34b_b79k" in listed.stdout
    assert _cli(["verify"], tmp_path, hub.url).returncode == 0

    with path.open("r+b") as handle:  # a bit flipped on disk after the download
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 1]))
    checked = _cli(["verify"], tmp_path, hub.url)
    assert checked.returncode == 1 and "BAD" in checked.stdout
