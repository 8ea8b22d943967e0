"""Benchmark: K untied models trained in one batched call vs K separate runs (same total work).

Prints the time per model-step of both and their ratio, measured in the same run, and writes
bench/bench_persian_rug.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from common.cli import positive_int
from common.io import REPO_ROOT
from toymodels.untied import TrainConfig, train_untied


def _seconds(cfg: TrainConfig) -> float:
    start = time.perf_counter()
    train_untied(cfg, progress=False)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=positive_int, default=256)
    parser.add_argument("--models", type=positive_int, default=5)
    parser.add_argument("--steps", type=positive_int, default=60)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    ps = tuple(0.01 * (k + 1) for k in range(args.models))
    m = args.n // 4
    _seconds(TrainConfig(n=args.n, m=m, ps=ps, steps=5))  # warm-up: lazy imports, allocator
    batched = _seconds(TrainConfig(n=args.n, m=m, ps=ps, steps=args.steps))
    separate = sum(_seconds(TrainConfig(n=args.n, m=m, ps=(p,), steps=args.steps)) for p in ps)
    per = args.models * args.steps
    out = {"n": args.n, "m": m, "models": args.models, "steps": args.steps,
           "batched_ms_per_model_step": 1e3 * batched / per,
           "separate_ms_per_model_step": 1e3 * separate / per,
           "speedup_batched_over_separate": separate / batched}
    print(json.dumps(out, indent=2))
    (REPO_ROOT / "bench" / "bench_persian_rug.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
