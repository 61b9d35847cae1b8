"""What every test that starts a real `discovery serve` (or another server process) needs: a
free loopback port, the process started in its own process group (so a stop or `kill -9`
takes its job workers with it), a wait until it answers, a stop that escalates, and a look
at its children through /proc.

The servers themselves differ in what they are asked (httpx or urllib, which key, which
engine), so they live beside their tests: tests/integration/server_support.py,
tests/integration/crash_server.py, tests/security/live_server.py."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    command: Sequence[str], *, env: dict[str, str], log: Path, cwd: Path = ROOT, append: bool = True
) -> subprocess.Popen[bytes]:
    """`command` in a new session (its own process group), stdout and stderr into `log`."""
    with log.open("ab" if append else "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def wait_until_up(
    proc: subprocess.Popen[bytes],
    answers: Callable[[], bool],
    *,
    log: Path,
    timeout: float = 60.0,
    every: float = 0.1,
) -> None:
    """Poll `answers()` (an HTTP probe; any error it raises, a refused or reset connection while
    the server starts, counts as "not yet") until it is true; raise with the log's tail when
    the process exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {log_tail(log)}")
        try:
            if answers():
                return
        except Exception:  # noqa: BLE001 - refused or reset while it starts: not up yet
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not come up in {timeout:.0f}s: {log_tail(log)}")
        time.sleep(every)


def stop_group(proc: subprocess.Popen[bytes], *, timeout: float = 30.0) -> None:
    """SIGTERM to the process group, SIGKILL after `timeout` seconds; a no-op once it exited."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        proc.wait()
    except subprocess.TimeoutExpired:
        kill_group(proc)


def kill_group(proc: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    """SIGKILL to the whole process group, as a crash would: nothing gets to clean up."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def children(pid: int) -> list[int]:
    """Pids of the processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
