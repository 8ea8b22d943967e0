"""Training trajectories: follow fixed probe inputs across the checkpoints of a run.

An AlphaZero run (`<run>/checkpoints/iter_*.pt`): the policy, value, entropy, p(solver's best
move) and KL to the final checkpoint on probe positions, as per-probe GIFs, a probes x checkpoints
grid, curves against the training step with the loss, and a PCA of the outputs with shuffled
baselines. A toy-model sweep run (`<run>/train.pt` of scripts/sweep_sparsity.py): one model's
weight polygons over training beside its loss curve with the k-gon critical losses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.cli import maybe_wandb, nonnegative_int, positive_int
from common.io import REPO_ROOT, CheckpointError, code_version

DEFAULT_RUN = REPO_ROOT / "runs" / "alphazero" / "default"
QUICK_RUN = REPO_ROOT / "runs" / "alphazero" / "quick"


def ply_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated plies: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"plies must be whole numbers >= 1: {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, default=None,
                   help="run folder: AlphaZero (checkpoints/iter_*.pt) or toy sweep (train.pt); "
                        "default runs/alphazero/default (--quick: runs/alphazero/quick)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default results/trajectories/<alphazero|toymodel>; "
                        "--quick: runs/trajectories/quick/<...>)")
    p.add_argument("--quick", action="store_true",
                   help="about a minute: fewer probe candidates, probes solved only from "
                        "12 empties, GIFs for the first 3 probes")
    p.add_argument("--seed", type=int, default=0, help="seed of the default probe set")
    p.add_argument("--moves", action="append", default=[], metavar="MOVES",
                   help="extra probe: moves from the start, e.g. 'd3 c5 f6' (repeatable)")
    p.add_argument("--records", type=Path, default=None,
                   help="extra probes from a JSON-lines game-record file (othello/play.py)")
    p.add_argument("--record-plies", type=ply_list, default=[12, 20],
                   help="plies of each recorded game to probe (default 12,20)")
    p.add_argument("--no-default-probes", action="store_true",
                   help="use only the --moves / --records probes")
    p.add_argument("--solver-empties", type=nonnegative_int, default=None,
                   help="solve probes with at most this many empties (default 14, quick 12)")
    p.add_argument("--candidates", type=positive_int, default=None,
                   help="random positions searched for the 'confident' probe (default 64)")
    p.add_argument("--gif-probes", type=nonnegative_int, default=None,
                   help="write GIFs for the first N probes (default all; quick 3)")
    p.add_argument("--model", type=nonnegative_int, default=None,
                   help="toy sweep: index of the model to draw (default: the sparsest model "
                        "whose number of live columns changes during training)")
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    p.add_argument("--wandb", action="store_true", help="log the summary to wandb (offline)")
    args = p.parse_args(argv)
    args.run = args.run or (QUICK_RUN if args.quick else DEFAULT_RUN)
    if args.solver_empties is not None and args.solver_empties > 16:
        p.error("--solver-empties above 16 takes minutes per probe in pure Python")
    if args.no_default_probes and not args.moves and not args.records:
        p.error("--no-default-probes needs --moves or --records")
    if args.records is not None and not args.records.is_file():
        p.error(f"--records: no such file {args.records}")
    return args


def run_kind(run: Path) -> str:
    if (run / "checkpoints").is_dir():
        return "alphazero"
    if (run / "train.pt").is_file():
        return "toymodel"
    raise SystemExit(f"error: {run} holds neither checkpoints/iter_*.pt (AlphaZero) nor train.pt "
                     "(toy-model sweep); train one with train_alphazero.py or "
                     "scripts/sweep_sparsity.py")


def alphazero_report(args: argparse.Namespace, out: Path, meta: dict) -> dict:
    from othello.az.model import load_model
    from othello.interp.probes import default_probes, user_probes
    from othello.interp.trajectory import snapshot_paths
    from othello.interp.trajectory_plots import write_report

    final, _ = load_model(snapshot_paths(args.run)[-1])
    size = final.config.size
    solver_empties = args.solver_empties if args.solver_empties is not None else (
        12 if args.quick else 14)
    probes = [] if args.no_default_probes else default_probes(
        final, size, args.seed, solver_empties,
        candidates=args.candidates or (16 if args.quick else 64),
        unique_tries=20 if args.quick else 60)
    probes += user_probes(args.moves, args.records, args.record_plies, size, solver_empties)
    gif_probes = args.gif_probes if args.gif_probes is not None else (3 if args.quick else None)
    summary = write_report(args.run, out, probes, meta, gif_probes, not args.no_progress)
    for name, series in summary["probes"].items():
        best = series["p_best"][-1]
        print(f"{name:>12}: value {series['value'][0]:+.2f} -> {series['value'][-1]:+.2f}  "
              f"KL(final||first) {series['kl_to_final'][0]:.3f}  "
              f"p(best) {'-' if best is None else f'{best:.2f}'}")
    pca = summary["pca"]
    print(f"PCA: PC1 {pca['explained'][0]:.0%} (columns shuffled "
          f"{pca['shuffled_columns_explained'][0]:.0%}), path {pca['path_length']:.2f} "
          f"vs shuffled order {pca['shuffled_order_path_length']:.2f}")
    return summary


def toymodel_report(args: argparse.Namespace, out: Path, meta: dict) -> dict:
    from toymodels.tms.trajectory import write_toy_report

    summary = write_toy_report(args.run, out, args.model, meta)
    print(f"model {summary['model']} (S = {summary['sparsity']:.3f}, {summary['init']} init): "
          f"{' -> '.join(dict.fromkeys(summary['kgon']))}, loss {summary['loss'][0]:.4f} -> "
          f"{summary['loss'][-1]:.4f}")
    print("k-gon losses on its data: " + ", ".join(f"{k} {v:.4f}"
                                                   for k, v in summary["kgon_losses"].items()))
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.run.is_dir():
        print(f"error: no run folder {args.run} (train one with train_alphazero.py, or pass "
              "--run)", file=sys.stderr)
        return 2
    kind = run_kind(args.run)
    base = REPO_ROOT / ("runs/trajectories/quick" if args.quick else "results/trajectories")
    out = args.out or base / kind
    meta = {"seed": args.seed, "quick": args.quick, "code_version": code_version(),
            "argv": sys.argv[1:] if argv is None else argv}
    run = maybe_wandb(args.wandb, "policy-trajectory", {k: str(v) for k, v in vars(args).items()})
    try:
        report = alphazero_report if kind == "alphazero" else toymodel_report
        summary = report(args, out, meta)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    if run is not None:
        run.log({"pca_pc1": summary["pca"]["explained"][0]} if kind == "alphazero"
                else {"final_loss": summary["loss"][-1]})
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
