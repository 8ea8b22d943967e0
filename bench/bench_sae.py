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
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sae.data import batches, open_acts, split_rows
from sae.train import TrainConfig, train_sae

OUT = Path(__file__).with_name("sae.json")
D, F = 256, 4096


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
        train_sae(TrainConfig(**{**cfg.__dict__, "steps": steps}), acts, split, progress=False,
                  log_every=10**9)
        times.append(time.perf_counter() - start)
    return (times[1] - times[0]) / (long - short)


def gather_rate(acts: np.ndarray, batch: int, count: int) -> float:
    it = batches(acts, np.arange(len(acts)), batch, np.random.default_rng(0))
    start = time.perf_counter()
    for _ in range(count):
        next(it)
    return batch * count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps per measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    short, long = (2, 8) if args.quick else (5, 30)
    results = {"d": D, "features": F, "threads": 1, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "acts.npy"
        np.save(path, np.random.default_rng(0).standard_normal((200_000, D), np.float32))
        acts = open_acts(path)
        results["gather_rows_per_s"] = gather_rate(acts, 1024, 50)
        print(f"memory-mapped minibatch reads: {results['gather_rows_per_s']:,.0f} rows/s")
        print(f"{'arch':>5} {'batch':>5} {'step ms':>8} {'acts/s':>8} {'GFLOP/s':>8} "
              f"{'mm peak':>8} {'fraction':>8}")
        for arch, batch in (("relu", 1024), ("relu", 4096), ("topk", 1024), ("topk", 4096)):
            peak = matmul_gflops(batch, 10)
            cfg = TrainConfig(arch=arch, n_features=F, k=32, batch_size=batch)
            seconds = step_seconds(cfg, acts, short, long)
            rate = batch / seconds
            achieved = 10 * D * F * rate / 1e9
            row = {"arch": arch, "batch": batch, "step_s": seconds, "acts_per_s": rate,
                   "gflops": achieved, "matmul_peak_gflops": peak, "fraction": achieved / peak}
            results["runs"].append(row)
            print(f"{arch:>5} {batch:>5} {seconds * 1e3:>8.1f} {rate:>8.0f} {achieved:>8.1f} "
                  f"{peak:>8.1f} {achieved / peak:>8.2f}", flush=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
