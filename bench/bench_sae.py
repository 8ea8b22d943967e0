"""SAE training speed: activations per second and the fraction of this machine's measured fp32
matmul throughput that training reaches (one thread), for the 256 -> 4096 SAE.

    python bench/bench_sae.py [--quick]      # prints a table, writes bench/sae.json

Training FLOPs are counted as 10 d F per activation: five d x F products (encoder and decoder
forward; decoder input and weight gradients; encoder weight gradient, the input needs none) at 2
FLOPs per multiply-add. The TopK decoder is run dense, so the same count applies. The baseline
is the best `torch.mm` throughput over the five shapes one training step multiplies and a 2048^3
product (best of 10 runs each), measured in the same run. Step times exclude the one-off setup
(difference of two run lengths) and include reading shuffled minibatches from a memory-mapped
.npy file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from common.config import add_config_flags, add_run_flags, at_least, config_from_args, knob
from common.process import setup_process
from sae.data import batches, open_acts, split_rows
from sae.train import TrainConfig, train_sae

OUT = Path(__file__).with_name("sae.json")
D, F = 256, 4096


@dataclass(frozen=True)
class BenchConfig:
    short: int = knob(5, "steps of the shorter run (step time = difference of two runs)",
                      check=at_least(1))
    long: int = knob(30, "steps of the longer run", check=at_least(2))
    rows: int = knob(200_000, "rows of the random activations file", check=at_least(8192))
    repeats: int = knob(10, "runs of each matmul shape (the best one counts)", check=at_least(1))


DEFAULT = BenchConfig()
QUICK = replace(DEFAULT, short=2, long=8)


def matmul_gflops(batch: int, repeats: int) -> float:
    """Best fp32 GFLOP/s of the products in one training step at this batch size."""
    x, w_enc, g = torch.randn(batch, D), torch.randn(D, F), torch.randn(batch, D)
    f, w_dec = torch.randn(batch, F), torch.randn(F, D)
    square = torch.randn(2048, 2048)
    shapes = [(x, w_enc), (f, w_dec), (g, w_dec.T), (f.T, g), (x.T, f), (square, square)]
    best = 0.0
    for a, b in shapes:
        flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b)
            best = max(best, flops / (time.perf_counter() - start) / 1e9)
    return best


def step_seconds(cfg: TrainConfig, acts: np.ndarray, short: int, long: int) -> float:
    split = split_rows(len(acts), 0.01, 0)
    times = []
    for steps in (short, long):
        start = time.perf_counter()
        train_sae(replace(cfg, steps=steps), acts, split, progress=False, log_every=10**9)
        times.append(time.perf_counter() - start)
    return (times[1] - times[0]) / (long - short)


def gather_rate(acts: np.ndarray, batch: int, count: int) -> float:
    it = batches(acts, np.arange(len(acts)), batch, np.random.default_rng(0))
    start = time.perf_counter()
    for _ in range(count):
        next(it)
    return batch * count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_config_flags(parser, BenchConfig, presets={"quick": QUICK})
    add_run_flags(parser, out=f"JSON file, default {OUT}", quick="fewer steps per measurement")
    args = parser.parse_args(argv)
    setup_process(threads=1, plots=False)
    cfg_b, _ = config_from_args(args, BenchConfig, QUICK if args.quick else DEFAULT)
    short, long = cfg_b.short, cfg_b.long
    out = args.out or OUT
    results = {"d": D, "features": F, "threads": 1, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "acts.npy"
        np.save(path, np.random.default_rng(0).standard_normal((cfg_b.rows, D), np.float32))
        acts = open_acts(path)
        results["gather_rows_per_s"] = gather_rate(acts, 1024, 50)
        print(f"memory-mapped minibatch reads: {results['gather_rows_per_s']:,.0f} rows/s")
        print(f"{'arch':>5} {'batch':>5} {'step ms':>8} {'acts/s':>8} {'GFLOP/s':>8} "
              f"{'mm peak':>8} {'fraction':>8}")
        for arch, batch in (("relu", 1024), ("relu", 4096), ("topk", 1024), ("topk", 4096)):
            peak = matmul_gflops(batch, cfg_b.repeats)
            cfg = TrainConfig(arch=arch, n_features=F, hyper={"k": 32} if arch == "topk" else None,
                              batch_size=batch)
            seconds = step_seconds(cfg, acts, short, long)
            rate = batch / seconds
            achieved = 10 * D * F * rate / 1e9
            row = {"arch": arch, "batch": batch, "step_s": seconds, "acts_per_s": rate,
                   "gflops": achieved, "matmul_peak_gflops": peak, "fraction": achieved / peak}
            results["runs"].append(row)
            print(f"{arch:>5} {batch:>5} {seconds * 1e3:>8.1f} {rate:>8.0f} {achieved:>8.1f} "
                  f"{peak:>8.1f} {achieved / peak:>8.2f}", flush=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
