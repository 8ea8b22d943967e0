"""The Persian rug (Cowsik, Dolev, Infanger 2024): trained untied toy models against the symmetric
semi-analytic optimum, the linear baseline and the forward-engineered Hadamard model.

Writes results/persian_rug/{loss_vs_r,loss_vs_p,rug,diagnostics_vs_n,interference,
training_curves}.png, summary.json and meta.json; checkpoints of the trained models go to
runs/persian_rug/ (a rerun resumes them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from common.cli import maybe_wandb, nonnegative_int
from common.io import REPO_ROOT, code_version, write_json
from toymodels.persian_rug_models import hadamard_weights, interference_samples
from toymodels.persian_rug_plots import (
    plot_diagnostics_vs_n,
    plot_interference,
    plot_loss_vs_p,
    plot_loss_vs_r,
    plot_rug,
    plot_training_curves,
)
from toymodels.persian_rug_sweep import default_config, gap_table, rug_pair, run_sweep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default results/persian_rug; with --quick "
                             "runs/persian_rug/quick/results, so the committed results stay)")
    parser.add_argument("--runs", type=Path, default=None,
                        help="checkpoint folder (default runs/persian_rug[/quick])")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--wandb", action="store_true", help="log training losses offline")
    args = parser.parse_args(argv)

    sub = ("quick",) if args.quick else ()
    args.runs = args.runs or REPO_ROOT.joinpath("runs", "persian_rug", *sub)
    args.out = args.out or (args.runs / "results" if args.quick
                            else REPO_ROOT / "results" / "persian_rug")
    version = code_version()  # before this run's own outputs make the tree look dirty
    torch.set_num_threads(1)
    cfg = default_config(quick=args.quick, seed=args.seed)
    run = maybe_wandb(args.wandb, "persian_rug", {"quick": args.quick, "seed": args.seed})
    start = time.perf_counter()
    summary = run_sweep(cfg, args.runs, progress=not args.no_progress,
                        log=run.log if run is not None else None)
    r_main, p_main = 0.25, 0.045
    summary["gap_r0.25"] = gap_table(summary["trained"], r_main)
    args.out.mkdir(parents=True, exist_ok=True)
    rs = sorted({j.r for j in cfg.jobs})
    ps = [p for p in (0.01, 0.045, 0.2) if any(p in j.ps for j in cfg.jobs)]
    plot_loss_vs_r(summary, ps, args.out / "loss_vs_r.png")
    plot_loss_vs_p(summary, rs, args.out / "loss_vs_p.png")
    had_w, trained_w, label = rug_pair(cfg, args.runs, r=r_main, p=p_main)
    plot_rug(had_w, trained_w, args.out / "rug.png",
             titles=(f"Hadamard W (n={had_w.shape[0]}, r={r_main:g}), diagonal blanked",
                     label + ", diagonal blanked"))
    plot_diagnostics_vs_n(summary, r_main, args.out / "diagnostics_vs_n.png")
    plot_training_curves(summary, r_main, ps, args.out / "training_curves.png")
    n_big = trained_w.shape[0]
    w_in, w_out = hadamard_weights(n_big, round(r_main * n_big), seed=args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    plot_interference({f"Hadamard n={n_big}": interference_samples(w_out @ w_in, p_main, 2048, gen),
                       label: interference_samples(trained_w, p_main, 2048, gen)},
                      p_main, args.out / "interference.png")
    summary["seconds"] = time.perf_counter() - start
    write_json(args.out / "summary.json", summary)
    write_json(args.out / "meta.json", {"config": summary["config"], "seed": args.seed,
                                         "quick": args.quick, "code_version": version,
                                         "script": "scripts/persian_rug.py"})
    for row in summary["gap_r0.25"]:
        print(f"{row['init']:>8s} n={row['n']:5d} p={row['p']:<6g} "
              f"trained/analytic={row['ratio_to_analytic']:.3f} "
              f"trained/linear={row['ratio_to_linear']:.3f} diag_cv={row['diag_cv']:.2f} "
              f"offdiag_norm2={row['offdiag_norm2_median']:.2f} "
              f"skew={row['interference_skew']:.2f}")
    print(f"wrote {args.out} in {summary['seconds']:.0f} s")
    if run is not None:
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
