"""Train sparse autoencoders on residual-stream activations (or any [N, d] float array).

    python train_sae.py                                   # the default grid on the agent's block 2
    python train_sae.py --quick --checkpoint random       # a minute, random-weights network
    python train_sae.py --acts X.npy --arch topk --features 1024 --k 32 --out runs/sae/mine

Each SAE goes to <out>/<name>/ (sae.pt for sae.load, meta.json, metrics.json on the held-out
split); the grid's summary.json, meta.json and scaling plots go to results/sae/ (with --quick to
<out>/results, so the committed results stay). A rerun skips SAEs that are already done.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from common.cli import (
    maybe_wandb,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    probability,
)
from common.io import REPO_ROOT, CheckpointError, code_version, write_json
from othello.interp.activations import (
    DEFAULT_CHECKPOINT,
    QUICK_POSITIONS,
    collect_dataset,
    dataset_name,
    load_source,
)
from sae.data import ActivationsError, split_rows
from sae.evaluate import neuron_baseline, open_dataset
from sae.models import ARCHS
from sae.plots import plot_all
from sae.sweep import KS, L1S, QUICK, STEPS, WIDTHS, flat, grid, run_one


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--acts", type=Path,
                        help="activations: a [N, d] .npy file or a folder from "
                             "othello/collect_activations.py (default runs/activations/"
                             "<checkpoint stem>[-quick])")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT),
                        help="names the default --acts; with --quick its activations are "
                             "collected first if missing ('random': random weights)")
    parser.add_argument("--block", type=nonnegative_int,
                        help="which block of a collected folder (default its first)")
    parser.add_argument("--out", type=Path, help="SAE folder root (default runs/sae/<acts name>)")
    parser.add_argument("--results", type=Path,
                        help="plots and summary (default results/sae; --quick: <out>/results)")
    parser.add_argument("--arch", nargs="+", choices=sorted(ARCHS), default=["relu", "topk"])
    parser.add_argument("--features", type=positive_int, nargs="+",
                        help=f"SAE widths (default {' '.join(map(str, WIDTHS))})")
    parser.add_argument("--l1", type=nonnegative_float, nargs="+",
                        help=f"ReLU sparsity coefficients (default {' '.join(map(str, L1S))})")
    parser.add_argument("--k", type=positive_int, nargs="+",
                        help=f"TopK active latents (default {' '.join(map(str, KS))})")
    parser.add_argument("--steps", type=positive_int,
                        help=f"training steps per SAE (default {STEPS})")
    parser.add_argument("--batch-size", type=positive_int, default=1024)
    parser.add_argument("--lr", type=positive_float, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--holdout", type=probability,
                        help="held-out fraction, at most 50,000 rows (default 0.05; quick 0.2)")
    parser.add_argument("--quick", action="store_true",
                        help="a small grid on a small dataset, about a minute")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--wandb", action="store_true", help="log training losses offline")
    args = parser.parse_args(argv)
    if args.holdout is not None and not 0 < args.holdout < 1:
        parser.error("--holdout must be strictly between 0 and 1")
    return args


def default_acts(args: argparse.Namespace, version: str) -> Path:
    """runs/activations/<stem>[-quick]; in quick mode (re)collected first when missing or made
    from another checkpoint file."""
    acts = REPO_ROOT / "runs" / "activations" / dataset_name(args.checkpoint, args.quick)
    if not args.quick:
        return acts
    net, source = load_source(args.checkpoint, args.seed)
    meta_path = acts / "meta.json"
    old = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if (not old or old.get("checkpoint_sha256") != source.get("checkpoint_sha256")
            or old.get("seed") != args.seed):
        print(f"collecting {QUICK_POSITIONS} positions into {acts}", flush=True)
        collect_dataset(net, source, acts, QUICK_POSITIONS, [2], args.seed,
                        progress=not args.no_progress, code=version)
    return acts


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    version = code_version()
    torch.set_num_threads(1)
    try:
        acts = args.acts or default_acts(args, version)
        data = open_dataset(acts, args.block)
    except (CheckpointError, ActivationsError, ValueError) as e:
        hint = ("" if args.acts or args.quick else
                " (collect it first: python othello/collect_activations.py)")
        print(f"error: {e}{hint}", file=sys.stderr)
        return 2
    name = (data.folder or data.path.parent).name if data.has_game_facts else data.path.stem
    out = args.out or REPO_ROOT / "runs" / "sae" / name
    results = args.results or (out / "results" if args.quick else REPO_ROOT / "results" / "sae")
    holdout = args.holdout or (QUICK["holdout"] if args.quick else 0.05)
    split = split_rows(len(data.acts), holdout, args.seed, max_test=50_000)
    if len(split.train) < args.batch_size:
        print(f"error: {len(split.train)} training rows, fewer than --batch-size "
              f"{args.batch_size}", file=sys.stderr)
        return 2
    preset = QUICK if args.quick else {}
    cfgs = grid(args.arch, args.features or preset.get("widths", WIDTHS),
                args.l1 or preset.get("l1s", L1S), args.k or preset.get("ks", KS),
                steps=args.steps or preset.get("steps", STEPS), batch_size=args.batch_size,
                lr=args.lr, seed=args.seed)
    if not cfgs:
        print("error: no SAE to train (TopK needs k < --features)", file=sys.stderr)
        return 2
    data_info = {"acts": str(data.path), "rows": len(data.acts), "d": data.acts.shape[1],
                 "holdout": holdout, "test_rows": len(split.test), "split_seed": args.seed,
                 "source": data.source}
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    run = maybe_wandb(args.wandb, "sae", {**config, **data_info})
    print(f"{len(cfgs)} SAEs on {data.path} ({len(data.acts)} x {data.acts.shape[1]}, "
          f"{len(split.test)} held out) -> {out}", flush=True)
    start = time.perf_counter()
    rows = []
    for cfg in cfgs:
        result = run_one(cfg, data, split, out, data_info, progress=not args.no_progress,
                         log=run.log if run is not None else None, code=version)
        rows.append(flat(result))
        r = rows[-1]
        extra = (f" policy-KL recovered (mean abl.) {r['policy_kl_recovered_vs_mean']:.3f}"
                 f" board coverage {r['coverage_board']:.3f}"
                 if "coverage_board" in r else "")
        print(f"{cfg.name:>22s}: L0 {r['l0']:7.1f} FVU {r['fvu']:.4f} nMSE {r['nmse']:.4f} "
              f"dead {r['dead_fraction']:.3f} dense {r['dense_fraction']:.3f}{extra}",
              flush=True)
    baseline = neuron_baseline(data, split.test, seed=args.seed) if data.has_game_facts else None
    if baseline:
        print(f"raw neurons: board coverage {baseline['board']['coverage']:.3f} "
              f"reconstruction {baseline['board']['reconstruction']:.3f}")
    plots = plot_all(rows, baseline, results)
    seconds = time.perf_counter() - start
    write_json(results / "summary.json", {"rows": rows, "neuron_baseline": baseline,
                                          "data": data_info, "seconds": seconds})
    write_json(results / "meta.json", {"config": config, "data": data_info, "seed": args.seed,
                                       "code_version": version, "script": "train_sae.py"})
    print(f"wrote {len(rows)} SAEs to {out}; plots {', '.join(p.name for p in plots)} in {results}")
    if run is not None:
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
