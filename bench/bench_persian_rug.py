"""Benchmark: K untied models trained in one batched call vs K separate runs (same total work).

Prints the time per model-step of both and their ratio, measured in the same run, and writes
bench/bench_persian_rug.json (or into --out).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace

from common.config import add_config_flags, add_run_flags, config_from_args, knob, positive
from common.io import REPO_ROOT, atomic_write_bytes
from common.process import setup_process
from toymodels.persian_rug.train import UntiedTrainConfig, train_untied


@dataclass(frozen=True)
class BenchPersianRugConfig:
    n: int = knob(256, "features n (m = n / 4 hidden units)", check=positive)
    models: int = knob(5, "models K (densities 0.01 ... 0.01 K)", check=positive)
    steps: int = knob(60, "training steps timed", check=positive)
    seed: int = knob(0, "seed of the models and samples")


DEFAULT = BenchPersianRugConfig()
QUICK = replace(DEFAULT, n=64, steps=20)


def _seconds(cfg: UntiedTrainConfig) -> float:
    start = time.perf_counter()
    train_untied(cfg, progress=False)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_config_flags(parser, BenchPersianRugConfig, presets={"quick": QUICK})
    add_run_flags(parser, out="folder of bench_persian_rug.json (default bench/)",
                  quick="n = 64, 20 steps")
    args = parser.parse_args(argv)
    cfg, _ = config_from_args(args, BenchPersianRugConfig, QUICK if args.quick else DEFAULT)
    setup_process(threads=1, plots=False)
    ps = tuple(0.01 * (k + 1) for k in range(cfg.models))
    m = max(1, cfg.n // 4)

    def spec(ps: tuple[float, ...], steps: int) -> UntiedTrainConfig:
        return UntiedTrainConfig(n=cfg.n, m=m, ps=ps, steps=steps, seed=cfg.seed)

    _seconds(spec(ps, 5))  # warm-up: lazy imports, allocator
    batched = _seconds(spec(ps, cfg.steps))
    separate = sum(_seconds(spec((p,), cfg.steps)) for p in ps)
    per = cfg.models * cfg.steps
    out = {"n": cfg.n, "m": m, "models": cfg.models, "steps": cfg.steps,
           "batched_ms_per_model_step": 1e3 * batched / per,
           "separate_ms_per_model_step": 1e3 * separate / per,
           "speedup_batched_over_separate": separate / batched}
    print(json.dumps(out, indent=2))
    folder = args.out or REPO_ROOT / "bench"
    text = json.dumps(out, indent=2) + "\n"
    atomic_write_bytes(folder / "bench_persian_rug.json", text.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
