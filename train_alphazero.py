"""Train an AlphaZero agent for N x N Othello by batched self-play on a CPU.

    python train_alphazero.py                  # the default run (about 15 minutes on 2 cores)
    python train_alphazero.py --quick          # about a minute, for demos and tests
    python train_alphazero.py --resume         # continue a killed run from its last iteration

Writes runs/alphazero/<run>/ (checkpoint.pt, metrics.jsonl, log-spaced checkpoints/) and, at the
end, figures + summary.json to --results (results/alphazero for the default run, where the final
network is also saved as agent.pt: the project's pretrained agent).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import torch

from alphazero.plots import plot_losses, plot_strength
from alphazero.trainer import CHECKPOINT, RunError, TrainConfig, Trainer
from common.cli import maybe_wandb, nonnegative_int, positive_float, positive_int, probability
from common.io import REPO_ROOT, CheckpointError, code_version, load_checkpoint, write_json
from othello.az.agent import PRETRAINED
from othello.az.evaluation import endgame_set, make_eval_hook
from othello.az.game import OthelloGame
from othello.az.model import NetConfig, PolicyValueNet, save_model

QUICK = dict(iterations=3, games_per_iteration=48, concurrent_games=48, simulations=16,
             replay_capacity=10_000)
HELP = {
    "iterations": "self-play/training iterations",
    "games_per_iteration": "self-play games per iteration",
    "concurrent_games": "games advanced together (one batched network call per simulation)",
    "simulations": "MCTS simulations per self-play move",
    "c_puct": "PUCT exploration constant",
    "dirichlet_alpha": "root Dirichlet noise concentration",
    "noise_fraction": "weight of the root noise in self-play priors",
    "temperature_plies": "plies sampled in proportion to visits before playing the best move",
    "search_value_weight": "blend of the root search value into value targets (0: game result)",
    "replay_capacity": "positions kept in the replay buffer",
    "batch_size": "training minibatch",
    "sample_reuse": "training samples drawn per new self-play position",
    "lr": "AdamW peak learning rate (cosine-decayed to 1/20 over the run)",
    "weight_decay": "AdamW weight decay",
    "gate_games": "arena games new vs previous network per iteration (0: no gating)",
    "gate_threshold": "score the new network needs in the arena to be kept",
    "eval_every": "evaluate against classic players every k iterations (and at the end)",
    "snapshots": "about how many log-spaced network snapshots to keep",
    "seed": "random seed",
}
ARG_TYPES = {int: positive_int, float: positive_float}
ZERO_OK = {"gate_games": nonnegative_int, "temperature_plies": nonnegative_int,
           "noise_fraction": probability, "weight_decay": probability,
           "gate_threshold": probability, "seed": nonnegative_int,
           "search_value_weight": probability}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"tiny preset for demos: {QUICK}")
    p.add_argument("--run", default=None, help="run name under runs/alphazero/ "
                   "(default: 'default', or 'quick' with --quick)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run from its checkpoint")
    again.add_argument("--restart", action="store_true",
                       help="delete an existing run of this name and start it over")
    p.add_argument("--runs-dir", type=Path, default=REPO_ROOT / "runs" / "alphazero",
                   help="folder that holds the run folders")
    p.add_argument("--results", type=Path, default=None,
                   help="where figures and summary go (default: results/alphazero, or the run "
                        "folder with --quick); the default run also writes agent.pt there")
    p.add_argument("--size", type=int, choices=(4, 6, 8), default=6, help="board size")
    p.add_argument("--width", type=positive_int, default=256, help="residual stream width")
    p.add_argument("--blocks", type=nonnegative_int, default=4, help="residual blocks")
    p.add_argument("--eval-games", type=nonnegative_int, default=None,
                   help="games per classic opponent in each evaluation (default 20, quick 4)")
    p.add_argument("--eval-sims", type=positive_int, default=None,
                   help="MCTS simulations per move in evaluations (default 50, quick 16)")
    p.add_argument("--endgames", type=nonnegative_int, default=None,
                   help="positions in the solver-labelled endgame set (default 60, quick 6)")
    p.add_argument("--wandb", action="store_true", help="also log to wandb (offline)")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        kind = ZERO_OK.get(f.name) or ARG_TYPES[type(getattr(defaults, f.name))]
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None,
                       help=f"{HELP[f.name]} (default {getattr(defaults, f.name)}"
                            + (f", quick {QUICK[f.name]})" if f.name in QUICK else ")"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    run = args.run or ("quick" if args.quick else "default")
    run_dir = args.runs_dir / run
    results = args.results or (run_dir / "results" if args.quick else
                               REPO_ROOT / "results" / "alphazero")
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig)
                 if getattr(args, f.name) is not None}
    config = replace(TrainConfig(), **{**(QUICK if args.quick else {}), **overrides})
    eval_games = args.eval_games if args.eval_games is not None else (4 if args.quick else 20)
    eval_sims = args.eval_sims or (16 if args.quick else 50)
    n_endgames = args.endgames if args.endgames is not None else (6 if args.quick else 60)

    if args.restart and run_dir.exists():
        shutil.rmtree(run_dir)
    try:
        resuming = (run_dir / CHECKPOINT).exists()
        if resuming and not args.resume:
            raise RunError(f"{run_dir} already holds a run: pass --resume to continue it, "
                           "--restart to start it over, or --run NAME for a new one")
        if args.resume and not resuming:
            raise RunError(f"nothing to resume: {run_dir / CHECKPOINT} does not exist")
        net_config = (NetConfig(**load_checkpoint(run_dir / CHECKPOINT, ("config",))["config"])
                      if resuming else
                      NetConfig(size=args.size, width=args.width, blocks=args.blocks))
    except (RunError, CheckpointError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    size = net_config.size
    torch.manual_seed(config.seed)  # the initial weights are part of what the seed fixes
    game, net = OthelloGame(size), PolicyValueNet(net_config)
    endgames = None
    if n_endgames:
        print(f"endgame set: {n_endgames} solver-labelled positions (cached after the first run)")
        endgames = endgame_set(size, n_endgames, seed=1234,
                               cache=REPO_ROOT / "runs" / "alphazero" /
                               f"endgames_{size}x{size}_{n_endgames}.json")
    hook = make_eval_hook(size, eval_games, eval_sims, endgames, seed=config.seed)
    try:
        if resuming:
            trainer = Trainer.resume(game, net, run_dir, hook)
            print(f"resuming {run} after iteration {trainer.iteration} (its saved network and "
                  "training settings apply)")
        else:
            trainer = Trainer(game, net, asdict(net_config), config, run_dir, hook)
    except (RunError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    wandb_run = maybe_wandb(args.wandb, "othello-alphazero", asdict(trainer.config))
    trainer.log = lambda m: _report(m, wandb_run)
    trainer.run()
    _write_results(trainer, results, publish=not args.quick and args.results is None,
                   extra={"eval_games": eval_games, "eval_sims": eval_sims,
                          "endgames": n_endgames, "run": run})
    if wandb_run is not None:
        wandb_run.finish()
    return 0


def _report(metrics: dict, wandb_run) -> None:
    keys = ["policy_loss", "value_loss", "selfplay_positions_per_s"]
    keys += [k for k in metrics if k.startswith(("score_vs_", "endgame_perfect"))]
    parts = [f"{k.removeprefix('score_vs_')}={metrics[k]:.3g}" for k in keys]
    print(f"iter {metrics['iteration']} ({metrics['iteration_seconds']:.0f} s): "
          + " ".join(parts), flush=True)
    if wandb_run is not None:
        wandb_run.log(metrics, step=metrics["iteration"])


def _write_results(trainer: Trainer, results: Path, publish: bool, extra: dict) -> None:
    results.mkdir(parents=True, exist_ok=True)
    plot_losses(trainer.metrics, results / "losses.png")
    plot_strength(trainer.metrics, results / "strength.png")
    final = trainer.metrics[-1]
    summary = {"final": final, "train_config": asdict(trainer.config),
               "net_config": trainer.net_config, **extra,
               "total_seconds": float(np.sum([m["iteration_seconds"] for m in trainer.metrics])),
               "code_version": code_version()}
    write_json(results / "summary.json", summary)
    if publish:
        save_model(PRETRAINED, trainer.net, iteration=trainer.iteration, steps=trainer.steps)
        write_json(PRETRAINED.with_suffix(".json"), summary)
    shutil.copy(trainer.run_dir / "metrics.jsonl", results / "metrics.jsonl")
    print(f"wrote {results}/ (losses.png, strength.png, summary.json"
          + (", agent.pt)" if publish else ")"))


if __name__ == "__main__":
    sys.exit(main())
