"""Speed of the batched SGLD estimator against per-model devinterp calls on the same models.

Models: noisy copies of the hexagon critical point (n = 6, m = 2), each with its own one-active-
feature dataset, the documented SGLD settings. Two figures, both measured in this run:
- same models: devinterp called once per model vs one batched call on those models;
- sweep size: devinterp's measured seconds per model x M vs one batched call on M models.
Writes bench/bench_llc.json.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace

import torch

from common.cli import positive_int
from common.io import REPO_ROOT
from toymodels.critical import find_kgon
from toymodels.data import one_active
from toymodels.llc import SGLDConfig, llc_batched, llc_devinterp


def models(count: int, samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    point = find_kgon(6)
    W = point.W.float() + 0.01 * torch.randn(count, *point.W.shape, generator=gen)
    b = point.b.float() + 0.01 * torch.randn(count, *point.b.shape, generator=gen)
    return W, b, one_active(samples, 6, gen, leading=(count,))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--same", type=positive_int, default=4, help="models timed with devinterp")
    p.add_argument("--many", type=positive_int, default=1200,
                   help="models in the sweep-size batched call (one sparsity of the sweep)")
    p.add_argument("--draws", type=positive_int, default=SGLDConfig().draws)
    p.add_argument("--samples", type=positive_int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="2 / 100 models, 500 draws")
    args = p.parse_args()
    if args.quick:
        args.same, args.many, args.draws = 2, 100, 500
    torch.set_num_threads(1)
    cfg = replace(SGLDConfig(), draws=args.draws, seed=args.seed)
    W, b, data = models(max(args.same, args.many), args.samples, args.seed)

    start = time.perf_counter()
    slow = [float(llc_devinterp(W[i], b[i], data[i], cfg).mean) for i in range(args.same)]
    t_devinterp = time.perf_counter() - start
    start = time.perf_counter()
    fast = llc_batched(W[: args.same], b[: args.same], data[: args.same], cfg).mean.tolist()
    t_same = time.perf_counter() - start
    start = time.perf_counter()
    many = llc_batched(W[: args.many], b[: args.many], data[: args.many], cfg).mean
    t_many = time.perf_counter() - start

    per_model = t_devinterp / args.same
    out = {
        "settings": asdict(cfg), "samples": args.samples,
        "devinterp_seconds_per_model": per_model,
        "same_models": {"models": args.same, "devinterp_s": t_devinterp, "batched_s": t_same,
                        "speedup": t_devinterp / t_same, "llc_devinterp": slow,
                        "llc_batched": fast},
        "sweep_size": {"models": args.many, "batched_s": t_many,
                       "devinterp_s_estimated": per_model * args.many,
                       "speedup": per_model * args.many / t_many,
                       "llc_batched_mean": float(many.mean()),
                       "llc_batched_std": float(many.std())},
    }
    print(f"devinterp: {per_model:.2f} s per model ({cfg.chains} chains x {cfg.draws} draws)")
    print(f"same {args.same} models: devinterp {t_devinterp:.1f} s, batched {t_same:.2f} s, "
          f"speed-up {out['same_models']['speedup']:.0f}x")
    print(f"  LLC devinterp {[round(v, 2) for v in slow]}, batched {[round(v, 2) for v in fast]}")
    print(f"{args.many} models: batched {t_many:.1f} s vs devinterp "
          f"~{per_model * args.many:.0f} s, "
          f"speed-up {out['sweep_size']['speedup']:.0f}x "
          f"(LLC {float(many.mean()):.2f} ± {float(many.std()):.2f} over models)")
    (REPO_ROOT / "bench").mkdir(exist_ok=True)
    (REPO_ROOT / "bench" / "bench_llc.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
