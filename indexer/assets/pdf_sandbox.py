"""PDF reading and rendering in a child process with hard limits: the only way callers
reach `indexer.assets.pdf`.

pypdf and pdfium cannot be bounded from inside: a small PDF whose content stream
inflates to gigabytes keeps pdfium busy for a minute and leaves gigabytes of heap in
the process that asked, and a larger one aborts it. So each PDF is read in a fresh
`python -m indexer.assets.pdf_sandbox` that first caps its own address space
(RLIMIT_AS) and CPU time (RLIMIT_CPU), and the parent kills it after a wall-clock
timeout. What runs over a limit is reported as `PdfOverLimit` (an `UnreadablePdf`),
never as a crash or a slow request. This contains the problem; it does not fix the
libraries.

Protocol: the PDF on stdin; on stdout one JSON header line, then the rendered page as
raw RGB bytes when the header has `image: [width, height]`.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

from PIL import Image

from indexer.assets.pdf import PdfFacts, UnreadablePdf

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PdfLimits:
    """What one PDF may cost. The defaults keep a request that renders a PDF under 10 s
    and the child under 1 GiB whatever the file holds."""

    memory_mb: int = 1024
    cpu_seconds: int = 5
    wall_seconds: float = 7.0


DEFAULT_LIMITS = PdfLimits()
# At most two children at once, so parallel hostile requests cannot multiply the memory.
_CHILDREN = threading.BoundedSemaphore(2)


class PdfOverLimit(UnreadablePdf):
    """Reading or rendering the PDF ran over a limit (time or memory)."""


def _over(limits: PdfLimits, returncode: int) -> str:
    """The reason for a child that died without answering."""
    if returncode in (-signal.SIGKILL, -signal.SIGXCPU):
        return f"PDF refused: processing ran over the limit of {limits.cpu_seconds} s of CPU"
    if returncode in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, 1):
        # pdfium aborts (or faults) when an allocation fails under RLIMIT_AS.
        return f"PDF refused: processing ran over the limit of {limits.memory_mb} MB of memory"
    return "PDF refused: the PDF reader stopped on this file"


def _run(op: str, data: bytes, limits: PdfLimits, *args: str) -> tuple[dict[str, object], bytes]:
    command = [sys.executable, "-m", "indexer.assets.pdf_sandbox", op,
               str(limits.memory_mb), str(limits.cpu_seconds), *args]  # fmt: skip
    with _CHILDREN:
        try:
            done = subprocess.run(command, input=data, capture_output=True, timeout=limits.wall_seconds, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfOverLimit(f"PDF refused: processing ran over the limit of {limits.wall_seconds:g} s") from exc
    header, _, payload = done.stdout.partition(b"\n")
    try:
        answer = json.loads(header)
    except ValueError:
        raise PdfOverLimit(_over(limits, done.returncode)) from None
    if not isinstance(answer, dict):
        raise PdfOverLimit(_over(limits, done.returncode))
    if answer.get("error"):
        raise (PdfOverLimit if answer.get("over") else UnreadablePdf)(str(answer["error"]))
    return answer, payload


def _page(answer: dict[str, object], payload: bytes) -> Image.Image | None:
    size = answer.get("image")
    if not isinstance(size, list):
        return None
    width, height = int(size[0]), int(size[1])
    if len(payload) != width * height * 3:
        raise UnreadablePdf("PDF render came back truncated")
    return Image.frombytes("RGB", (width, height), payload)


def _facts(answer: dict[str, object]) -> PdfFacts:
    raw = answer["facts"]
    assert isinstance(raw, dict)
    return PdfFacts(int(raw["pages"]), str(raw["text"]), dict(raw["metadata"]), list(raw["notes"]))


def pdf_facts(data: bytes, *, limits: PdfLimits = DEFAULT_LIMITS) -> PdfFacts:
    """Page count, text of the first pages and document info. Raises UnreadablePdf
    (PdfOverLimit when a limit was reached)."""
    answer, _ = _run("facts", data, limits)
    return _facts(answer)


def render_first_page(
    data: bytes, *, longest: int, max_pixels: int = 50_000_000, limits: PdfLimits = DEFAULT_LIMITS
) -> Image.Image:
    """The first page as an RGB image whose longest side is `longest` px (white paper).
    Raises UnreadablePdf (PdfOverLimit when a limit was reached)."""
    answer, payload = _run("render", data, limits, str(longest), str(max_pixels))
    page = _page(answer, payload)
    if page is None:
        raise UnreadablePdf("PDF cannot be rendered")
    return page


# --- the child -------------------------------------------------------------------------


def _limit_self(memory_mb: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * _MB, memory_mb * _MB))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(op: str, data: bytes, args: list[str]) -> tuple[dict[str, object], bytes]:
    from indexer.assets import pdf

    answer: dict[str, object] = {}
    if op == "facts":
        facts = pdf.pdf_facts(data)
        answer["facts"] = {"pages": facts.pages, "text": facts.text, "metadata": facts.metadata, "notes": facts.notes}
    if op == "render":
        page = pdf.render_first_page(data, longest=int(args[0]), max_pixels=int(args[1]))
        answer["image"] = list(page.size)
        return answer, page.tobytes()
    return answer, b""


def main(argv: list[str]) -> int:
    op, memory_mb, cpu_seconds, *args = argv
    _limit_self(int(memory_mb), int(cpu_seconds))
    data = sys.stdin.buffer.read()
    try:
        answer, payload = _child(op, data, args)
    except UnreadablePdf as exc:
        answer, payload = {"error": str(exc)}, b""
    except MemoryError:
        reason = f"PDF refused: processing ran over the limit of {memory_mb} MB of memory"
        answer, payload = {"error": reason, "over": True}, b""
    sys.stdout.buffer.write(json.dumps(answer).encode() + b"\n" + payload)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
