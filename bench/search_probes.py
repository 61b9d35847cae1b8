"""The query mix of bench_search.py, and the table it prints."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from search_dataset import TINY_CLIP_DIM, Meta
from search_layers import Call

from discovery.services.context import Context
from discovery.services.image_results import ImageQuery, image_results
from discovery.services.search import SearchRequest, search

FACETS = ("brand", "category", "color", "size")
LAYERS = ("service", "svc-cached", "raw", "rest", "http", "embed")
SHAPES = ("kw+4f+filter", "common+4f", "hybrid+4f", "knn-text", "knn-vector")
NOUN_HINTS = ("shirt", "jacket", "boots", "hoodie", "sweater", "sneakers", "scarf", "tote", "jeans", "mug")


@dataclass
class Probe:
    """One request of one shape, with what each layer needs to send it."""

    shape: str
    request: SearchRequest | None = None
    vector: list[float] | None = None  # knn-vector: the query vector
    model: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    http: list[tuple[str, str]] | None = None
    embed: str | None = None  # text | clip: the model that embeds the query in the service
    calls: list[Call] = field(default_factory=list)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    total: int = 0

    def run_service(self, ctx: Context) -> int:
        if self.request is not None:
            return int(search(ctx, self.request)["total"])  # type: ignore[call-overload]
        assert self.vector is not None
        query = ImageQuery(k=20, filters=dict(self.filters or {}))
        vector = np.asarray(self.vector, dtype=np.float32)
        body = image_results(ctx, vector, model=self.model, query=query, public=False)
        return int(body["total_assets"])  # type: ignore[arg-type]

    def run_embed(self, ctx: Context) -> None:
        if self.request is None or self.embed is None:
            return
        if self.embed == "text":
            model = ctx.text()
            assert model is not None
            model.encode([self.request.q])
        else:
            ctx.clip().encode_texts([self.request.q])


def _params(req: SearchRequest) -> list[tuple[str, str]]:
    out = [("q", req.q), ("type", req.type), ("mode", req.mode)]
    if req.facets:
        out.append(("facets", ",".join(req.facets)))
    out += [(f"filter.{name}", v) for name, values in req.filters.items() for v in values]
    return out


def _words(rnd: random.Random, meta: Meta) -> str:
    nouns = [w for w in meta.name_words if w in NOUN_HINTS] or meta.name_words
    if rnd.random() < 0.5:
        return rnd.choice(meta.name_words)
    return f"{rnd.choice(meta.name_words)} {rnd.choice(nouns)}"


def make_probes(meta: Meta, m: int, seed: int) -> list[Probe]:
    """M requests per shape, interleaved by shape (so load drifts hit every shape)."""
    rnd = random.Random(seed)
    vecs = np.random.default_rng(seed)
    per_shape: dict[str, list[Probe]] = defaultdict(list)
    for _ in range(m):
        brand = rnd.choice(meta.brands)
        req = SearchRequest(q=_words(rnd, meta), mode="keyword", facets=FACETS, filters={"brand": (brand,)})
        per_shape["kw+4f+filter"].append(Probe("kw+4f+filter", req, http=_params(req)))
        req = SearchRequest(q=rnd.choice(meta.common_terms), mode="keyword", facets=FACETS)
        per_shape["common+4f"].append(Probe("common+4f", req, http=_params(req)))
        req = SearchRequest(q=_words(rnd, meta), mode="hybrid", facets=FACETS)
        per_shape["hybrid+4f"].append(Probe("hybrid+4f", req, http=_params(req), embed="text"))
        filters: dict[str, tuple[str, ...]] = {"background": ("white",), "colors": (rnd.choice(meta.colors),)}
        if meta.clip_dim == TINY_CLIP_DIM:
            q = f"{rnd.choice(meta.colors)} {rnd.choice(NOUN_HINTS)}"
            req = SearchRequest(q=q, type="asset", mode="semantic", filters=filters)
            per_shape["knn-text"].append(Probe("knn-text", req, http=_params(req), embed="clip"))
        vec = vecs.standard_normal(meta.clip_dim).astype(np.float32)
        per_shape["knn-vector"].append(
            Probe("knn-vector", vector=(vec / np.linalg.norm(vec)).tolist(), model=meta.clip_model, filters=filters)
        )
    return [probe for i in range(m) for shape in SHAPES for probe in per_shape[shape][i : i + 1]]


@dataclass
class Samples:
    ms: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    load: tuple[Any, Any] = ((), ())
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, shape: str, layer: str, ms: float, cpu: float | None = None) -> None:
        self.ms[(shape, layer)].append(ms)
        if cpu is not None:
            self.cpu[(shape, layer)].append(cpu)

    def cpu_p50(self, shape: str, layer: str) -> str:
        values = self.cpu.get((shape, layer))
        return f"{float(np.median(values)):8.2f}" if values else f"{'-':>8s}"

    def pct(self, shape: str, layer: str) -> tuple[float, float, float] | None:
        values = self.ms.get((shape, layer))
        if not values:
            return None
        p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
        return float(p50), float(p95), float(p99)


def _versus(s: Samples, shape: str, layer: str, p50: float) -> str:
    base = {"service": "raw", "svc-cached": "raw", "http": "service", "raw": "rest", "rest": "os-took"}.get(layer)
    ref = s.pct(shape, base) if base else None
    if ref is None or ref[0] <= 0:
        return ""
    return f"{p50 - ref[0]:+7.2f} ms  x{p50 / ref[0]:5.2f}  vs {base}"


def print_table(results: dict[str, Samples], meta: Meta, m: int) -> None:
    print(
        f"\n{meta.products} products + {meta.assets} assets, {m} queries per shape, times in ms "
        f"(service includes embed; svc-cached is the service with the query embedding precomputed; "
        f"cpu p50 is this process's CPU time per request, all threads; 'vs' compares wall p50s)"
    )
    print(f"{'engine':10s} {'query':13s} {'layer':10s} {'p50':>8s} {'p95':>8s} {'p99':>8s} {'cpu p50':>8s}   vs")
    for engine, s in results.items():
        for shape in (*SHAPES, "healthz"):
            for layer in (*LAYERS, "os-took"):
                pct = s.pct(shape, layer)
                if pct is None:
                    continue
                p50, p95, p99 = pct
                cpu = s.cpu_p50(shape, layer)
                print(f"{engine:10s} {shape:13s} {layer:10s} {p50:8.2f} {p95:8.2f} {p99:8.2f} {cpu}   ", end="")
                print(_versus(s, shape, layer, p50))
        totals = ", ".join(f"{k} {v}" for k, v in s.totals.items())
        before, after = s.load
        print(f"{engine}: median total hits per shape: {totals}")
        print(
            f"{engine}: load average before {tuple(round(x, 2) for x in before)} "
            f"after {tuple(round(x, 2) for x in after)}\n"
        )
