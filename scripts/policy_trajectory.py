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
from dataclasses import dataclass, replace
from pathlib import Path

from common.config import add_config_flags, add_run_flags, at_least, config_from_args, knob
from common.io import REPO_ROOT, CheckpointError, results_version
from common.process import setup_process
from common.runs import RunFolderError, check_writable
from common.tracking import add_wandb_flags, maybe_wandb

DEFAULT_RUN = REPO_ROOT / "runs" / "alphazero" / "default"
QUICK_RUN = REPO_ROOT / "runs" / "alphazero" / "quick"
# the documented runs whose trajectories are the committed ones (results/trajectories/<kind>)
PUBLISHED_RUNS = {DEFAULT_RUN: "alphazero", REPO_ROOT / "runs" / "toymodels" / "sweep": "toymodel"}
# the agents of scripts/maze_trajectory.py, whose folders under results/trajectories/maze/ are
# the committed maze trajectories
MAZE_AGENTS = {f"{arch}-{cheese}" for arch in ("vin", "conv") for cheese in ("anywhere", "corner")}
MAX_SOLVER_EMPTIES = 16  # above this the pure-Python solver takes minutes per probe


def _solvable(v: int) -> str | None:
    if not isinstance(v, int) or not 0 <= v <= MAX_SOLVER_EMPTIES:
        return (f"expected 0..{MAX_SOLVER_EMPTIES} (above that the solver takes minutes per "
                "probe in pure Python)")
    return None


@dataclass(frozen=True)
class TrajectoryConfig:
    """Which run to follow and which probe positions to follow it on."""

    run: Path | None = knob(None, "run folder: AlphaZero (checkpoints/iter_*.pt) or toy sweep "
                            "(train.pt); None: runs/alphazero/default (quick: .../quick)")
    seed: int = knob(0, "seed of the default probe set", check=at_least(0))
    default_probes: bool = knob(True, "include the seeded default probes (--no-default-probes: "
                                "only the --moves / --records probes)")
    moves: tuple[str, ...] = knob((), "extra probes: move sequences from the start, one value "
                                  "each, e.g. 'd3 c5 f6' 'c2'")
    records: Path | None = knob(None, "extra probes from a JSON-lines game-record file "
                                "(othello/play.py --record)")
    record_plies: tuple[int, ...] = knob((12, 20), "plies of each recorded game to probe",
                                         check=at_least(1))
    solver_empties: int = knob(14, "solve probes with at most this many empties",
                               check=_solvable)
    candidates: int = knob(64, "random positions searched for the 'confident' probe",
                           check=at_least(1))
    unique_tries: int = knob(60, "random endgames tried for the 'unique-win' probe",
                             check=at_least(0))
    gif_probes: int | None = knob(None, "write GIFs for the first N probes (None: all)",
                                  check=at_least(0))
    model: int | None = knob(None, "toy sweep: index of the model to draw (None: the sparsest "
                             "model whose number of live columns changes during training)",
                             check=at_least(0))


DEFAULT = TrajectoryConfig()
QUICK = replace(DEFAULT, solver_empties=12, candidates=16, unique_tries=20, gif_probes=3)


def parse_args(argv: list[str] | None = None
               ) -> tuple[argparse.Namespace, TrajectoryConfig, dict]:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_flags(p, out="default results/trajectories/<kind> for the documented runs "
                  "(runs/alphazero/default, runs/toymodels/sweep) with no settings typed, else "
                  "<run>/trajectory; --quick: runs/trajectories/quick/<kind>",
                  quick="about a minute: fewer probe candidates, probes solved only from "
                        "12 empties, GIFs for the first 3 probes")
    add_wandb_flags(p, "the summary")
    add_config_flags(p, TrajectoryConfig, presets={"quick": QUICK})
    args = p.parse_args(argv)
    cfg, given = config_from_args(args, TrajectoryConfig, QUICK if args.quick else DEFAULT)
    if cfg.run is None:
        cfg = replace(cfg, run=QUICK_RUN if args.quick else DEFAULT_RUN)
    if not cfg.default_probes and not cfg.moves and not cfg.records:
        p.error("--no-default-probes needs --moves or --records")
    if cfg.records is not None and not cfg.records.is_file():
        p.error(f"--records: no such file {cfg.records}")
    return args, cfg, given


def run_kind(run: Path) -> str:
    from mazes.report import is_maze_run

    if is_maze_run(run):  # before AlphaZero: a maze run also keeps checkpoints/
        return "maze"
    if (run / "checkpoints").is_dir():
        return "alphazero"
    if (run / "train.pt").is_file():
        return "toymodel"
    raise SystemExit(f"error: {run} holds no AlphaZero checkpoints/iter_*.pt, toy-model sweep "
                     "train.pt or maze run; train one with train_alphazero.py, "
                     "scripts/sweep_sparsity.py or scripts/maze_trajectory.py")


def alphazero_report(cfg: TrajectoryConfig, out: Path, meta: dict, progress: bool) -> dict:
    from othello.az.model import load_model
    from othello.interp.probes import default_probes, user_probes
    from othello.interp.trajectory import snapshot_paths
    from othello.interp.trajectory_plots import write_report

    final, _ = load_model(snapshot_paths(cfg.run)[-1])
    size = final.config.size
    probes = [] if not cfg.default_probes else default_probes(
        final, size, cfg.seed, cfg.solver_empties, candidates=cfg.candidates,
        unique_tries=cfg.unique_tries)
    probes += user_probes(list(cfg.moves), cfg.records, list(cfg.record_plies), size,
                          cfg.solver_empties)
    summary = write_report(cfg.run, out, probes, meta, cfg.gif_probes, progress)
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


def toymodel_report(cfg: TrajectoryConfig, out: Path, meta: dict, progress: bool) -> dict:
    from toymodels.tms.trajectory import write_toy_report

    summary = write_toy_report(cfg.run, out, cfg.model, meta)
    print(f"model {summary['model']} (S = {summary['sparsity']:.3f}, {summary['init']} init): "
          f"{' -> '.join(dict.fromkeys(summary['kgon']))}, loss {summary['loss'][0]:.4f} -> "
          f"{summary['loss'][-1]:.4f}")
    print("k-gon losses on its data: " + ", ".join(f"{k} {v:.4f}"
                                                   for k, v in summary["kgon_losses"].items()))
    return summary


def maze_report(cfg: TrajectoryConfig, out: Path, meta: dict, progress: bool) -> dict:
    from mazes.report import write_maze_report

    summary = write_maze_report(cfg.run, out, meta=meta, progress=progress)
    print(f"{summary['frames']} frames; held-out success over training: "
          + " -> ".join(f"{s:.2f}" for s in summary["held_out_success"]))
    return summary


def default_out(run: Path, kind: str, quick: bool, given: dict) -> Path:
    """Only a documented run followed with the default probes writes the committed
    results/trajectories/<kind>; any other run (or typed settings) writes <run>/trajectory, so
    that trying things never overwrites committed figures."""
    if quick:
        return REPO_ROOT / "runs" / "trajectories" / "quick" / kind
    given = {k: v for k, v in given.items() if k != "--run"}
    maze_agent = run.name.removeprefix("default-")  # runs/mazes/default-<arch>-<cheese>
    published = PUBLISHED_RUNS.get(run.resolve()) == kind or (
        kind == "maze" and run.resolve().parent == (REPO_ROOT / "runs" / "mazes").resolve()
        and maze_agent in MAZE_AGENTS)
    if published and not given:
        return REPO_ROOT / "results" / "trajectories" / (
            kind if kind != "maze" else f"maze/{maze_agent}")
    return run / "trajectory"


REPORTS = {"alphazero": alphazero_report, "toymodel": toymodel_report, "maze": maze_report}


def main(argv: list[str] | None = None) -> int:
    args, cfg, given = parse_args(argv)
    setup_process()
    if not cfg.run.is_dir():
        print(f"error: no run folder {cfg.run} (train one with train_alphazero.py, or pass "
              "--run)", file=sys.stderr)
        return 2
    kind = run_kind(cfg.run)
    out = args.out or default_out(cfg.run, kind, args.quick, given)
    meta = {"seed": cfg.seed, "quick": args.quick, "code_version": results_version(out),
            "argv": sys.argv[1:] if argv is None else argv}
    try:
        check_writable(out)
    except RunFolderError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    run = maybe_wandb(args.wandb, "policy-trajectory", {k: str(v) for k, v in vars(args).items()},
                      mode=args.wandb_mode)
    try:
        summary = REPORTS[kind](cfg, out, meta, not args.no_progress)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    if run is not None:
        run.log({"final_loss": summary["loss"][-1]} if kind == "toymodel"
                else {"pca_pc1": summary["pca"]["explained"][0]})
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
