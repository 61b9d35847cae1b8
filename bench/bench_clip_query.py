"""One CLIP text query: torch int8 (trimmed) against the bucketed onnxruntime int8 graphs.

ViT-B-32 with random weights (same arithmetic, same speed), one intra-op thread, the
paths interleaved query by query so a busy machine slows them alike; prints p50/p90,
their ratio, the load average, and the cosine of each path to torch float32 over 50
queries of 1 to ~77 tokens:

    .venv/bin/python bench/bench_clip_query.py [--queries 220]

Target: one query <= 12 ms p50 on 2 cores with other work running.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import open_clip
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.text_tower import OnnxTextTower, TrimmedTextTower  # noqa: E402

WORDS = " ".join(
    [
        "red blue green black white leather cotton denim summer winter dress shirt boots sneaker",
        "bag jacket striped floral vintage modern for men women kids with pockets and a zip on",
        "white background photo of",
    ]
).split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=220)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None).eval()
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    started = time.perf_counter()
    onnx = OnnxTextTower(model, threads=1)
    print(f"ONNX graphs {onnx.buckets} built in {time.perf_counter() - started:.1f} s")
    paths: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "torch-fp32-trimmed": TrimmedTextTower(model, int8=False),
        "torch-int8-trimmed": TrimmedTextTower(model, int8=True),
        onnx.runtime: onnx,
    }
    rng = random.Random(1)
    queries = [" ".join(rng.choices(WORDS, k=rng.choice([1, 2, 3, 5, 8, 12, 20, 40, 60]))) for _ in range(50)]
    with torch.inference_mode():
        expected = [_unit(paths["torch-fp32-trimmed"](tokenizer([q]))) for q in queries]
        for name, run in paths.items():
            cosines = [float(np.sum(_unit(run(tokenizer([q]))) * e)) for q, e in zip(queries, expected, strict=True)]
            print(f"{name:32s} cosine to torch fp32, 50 queries: mean {np.mean(cosines):.5f} min {min(cosines):.5f}")
        short = [q for q in queries if len(q.split()) <= 8]  # what people type: <= 16 tokens
        times: dict[str, list[float]] = {name: [] for name in paths}
        load_before = os.getloadavg()
        for i in range(args.queries + 20):
            tokens = tokenizer([short[i % len(short)]])
            for name, run in paths.items():
                start = time.perf_counter()
                run(tokens)
                if i >= 20:  # warm-up
                    times[name].append((time.perf_counter() - start) * 1000)
        load_after = os.getloadavg()
    base = statistics.median(times["torch-int8-trimmed"])
    for name, samples in times.items():
        samples.sort()
        p50 = statistics.median(samples)
        print(
            f"{name:32s} p50 {p50:6.2f} ms  p90 {samples[int(len(samples) * 0.9)]:6.2f} ms  "
            f"torch-int8 / this {base / p50:.2f}x"
        )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (on {os.cpu_count()} cores)")


def _unit(features: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(features.float(), dim=-1).numpy()


if __name__ == "__main__":
    main()
