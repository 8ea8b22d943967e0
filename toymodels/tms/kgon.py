"""`python -m toymodels.tms.kgon`: the table of k-gon critical points for n = 6, m = 2.

Our reproduction of the critical-point table of Chen et al. (2023): name, radius, bias,
positive dead bias, exact population loss, theoretical learning coefficient, and the LLC
estimated by SGLD (mean and spread over chains) on n one-active-feature samples.
`--out results/toymodels` writes kgon_critical_points.json there.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace

import torch

from common.config import (
    add_config_flags,
    add_run_flags,
    config_dict,
    config_from_args,
    knob,
    positive,
)
from common.device import resolve_device
from common.io import code_version, results_version, write_json
from common.process import setup_process
from toymodels.tms.critical import CriticalPoint, kgon_critical_points
from toymodels.tms.llc import LLCResult, SGLDConfig, llc_batched, llc_devinterp
from toymodels.tms.population import one_active


@dataclass(frozen=True)
class KgonTableConfig:
    """Knobs of the k-gon table (flags of `python -m toymodels.tms.kgon`)."""

    samples: int = knob(5000, "one-active-feature samples n for the LLC (n_beta = n / ln n), "
                        "rounded down to a multiple of --llc-batch-size", check=positive)
    estimator: str = knob("batched", "LLC estimator", choices=("batched", "devinterp"))
    seed: int = knob(0, "seed of the one-active-feature data")
    sgld: SGLDConfig = SGLDConfig()


DEFAULT = KgonTableConfig()
QUICK = replace(DEFAULT, sgld=replace(DEFAULT.sgld, draws=1000))


def estimate_llcs(points: list[CriticalPoint], data: torch.Tensor, cfg: SGLDConfig,
                  estimator: str, progress: bool = False,
                  device: str | torch.device = "cpu") -> list[LLCResult]:
    """LLC at each point on `device`: all points in one batched call, or one devinterp call
    each."""
    data = data.to(device)
    if estimator == "devinterp":
        return [llc_devinterp(p.W.float().to(device), p.b.float().to(device), data, cfg)
                for p in points]
    W = torch.stack([p.W.float() for p in points]).to(device)
    b = torch.stack([p.b.float() for p in points]).to(device)
    result = llc_batched(W, b, data, cfg, progress=progress)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toymodels.tms.kgon",
                                     description=__doc__.splitlines()[0])
    add_config_flags(parser, KgonTableConfig, presets={"quick": QUICK})
    add_run_flags(parser, out="where kgon_critical_points.json goes; default: print only",
                  quick="1000 SGLD draws per chain (a few seconds)", device=True)
    args = parser.parse_args(argv)
    cfg, _ = config_from_args(args, KgonTableConfig, QUICK if args.quick else DEFAULT)
    if cfg.samples < cfg.sgld.batch_size:
        parser.error(f"--samples must be at least --llc-batch-size ({cfg.sgld.batch_size})")
    setup_process(threads=1, plots=False)
    version = code_version() if args.out is None else results_version(args.out)
    start = time.perf_counter()
    points = kgon_critical_points()
    gen = torch.Generator().manual_seed(cfg.seed)
    data = one_active(cfg.samples - cfg.samples % cfg.sgld.batch_size, 6, gen)
    llcs = estimate_llcs(points, data, cfg.sgld, cfg.estimator, not args.no_progress,
                         device=resolve_device(args.device))
    print(format_table(points, llcs))
    print(f"(n = {len(data)}, {cfg.estimator} SGLD {config_dict(cfg.sgld)}, "
          f"{time.perf_counter() - start:.0f} s)")
    if args.out is not None:
        write_json(args.out / "kgon_critical_points.json", {
            "points": [{"name": p.name, "radius": p.radius, "bias": p.bias,
                        "dead_bias": None if p.positive_dead == 0 else p.dead_bias,
                        "loss": p.loss, "grad_norm": p.grad_norm, "lambda": p.theory,
                        "llc_mean": float(r.mean), "llc_std": float(r.std)}
                       for p, r in zip(points, llcs, strict=True)],
            "meta": {"config": config_dict(cfg), "samples": len(data),
                     "code_version": version, "command": "python -m toymodels.tms.kgon"}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
