"""Sparsity sweep of toy models of superposition: train many 6-feature, 2-hidden models per
sparsity from hexagon and 4-gon initialisations, estimate the LLC at every checkpoint, and write
loss-vs-LLC plots, correlations, polygon GIFs and a k-gon table to results/toymodels/."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common.config import (
    ConfigError,
    add_config_flags,
    add_run_flags,
    config_dict,
    config_from_args,
)
from common.io import REPO_ROOT, results_version
from common.process import setup_process
from common.runs import RunFolderError, check_writable, open_run
from common.tracking import add_wandb_flags, maybe_wandb
from toymodels.stages import redo_bad_stages
from toymodels.tms.sweep import DEFAULT, QUICK, SparsitySweepConfig, check_sweep


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, SparsitySweepConfig]:
    p = argparse.ArgumentParser(description=__doc__)
    add_config_flags(p, SparsitySweepConfig, presets={"quick": QUICK})
    add_run_flags(p, out="default results/toymodels; with --quick runs/toymodels/quick",
                  quick="under a minute: 3 sparsities x 12 models, shorter training and chains")
    p.add_argument("--run-dir", type=Path, default=None,
                   help="trained trajectories and LLC stages, for resuming "
                        "(default runs/toymodels/sweep; with --quick runs/toymodels/quick_run)")
    add_wandb_flags(p, "the summary")
    args = p.parse_args(argv)
    cfg, given = config_from_args(args, SparsitySweepConfig, QUICK if args.quick else DEFAULT)
    try:
        check_sweep(cfg)
    except ConfigError as e:
        p.error(str(e))
    args.run_dir = args.run_dir or REPO_ROOT / ("runs/toymodels/quick_run" if args.quick
                                                else "runs/toymodels/sweep")
    # only the documented sweep (no settings typed) writes the committed results/ by default
    args.out = args.out or (REPO_ROOT / "runs/toymodels/quick" if args.quick
                            else args.run_dir / "results" if given
                            else REPO_ROOT / "results/toymodels")
    return args, cfg


def main(argv: list[str] | None = None) -> int:
    args, cfg = parse_args(argv)
    setup_process(threads=1, plots=True)
    version = results_version(args.out)  # before this run's own outputs make the tree look dirty
    try:
        lock = open_run(args.run_dir, "toymodels-sweep")
        check_writable(args.out)
    except RunFolderError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with lock:
        return _sweep(args, cfg, version)


def _sweep(args: argparse.Namespace, cfg: SparsitySweepConfig, version: str) -> int:
    from toymodels.tms.sweep import run_sweep
    from toymodels.tms.sweep_plots import write_report

    run = maybe_wandb(args.wandb, "toymodels-sweep", config_dict(cfg),
                      mode=args.wandb_mode)
    start = time.perf_counter()
    result = redo_bad_stages(lambda: run_sweep(cfg, args.run_dir, progress=not args.no_progress))
    summary = write_report(result, cfg, args.out,
                           {"seed": cfg.seed, "quick": args.quick, "code_version": version,
                            "script": "scripts/sweep_sparsity.py"})
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
