"""Speed of the batched SGLD estimator against per-model devinterp calls on the same models, and
the LLC at tuned, held-out and known-bad k-gon checks (`toymodels.tms.llc_checks`).

Speed models: noisy copies of the hexagon critical point (n = 6, m = 2), each with its own
one-active-feature dataset, the documented SGLD settings. Two figures, both measured in this run:
- same models: devinterp called once per model vs one batched call on those models;
- sweep size: devinterp's measured seconds per model x M vs one batched call on M models.
Checks: for each point, R batched replicas per dataset seed (estimate, chain spread, the
standard error of one run, the 3-standard-error verdict) and one devinterp run on the first
dataset. Writes bench/bench_llc.json (or into --out).
"""

from __future__ import annotations

import argparse
import json
import sys
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
from common.io import REPO_ROOT, atomic_write_bytes, code_version
from common.process import setup_process
from toymodels.tms.critical import find_kgon
from toymodels.tms.llc import SGLDConfig, llc_batched, llc_devinterp
from toymodels.tms.llc_checks import (
    DATA_SEED,
    HELD_OUT,
    KNOWN_BAD,
    TUNED,
    run_check,
    run_check_devinterp,
)
from toymodels.tms.population import one_active


@dataclass(frozen=True)
class BenchLLCConfig:
    same: int = knob(4, "models timed with devinterp", check=positive)
    many: int = knob(1200, "models in the sweep-size batched call (one sparsity of the sweep)",
                     check=positive)
    samples: int = knob(5000, "samples per model of the speed figures", check=positive)
    seed: int = knob(0, "seed of the speed models and their data")
    checks: bool = knob(True, "also estimate the LLC at the tuned / held-out / known-bad checks")
    check_replicas: int = knob(16, "batched replicas per check and dataset", check=positive)
    check_data_seeds: tuple[int, ...] = knob((DATA_SEED, DATA_SEED + 1, DATA_SEED + 2),
                                             "dataset seeds of the checks")
    check_devinterp: bool = knob(True, "one devinterp run per check (about 15 s each)")
    sgld: SGLDConfig = SGLDConfig()


DEFAULT = BenchLLCConfig()
QUICK = replace(DEFAULT, same=2, many=100, check_replicas=4, check_data_seeds=(DATA_SEED,),
                check_devinterp=False, sgld=replace(DEFAULT.sgld, draws=500))


def models(count: int, samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    point = find_kgon(6)
    W = point.W.float() + 0.01 * torch.randn(count, *point.W.shape, generator=gen)
    b = point.b.float() + 0.01 * torch.randn(count, *point.b.shape, generator=gen)
    return W, b, one_active(samples, 6, gen, leading=(count,))


def speed(cfg: BenchLLCConfig) -> dict:
    sgld = replace(cfg.sgld, seed=cfg.seed)
    W, b, data = models(max(cfg.same, cfg.many), cfg.samples, cfg.seed)
    start = time.perf_counter()
    slow = [float(llc_devinterp(W[i], b[i], data[i], sgld).mean) for i in range(cfg.same)]
    t_devinterp = time.perf_counter() - start
    start = time.perf_counter()
    fast = llc_batched(W[: cfg.same], b[: cfg.same], data[: cfg.same], sgld).mean.tolist()
    t_same = time.perf_counter() - start
    start = time.perf_counter()
    many = llc_batched(W[: cfg.many], b[: cfg.many], data[: cfg.many], sgld).mean
    t_many = time.perf_counter() - start
    per_model = t_devinterp / cfg.same
    out = {
        "devinterp_seconds_per_model": per_model,
        "same_models": {"models": cfg.same, "devinterp_s": t_devinterp, "batched_s": t_same,
                        "speedup": t_devinterp / t_same, "llc_devinterp": slow,
                        "llc_batched": fast},
        "sweep_size": {"models": cfg.many, "batched_s": t_many,
                       "devinterp_s_estimated": per_model * cfg.many,
                       "speedup": per_model * cfg.many / t_many,
                       "llc_batched_mean": float(many.mean()),
                       "llc_batched_std": float(many.std())},
    }
    print(f"devinterp: {per_model:.2f} s per model ({sgld.chains} chains x {sgld.draws} draws)")
    print(f"same {cfg.same} models: devinterp {t_devinterp:.1f} s, batched {t_same:.2f} s, "
          f"speed-up {out['same_models']['speedup']:.0f}x")
    print(f"  LLC devinterp {[round(v, 2) for v in slow]}, batched {[round(v, 2) for v in fast]}")
    print(f"{cfg.many} models: batched {t_many:.1f} s vs devinterp ~{per_model * cfg.many:.0f} s, "
          f"speed-up {out['sweep_size']['speedup']:.0f}x "
          f"(LLC {float(many.mean()):.2f} ± {float(many.std()):.2f} over models)")
    return out


def checks(cfg: BenchLLCConfig) -> dict:
    out = {}
    print(f"{'check':<18} {'role':<9} {'data':>5} {'theory':>6} {'estimate':>8} {'chain sd':>8} "
          f"{'run se':>6} {'err/se':>6} {'cover':>5}  verdict (3 se)")
    for role, group in (("tuned", TUNED), ("held-out", HELD_OUT), ("known-bad", KNOWN_BAD)):
        for check in group:
            rows = []
            for seed in cfg.check_data_seeds:
                # a fresh dataset and fresh SGLD noise per seed (the test's run is the first)
                r = run_check(check, cfg.sgld, cfg.check_replicas, data_seed=seed,
                              sgld_seed=1 + seed - DATA_SEED)
                rows.append({"data_seed": seed, **r.as_dict()})
                print(f"{check.name:<18} {role:<9} {seed:>5} {r.theory:6.2f} {r.estimate:8.2f} "
                      f"{r.chain_sd:8.2f} {r.run_se:6.2f} {r.error / r.run_se:+6.2f} "
                      f"{r.coverage:5.2f}  {'pass' if r.passed else 'FAIL'}")
            entry = {"role": role, "theory": check.theory, "batched": rows}
            if cfg.check_devinterp:
                d = run_check_devinterp(check, cfg.sgld, data_seed=cfg.check_data_seeds[0])
                entry["devinterp"] = d
                print(f"{check.name:<18} {role:<9} {'devinterp':>5} {d['theory']:6.2f} "
                      f"{d['estimate']:8.2f} {d['chain_sd']:8.2f} {d['run_se']:6.2f} "
                      f"{d['error_in_run_se']:+6.2f}")
            out[check.name] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_flags(parser, BenchLLCConfig, presets={"quick": QUICK})
    add_run_flags(parser, out="folder of bench_llc.json (default bench/)",
                  quick="2 / 100 models, 500 draws, batched checks on one dataset")
    args = parser.parse_args(argv)
    cfg, _ = config_from_args(args, BenchLLCConfig, QUICK if args.quick else DEFAULT)
    setup_process(threads=1, plots=False)
    out = {"settings": config_dict(cfg), "code_version": code_version(), **speed(cfg)}
    if cfg.checks:
        out["checks"] = checks(cfg)
    folder = args.out or REPO_ROOT / "bench"
    atomic_write_bytes(folder / "bench_llc.json", (json.dumps(out, indent=2) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
