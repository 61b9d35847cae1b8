"""How far image-result scores separate: for every asset of the demo catalog, its similar
assets (the whole catalog, no floor with the tiny model), and the best, 10th and median
hit's calibrated score and raw cosine, averaged over the queries; plus whether each
near-duplicate copy is the first of its original's similar assets, and its score.

    python bench/bench_image_scores.py [--data-dir /tmp/bench-image] [--products 24] [--seed 5]

With no CLIP weights on the machine the tiny random-weight model runs (as in the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discovery.config import Settings  # noqa: E402
from discovery.services.assets import similar  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.services.demo import load_demo  # noqa: E402
from discovery.services.image_results import ImageQuery  # noqa: E402
from discovery.services.image_similarity import spread  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default="/tmp/bench-image")
    parser.add_argument("--products", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(data_dir=Path(args.data_dir), backend="embedded")
    info = load_demo(settings, products=args.products, seed=args.seed)
    truth = json.loads(Path(str(info["truth_json"])).read_text())
    ctx = Context.open(settings)
    try:
        by_name = {a.filename: a.id for batch in ctx.records.iter_assets() for a in batch}
        calibrated: dict[str, list[float]] = {"best": [], "tenth": [], "median": []}
        raw: dict[str, list[float]] = {"best": [], "tenth": [], "median": []}
        for asset_id in by_name.values():
            body = similar(ctx, asset_id, query=ImageQuery(k=200, collapse=False), public=False)
            hits = body["hits"]
            for key, value in spread([float(h["score"]) for h in hits]).items():  # type: ignore[index]
                calibrated[key].append(value)
            for key, value in spread([float(h["cosine"]) for h in hits]).items():  # type: ignore[index]
                raw[key].append(value)
        model = ctx.records.vector_counts()
        print(f"catalog: {len(by_name)} assets, models {model}, load average {os.getloadavg()[0]:.2f}")
        for name, figures in (("calibrated score", calibrated), ("raw cosine", raw)):
            mean = {k: round(statistics.mean(v), 4) for k, v in figures.items()}
            print(f"{name:>17}: mean over {len(by_name)} queries of best {mean['best']}, 10th {mean['tenth']}, "
                  f"median {mean['median']}")
        for dup, facts in sorted(truth.items()):
            original = facts.get("near_duplicate_of")
            if not original or dup not in by_name:
                continue
            body = similar(ctx, by_name[original], query=ImageQuery(k=200), public=False)
            top = body["hits"][0]  # type: ignore[index]
            print(f"near-duplicate {dup}: the first hit of its original's similar assets: "
                  f"{top['id'] == by_name[dup]} (score {top['score']}, cosine {top['cosine']})")
    finally:
        ctx.close()


if __name__ == "__main__":
    main()
