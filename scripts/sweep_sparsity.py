"""Sparsity sweep of toy models of superposition: train many 6-feature, 2-hidden models per
sparsity from hexagon and 4-gon initialisations, estimate the LLC at every checkpoint, and write
loss-vs-LLC plots, correlations, polygon GIFs and a k-gon table to results/toymodels/."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from common.cli import (
    maybe_wandb,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)
from common.io import REPO_ROOT, code_version
from toymodels.llc import SGLDConfig
from toymodels.sweep import SweepConfig
from toymodels.train import TrainConfig

QUICK_SPARSITIES = (0.671, 0.938, 0.988)


def sparsity_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers: {text!r}") from None
    if not values or not all(0 <= v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sparsities must lie in [0, 1): {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d, t, g = SweepConfig(), TrainConfig(), SGLDConfig()
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="under a minute: 3 sparsities x 12 models, shorter training and chains; "
                        "writes to runs/toymodels/quick unless --out is given")
    p.add_argument("--sparsities", type=sparsity_list, default=None,
                   help="comma-separated, default 1 - exp(-linspace(0, 5, 10))[1:]")
    p.add_argument("--models", type=positive_int, default=d.models,
                   help="models per sparsity and init")
    p.add_argument("--samples", type=positive_int, default=d.samples,
                   help="dataset size per model (training set and LLC data)")
    p.add_argument("--init-noise", type=nonnegative_float, default=d.init_noise)
    p.add_argument("--steps", type=positive_int, default=t.steps)
    p.add_argument("--lr", type=positive_float, default=t.lr, help="Adam learning rate")
    p.add_argument("--batch-size", type=positive_int, default=t.batch_size)
    p.add_argument("--checkpoints", type=positive_int, default=t.checkpoints,
                   help="log-spaced checkpoints (step 0 included), LLC at each")
    p.add_argument("--llc-lr", type=positive_float, default=g.lr)
    p.add_argument("--localization", type=nonnegative_float, default=g.localization)
    p.add_argument("--llc-chains", type=positive_int, default=g.chains)
    p.add_argument("--llc-draws", type=positive_int, default=g.draws)
    p.add_argument("--llc-burnin", type=nonnegative_int, default=g.burnin)
    p.add_argument("--llc-batch-size", type=positive_int, default=g.batch_size)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="default results/toymodels")
    p.add_argument("--run-dir", type=Path, default=None,
                   help="trained trajectories and LLC stages, for resuming "
                        "(default runs/toymodels/sweep or runs/toymodels/quick_run)")
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    p.add_argument("--wandb", action="store_true", help="log the summary to wandb (offline)")
    args = p.parse_args(argv)
    if args.quick:
        args.sparsities = args.sparsities or QUICK_SPARSITIES
        for name, value in (("models", 12), ("samples", 1000), ("steps", 5000),
                            ("checkpoints", 8), ("llc_draws", 2000), ("llc_chains", 2)):
            if getattr(args, name) == p.get_default(name):
                setattr(args, name, value)
    if args.samples < args.llc_batch_size:
        p.error(f"--samples ({args.samples}) must be at least --llc-batch-size")
    quick = args.quick
    args.out = args.out or REPO_ROOT / ("runs/toymodels/quick" if quick else "results/toymodels")
    args.run_dir = args.run_dir or REPO_ROOT / ("runs/toymodels/quick_run" if quick
                                                else "runs/toymodels/sweep")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from toymodels.sweep import run_sweep
    from toymodels.sweep_plots import write_report

    cfg = SweepConfig(
        models=args.models, samples=args.samples, init_noise=args.init_noise, seed=args.seed,
        train=TrainConfig(steps=args.steps, lr=args.lr, batch_size=args.batch_size,
                          checkpoints=args.checkpoints),
        sgld=SGLDConfig(lr=args.llc_lr, localization=args.localization, chains=args.llc_chains,
                        draws=args.llc_draws, burnin=args.llc_burnin,
                        batch_size=args.llc_batch_size, seed=args.seed))
    if args.sparsities:
        cfg = replace(cfg, sparsities=args.sparsities)
    run = maybe_wandb(args.wandb, "toymodels-sweep", asdict(cfg))
    start = time.perf_counter()
    result = run_sweep(cfg, args.run_dir, progress=not args.no_progress)
    summary = write_report(result, cfg, args.out,
                           {"seed": args.seed, "quick": args.quick, "code_version": code_version()})
    total = time.perf_counter() - start
    for g in summary["groups"]:
        r, rho = g["loss_llc_pearson"][-1], g["loss_llc_spearman"][-1]
        print(f"S={g['sparsity']:.3f} {g['init']:>7}: loss {g['final_loss_mean']:.4f}  "
              f"LLC {g['final_llc_mean']:5.2f} ± {g['final_llc_std']:.2f}  "
              f"r {'nan' if r is None else f'{r:+.2f}'} "
              f"rho {'nan' if rho is None else f'{rho:+.2f}'}  {g['final_kgons']}")
    print(f"wrote {args.out} in {total:.0f} s (train {result.seconds['train']:.0f} s, "
          f"LLC {result.seconds['llc']:.0f} s)")
    if run is not None:
        run.log({"seconds": total, **{f"llc/{g['init']}/S{g['sparsity']:.3f}": g["final_llc_mean"]
                                      for g in summary["groups"]}})
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
