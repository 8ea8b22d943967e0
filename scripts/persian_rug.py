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

from common.config import add_config_flags, add_run_flags, config_dict, config_from_args
from common.io import REPO_ROOT, results_version, write_json
from common.process import setup_process
from common.runs import RunFolderError, check_writable, open_run
from common.tracking import add_wandb_flags, maybe_wandb
from toymodels.persian_rug.experiment import DEFAULT, QUICK, PersianRugConfig
from toymodels.stages import redo_bad_stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_config_flags(parser, PersianRugConfig, presets={"quick": QUICK})
    add_run_flags(parser, out="default results/persian_rug; with --quick "
                  "runs/persian_rug/quick/results, so the committed results stay",
                  quick="small sizes, about a minute")
    parser.add_argument("--run-dir", type=Path, default=None,
                        help="checkpoint folder (default runs/persian_rug[/quick]); a rerun "
                             "resumes from it")
    add_wandb_flags(parser, "the training losses")
    args = parser.parse_args(argv)
    cfg, given = config_from_args(args, PersianRugConfig, QUICK if args.quick else DEFAULT)

    sub = ("quick",) if args.quick else ()
    run_dir = args.run_dir or REPO_ROOT.joinpath("runs", "persian_rug", *sub)
    # only the documented run (no settings typed) writes the committed results/ by default
    out = args.out or (run_dir / "results" if args.quick or given
                       else REPO_ROOT / "results" / "persian_rug")
    try:
        lock = open_run(run_dir, "persian-rug")
        check_writable(out)
    except RunFolderError as e:
        parser.exit(2, f"error: {e}\n")
    with lock:
        return _run(args, cfg, run_dir, out)


def _run(args: argparse.Namespace, cfg, run_dir: Path, out: Path) -> int:
    setup_process(threads=1, plots=True)
    import torch

    from toymodels.persian_rug.experiment import gap_table, rug_pair, run_experiment
    from toymodels.persian_rug.models import hadamard_weights, interference_samples
    from toymodels.persian_rug.plots import (
        plot_diagnostics_vs_n,
        plot_interference,
        plot_loss_vs_p,
        plot_loss_vs_r,
        plot_rug,
        plot_training_curves,
    )

    version = results_version(out)  # before this run's own outputs make the tree look dirty
    run = maybe_wandb(args.wandb, "persian_rug", config_dict(cfg) | {"quick": args.quick},
                      mode=args.wandb_mode)
    start = time.perf_counter()
    summary = redo_bad_stages(lambda: run_experiment(
        cfg, run_dir, progress=not args.no_progress, log=run.log if run is not None else None))
    r_main, p_main = 0.25, 0.045
    summary["gap_r0.25"] = gap_table(summary["trained"], r_main)
    out.mkdir(parents=True, exist_ok=True)
    jobs = cfg.parsed_jobs
    rs = sorted({j.r for j in jobs})
    ps = [p for p in (0.01, 0.045, 0.2) if any(p in j.ps for j in jobs)]
    plot_loss_vs_r(summary, ps, out / "loss_vs_r.png")
    plot_loss_vs_p(summary, rs, out / "loss_vs_p.png")
    had_w, trained_w, label = redo_bad_stages(
        lambda: rug_pair(cfg, run_dir, r=r_main, p=p_main))
    plot_rug(had_w, trained_w, out / "rug.png",
             titles=(f"Hadamard W (n={had_w.shape[0]}, r={r_main:g}), diagonal blanked",
                     label + ", diagonal blanked"))
    plot_diagnostics_vs_n(summary, r_main, out / "diagnostics_vs_n.png")
    plot_training_curves(summary, r_main, ps, out / "training_curves.png")
    n_big = trained_w.shape[0]
    w_in, w_out = hadamard_weights(n_big, round(r_main * n_big), seed=cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    plot_interference({f"Hadamard n={n_big}": interference_samples(w_out @ w_in, p_main, 2048, gen),
                       label: interference_samples(trained_w, p_main, 2048, gen)},
                      p_main, out / "interference.png")
    summary["seconds"] = time.perf_counter() - start
    write_json(out / "summary.json", summary)
    write_json(out / "meta.json", {"config": summary["config"], "seed": cfg.seed,
                                    "quick": args.quick, "code_version": version,
                                    "script": "scripts/persian_rug.py"})
    for row in summary["gap_r0.25"]:
        print(f"{row['init']:>8s} n={row['n']:5d} p={row['p']:<6g} "
              f"trained/analytic={row['ratio_to_analytic']:.3f} "
              f"trained/linear={row['ratio_to_linear']:.3f} diag_cv={row['diag_cv']:.2f} "
              f"offdiag_norm2={row['offdiag_norm2_median']:.2f} "
              f"skew={row['interference_skew']:.2f}")
    print(f"wrote {out} in {summary['seconds']:.0f} s")
    if run is not None:
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
