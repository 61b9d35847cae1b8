"""How a command on this machine finds the server using its data dir, and is let in.

`discovery serve` writes `<data_dir>/server.json` (its URL and pid) when it starts and
removes it at a clean shutdown; a reader ignores the file when the pid is not running (a
killed server leaves it behind). Beside it, `<data_dir>/local.key` (mode 0600, so only
the user who runs the server can read it) holds an editor API key for local commands:
whoever can read the data dir can change the data anyway. The key is made once and kept
while the records still know it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from discovery.api.auth import Role, create_key, hash_key
from discovery.store.records import Records

SERVER_FILE = "server.json"
KEY_FILE = "local.key"
LOCAL_ROLE: Role = "editor"


@dataclass(frozen=True, slots=True)
class LocalServer:
    url: str
    pid: int
    key: str | None


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner can read."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def local_key(records: Records, data_dir: Path) -> str:
    """The local commands' key: the one in `local.key` if the records still know it, else
    a new editor key written there."""
    path = data_dir / KEY_FILE
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key and records.role_for_key_hash(hash_key(key)) is not None:
        return key
    key = create_key(records, role=LOCAL_ROLE, name="local commands (local.key)")
    _write_private(path, key + "\n")
    return key


def announce(records: Records, data_dir: Path, url: str) -> None:
    """Tell local commands this process serves `data_dir` at `url`."""
    local_key(records, data_dir)
    _write_private(data_dir / SERVER_FILE, json.dumps({"url": url, "pid": os.getpid()}) + "\n")


def withdraw(data_dir: Path) -> None:
    """Remove `server.json` if it is this process's (clean shutdown)."""
    path = data_dir / SERVER_FILE
    try:
        if int(json.loads(path.read_text()).get("pid", -1)) == os.getpid():
            path.unlink()
    except (FileNotFoundError, ValueError, OSError):
        pass


def find_server(data_dir: Path) -> LocalServer | None:
    """The running server announced in `data_dir`, or None (no file, or its pid is gone)."""
    try:
        info = json.loads((data_dir / SERVER_FILE).read_text())
        url, pid = str(info["url"]), int(info["pid"])
    except (FileNotFoundError, ValueError, KeyError, TypeError, OSError):
        return None
    if not _running(pid):
        return None
    try:
        key: str | None = (data_dir / KEY_FILE).read_text().strip() or None
    except OSError:
        key = None
    return LocalServer(url=url, pid=pid, key=key)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    # A zombie (killed, not yet reaped by its parent) still answers signal 0.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"
