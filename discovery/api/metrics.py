"""Prometheus text exposition: request latency by route, search latency by engine, job
counts by state, index size. Kept on app.state, never as module globals."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from dataclasses import dataclass, field

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    n: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds
        self.n += 1


def _labels(labels: dict[str, str]) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels.items()
    )
    return "{" + inner + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hist: dict[tuple[str, tuple[tuple[str, str], ...]], Histogram] = defaultdict(Histogram)
        self._help = {
            "discovery_request_seconds": "HTTP request latency by route and method",
            "discovery_search_seconds": "search service latency by engine and mode",
        }

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        with self._lock:
            self._hist[(name, tuple(sorted(labels.items())))].observe(seconds)

    def render(self, gauges: dict[str, tuple[str, dict[tuple[tuple[str, str], ...], float]]]) -> str:
        lines: list[str] = []
        with self._lock:
            by_name: dict[str, list[tuple[tuple[tuple[str, str], ...], Histogram]]] = defaultdict(list)
            for (name, labels), hist in self._hist.items():
                by_name[name].append((labels, hist))
            for name, series in sorted(by_name.items()):
                lines += [f"# HELP {name} {self._help.get(name, name)}", f"# TYPE {name} histogram"]
                for labels, hist in series:
                    base = dict(labels)
                    running = 0
                    for bound, count in zip((*BUCKETS, float("inf")), hist.counts, strict=True):
                        running += count
                        le = "+Inf" if bound == float("inf") else repr(bound)
                        lines.append(f"{name}_bucket{_labels({**base, 'le': le})} {running}")
                    lines.append(f"{name}_sum{_labels(base)} {hist.total:.6f}")
                    lines.append(f"{name}_count{_labels(base)} {hist.n}")
        for name, (help_text, values) in sorted(gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            for labels, value in values.items():
                lines.append(f"{name}{_labels(dict(labels))} {value}")
        return "\n".join(lines) + "\n"
