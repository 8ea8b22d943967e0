"""`python -m toymodels.kgon`: the table of k-gon critical points for n = 6, m = 2.

Our reproduction of the critical-point table of Chen et al. (2023): name, radius, bias,
positive dead bias, exact population loss, theoretical learning coefficient, and the LLC
estimated by SGLD (mean and spread over chains) on n one-active-feature samples.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, replace

import torch

from common.cli import positive_int
from common.io import code_version, write_json
from toymodels.critical import CriticalPoint, kgon_critical_points
from toymodels.data import one_active
from toymodels.llc import LLCResult, SGLDConfig, llc_batched, llc_devinterp


def estimate_llcs(points: list[CriticalPoint], data: torch.Tensor, cfg: SGLDConfig,
                  estimator: str) -> list[LLCResult]:
    """LLC at each point: all points in one batched call, or one devinterp call each."""
    if estimator == "devinterp":
        return [llc_devinterp(p.W.float(), p.b.float(), data, cfg) for p in points]
    W = torch.stack([p.W.float() for p in points])
    b = torch.stack([p.b.float() for p in points])
    result = llc_batched(W, b, data, cfg, progress=True)
    return [LLCResult(result.mean[i:i + 1], result.std[i:i + 1], result.per_chain[:, i:i + 1])
            for i in range(len(points))]


def format_table(points: list[CriticalPoint], llcs: list[LLCResult]) -> str:
    rows = [f"{'name':<5} {'radius':>8} {'bias':>9} {'dead b+':>8} {'loss':>9} "
            f"{'lambda':>9} {'LLC (SGLD)':>13}"]
    for p, r in zip(points, llcs, strict=True):
        dead = "" if p.positive_dead == 0 else f"{p.dead_bias:8.5f}"
        rows.append(f"{p.name:<5} {p.radius:8.5f} {p.bias:9.5f} {dead:>8} {p.loss:9.6f} "
                    f"{p.theory or '-':>9} {float(r.mean):6.2f} ± {float(r.std):4.2f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=positive_int, default=5000,
                        help="dataset size n for the LLC (n_beta = n / ln n)")
    parser.add_argument("--draws", type=positive_int, default=4000, help="SGLD draws per chain")
    parser.add_argument("--chains", type=positive_int, default=4)
    parser.add_argument("--estimator", choices=["batched", "devinterp"], default="batched")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="", help="also write the table to this JSON file")
    args = parser.parse_args(argv)
    if args.samples < SGLDConfig().batch_size:
        parser.error(f"--samples must be at least {SGLDConfig().batch_size}")
    torch.set_num_threads(1)
    start = time.perf_counter()
    points = kgon_critical_points()
    gen = torch.Generator().manual_seed(args.seed)
    data = one_active(args.samples - args.samples % 100, 6, gen)
    cfg = replace(SGLDConfig(), draws=args.draws, chains=args.chains, seed=args.seed)
    llcs = estimate_llcs(points, data, cfg, args.estimator)
    print(format_table(points, llcs))
    print(f"(n = {len(data)}, {args.estimator} SGLD {asdict(cfg)}, "
          f"{time.perf_counter() - start:.0f} s)")
    if args.json:
        write_json(args.json, {
            "points": [{"name": p.name, "radius": p.radius, "bias": p.bias,
                        "dead_bias": None if p.positive_dead == 0 else p.dead_bias,
                        "loss": p.loss, "grad_norm": p.grad_norm, "lambda": p.theory,
                        "llc_mean": float(r.mean), "llc_std": float(r.std)}
                       for p, r in zip(points, llcs, strict=True)],
            "meta": {"sgld": asdict(cfg), "samples": len(data), "estimator": args.estimator,
                     "seed": args.seed, "code_version": code_version()}})


if __name__ == "__main__":
    main()
