"""CLIP throughput: image and text towers by batch size, files-to-vectors, query latency.

Runs the ViT-B-32 architecture with random weights (the same arithmetic as pretrained
weights, so the same speed) and prints figures:

    .venv/bin/python bench/bench_clip.py                     # CPU: fp32 and the int8 paths
    .venv/bin/python bench/bench_clip.py --images 100 --quick
    .venv/bin/python bench/bench_clip.py --device cuda       # GPU: fp32 and bf16

Targets on a 2-core CPU: >= 35 images/s end to end on the accelerated path, and >= 90%
of that path's model-only rate; one text query <= 20 ms p50.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.clip import ClipModel  # noqa: E402
from models.image_tower import onnx_available  # noqa: E402

QUERIES = ["red running shoe on white background", "black leather boots", "a mug on a kitchen table",
           "striped cotton t-shirt", "person wearing a blue rain jacket outdoors"]  # fmt: skip


def main() -> None:
    args = _args()
    torch.set_num_threads(args.threads or torch.get_num_threads())
    print(
        f"device={args.device} threads={torch.get_num_threads()} arch={args.arch} (random weights), "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    paths = _make_jpegs(Path(tempfile.mkdtemp(prefix="bench-clip-")), args.images, args.size)
    variants = _variants(args)
    base = variants[0][1]
    reference = base.encode_image_files(paths[:16]).vectors
    for label, model in variants:
        t0 = time.perf_counter()
        model.load()
        loaded_in = time.perf_counter() - t0
        print(f"\n== {label}: runtime {model.runtime}, text {model.text_runtime}, loaded in {loaded_in:.1f} s")
        if model is not base:
            cos = np.sum(model.encode_image_files(paths[:16]).vectors * reference, axis=1)
            print(f"   cosine vs {variants[0][0]} on 16 images: min {cos.min():.5f} mean {cos.mean():.5f}")
        rates = {bs: _tower_rate(model, bs, args.quick) for bs in args.batch_sizes}
        print(
            "   image tower, model only (wall | cpu-time estimate): "
            + ", ".join(f"b{bs} {w:.1f} | {c:.1f}/s" for bs, (w, c) in rates.items())
        )
        model.batch_size = args.pipeline_batch
        only_wall, only_cpu = _tower_rate(model, args.pipeline_batch, args.quick)
        clock = _Clock()
        result = model.encode_image_files(paths, workers=args.workers)
        e2e_wall, e2e_cpu = clock.rates(len(paths))
        assert not result.failed, result.failed
        print(
            f"   JPEG files -> vectors ({len(paths)} x {args.size}px, batch {args.pipeline_batch}, "
            f"{args.workers} decode threads): wall {e2e_wall:.1f}/s = {100 * e2e_wall / only_wall:.0f}% "
            f"of model-only {only_wall:.1f}/s; cpu-time estimate {e2e_cpu:.1f}/s = "
            f"{100 * e2e_cpu / only_cpu:.0f}% of {only_cpu:.1f}/s"
        )
    _text(variants)
    print(f"\nload average at end {os.getloadavg()[0]:.1f} (2 cores: above ~2 the wall figures are contended)")


def _variants(args: argparse.Namespace) -> list[tuple[str, ClipModel]]:
    if args.device == "cuda":
        return [
            (p, ClipModel(args.arch, device="cuda", precision=p, batch_size=args.pipeline_batch))
            for p in ("fp32", "bf16")
        ]
    out = [("fp32", ClipModel(args.arch, device="cpu", precision="fp32"))]
    for accel in args.accel:
        if accel == "onnx-int8" and not onnx_available():
            print("onnx-int8 skipped: onnxruntime/onnx not installed")
            continue
        out.append((accel, ClipModel(args.arch, device="cpu", cpu_accel=accel)))
    return out


class _Clock:
    """Wall time, and process CPU time turned into the rate an idle box would give.

    Other work on a shared machine slows the wall clock; CPU seconds spent by this
    process divided over the cores it may use estimate the uncontended rate (an
    estimate: spin-waiting threads make it conservative, imperfect scaling optimistic).
    """

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def rates(self, done: int) -> tuple[float, float]:
        cores = len(os.sched_getaffinity(0))
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        return done / wall, done / (cpu / cores)


def _tower_rate(model: ClipModel, batch: int, quick: bool) -> tuple[float, float]:
    pixels = torch.randn(batch, 3, model.input_size, model.input_size)
    model.encode_pixels(pixels)  # warm-up: allocator, oneDNN/ORT kernels
    target = 2.0 if quick or "cuda" in model.runtime else 5.0
    done, clock = 0, _Clock()
    while time.perf_counter() - clock.wall < target or done < 2 * batch:
        model.encode_pixels(pixels)  # returns numpy: includes the device->host copy
        done += batch
    return clock.rates(done)


def _text(variants: list[tuple[str, ClipModel]]) -> None:
    print("\n== text tower")
    label, base = variants[0]
    for bs in (1, 16, 64):
        texts = [QUERIES[i % len(QUERIES)] + f" {i}" for i in range(bs)]
        base.encode_texts(texts)
        clock, done = _Clock(), 0
        while time.perf_counter() - clock.wall < 2.0:
            base.encode_texts(texts)
            done += bs
        wall, cpu = clock.rates(done)
        print(f"   {label} b{bs}: wall {wall:.1f} | cpu-time estimate {cpu:.1f} texts/s")
    for label, model in variants:
        latencies, cpu_ms = [], []
        for i in range(60):
            t0, c0 = time.perf_counter(), time.process_time()
            model.encode_texts([QUERIES[i % len(QUERIES)]])
            latencies.append((time.perf_counter() - t0) * 1000)
            cpu_ms.append((time.process_time() - c0) * 1000)
        print(
            f"   {label} one query (tokenize + embed): p50 {statistics.median(latencies[10:]):.1f} ms wall, "
            f"p95 {np.percentile(latencies[10:], 95):.1f} ms; CPU time p50 {statistics.median(cpu_ms[10:]):.1f} ms"
        )


def _make_jpegs(directory: Path, count: int, size: int) -> list[Path]:
    """Photo-like JPEGs: a gradient backdrop, a few shapes, mild sensor-like grain."""
    rng = random.Random(0)
    grain = np.random.default_rng(0).normal(0, 6, (size, size, 3)).astype(np.int16)
    ramp = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    paths = []
    t0 = time.perf_counter()
    for i in range(count):
        top, bottom = (np.array([rng.randrange(256) for _ in range(3)], np.float32) for _ in range(2))
        backdrop = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (size, size, 3))
        image = Image.fromarray(backdrop.astype(np.uint8))
        pen = ImageDraw.Draw(image)
        for _ in range(6):
            x, y, r = rng.randrange(size), rng.randrange(size), rng.randrange(size // 20, size // 4)
            pen.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
        # The same grain, shifted per image: photo-like entropy without drawing new noise.
        noisy = np.asarray(image, dtype=np.int16) + np.roll(grain, 37 * i, axis=(0, 1))
        paths.append(directory / f"{i:04d}.jpg")
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(paths[-1], quality=90)
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"generated {count} JPEGs {size}x{size} ({mb:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    return paths


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--arch", default="ViT-B-32")
    parser.add_argument("--images", type=int, default=200, help="JPEG files for the end-to-end run")
    parser.add_argument("--size", type=int, default=1000, help="side of the generated JPEGs")
    parser.add_argument("--batch-sizes", type=lambda s: [int(x) for x in s.split(",")], default=None)
    parser.add_argument("--pipeline-batch", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None, help="decode threads")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: default)")
    parser.add_argument("--accel", type=lambda s: s.split(","), default=["int8", "onnx-int8"])
    parser.add_argument("--quick", action="store_true", help="shorter timing windows")
    args = parser.parse_args()
    gpu = args.device == "cuda"
    args.batch_sizes = args.batch_sizes or ([64, 256, 1024] if gpu else [1, 8, 32])
    args.pipeline_batch = args.pipeline_batch or (256 if gpu else 32)
    args.workers = args.workers or (12 if gpu else 2)
    return args


if __name__ == "__main__":
    main()
