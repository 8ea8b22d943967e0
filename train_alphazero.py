"""Train an AlphaZero agent for N x N Othello by batched self-play on a CPU.

    python train_alphazero.py                  # the default run (about 15 minutes on 2 cores)
    python train_alphazero.py --quick          # about a minute, for demos and tests
    python train_alphazero.py --resume         # continue a killed run from its last iteration

Writes the run folder --out (runs/alphazero/default, or runs/alphazero/quick with --quick:
checkpoint.pt, metrics.jsonl, log-spaced checkpoints/) and, at the end, figures + summary.json to
--results (results/alphazero for the default run with no settings typed, where the final
network is also saved as agent.pt: the project's pretrained agent; else <run>/results). The run
folder is locked while it runs; --restart deletes it only if it holds a run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from alphazero.config import TrainConfig, WorkersConfig
from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
)
from common.executor import executor_config, executor_flags, make_executor
from common.io import REPO_ROOT, results_version, write_json
from common.process import setup_process
from common.runs import RunFolderError, check_writable, open_run
from common.tracking import add_wandb_flags, maybe_wandb
from othello.az.config import EvalConfig, NetConfig

RUNS = REPO_ROOT / "runs" / "alphazero"


@dataclass(frozen=True)
class RunConfig:
    """A training run: the network's shape, the training loop (with its search) and how the
    network is evaluated along the way."""

    net: NetConfig = NetConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
    eval_simulations: int | None = knob(None, "MCTS simulations per move in evaluations "
                                        "(None: the self-play --simulations)", check=at_least(1))

    def eval_search(self):
        search = self.train.eval_search()
        if self.eval_simulations is not None:
            search = replace(search, simulations=self.eval_simulations)
        return search


DEFAULT = RunConfig()
QUICK = replace(DEFAULT,
                train=replace(DEFAULT.train, iterations=3, games_per_iteration=48,
                              concurrent_games=48, replay_capacity=10_000,
                              search=replace(DEFAULT.train.search, simulations=16)),
                eval=replace(DEFAULT.eval, games=4, endgames=6))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="the run folder; default runs/alphazero/default, or "
                  "runs/alphazero/quick with --quick",
                  quick="a tiny run of about a minute, for demos and tests", device=True)
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run from its checkpoint (its saved settings apply)")
    again.add_argument("--restart", action="store_true",
                       help="delete the run in --out and start it over (only a folder that "
                            "holds a run is deleted)")
    p.add_argument("--results", type=Path, default=None,
                   help="where figures and summary go (default: results/alphazero for the "
                        "default run with no settings typed, which also writes agent.pt there; "
                        "else <out>/results)")
    add_wandb_flags(p, "the metrics of every iteration")
    add_config_flags(p, RunConfig, presets={"quick": QUICK})
    add_config_flags(p, WorkersConfig)
    executor_flags(p)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_process()
    from alphazero.trainer import CHECKPOINT  # after parsing: --help answers at once

    config, given = config_from_args(args, RunConfig, QUICK if args.quick else DEFAULT)
    run_dir = args.out or RUNS / ("quick" if args.quick else "default")
    # only the documented default run (no flags but --resume) publishes the pretrained agent
    publish = (args.out is None and not args.quick and args.results is None and not given
               and not args.selfplay_workers)
    results = args.results or (REPO_ROOT / "results" / "alphazero" if publish
                               else run_dir / "results")
    version = results_version(results)  # before the run: its own outputs dirty the tree
    try:
        lock = open_run(run_dir, "alphazero", restart=args.restart, own_files=(CHECKPOINT,))
        check_writable(results, "--results folder")
    except RunFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with lock:
        return _train(args, config, given, run_dir, results, publish, version)


def _train(args: argparse.Namespace, config: RunConfig, given: dict, run_dir: Path,
           results: Path, publish: bool, version: str) -> int:
    # heavy imports (torch, numba, matplotlib) here, so that --help answers at once
    import torch

    from alphazero.distributed import LocalSelfPlay, RaySelfPlay, workers_for_run
    from alphazero.trainer import CHECKPOINT, RunError, Trainer
    from common.device import resolve_device
    from common.io import CheckpointError, load_checkpoint
    from othello.az.adjudicate import endgame_adjudicator
    from othello.az.evaluation import ENDGAME_SEED, endgame_cache, endgame_set, make_eval_hook
    from othello.az.game import OthelloGame
    from othello.az.model import PolicyValueNet
    from othello.players.registry import PlayerSpecError, make_player

    try:
        resuming = (run_dir / CHECKPOINT).exists()
        if resuming and not args.resume:
            raise RunError(f"{run_dir} already holds a run: pass --resume to continue it, "
                           "--restart to start it over, or --out for a new one")
        if args.resume and not resuming:
            raise RunError(f"nothing to resume: {run_dir / CHECKPOINT} does not exist")
        if resuming:
            net_config = NetConfig(**load_checkpoint(run_dir / CHECKPOINT, ("config",))["config"])
        else:
            net_config = config.net
    except (RunError, CheckpointError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    size = net_config.size
    try:  # a bad opponent spec fails now, not at the first evaluation
        for spec in config.eval.opponents if config.eval.games else ():
            make_player(spec, size)
    except PlayerSpecError as exc:
        print(f"error: --opponents: {exc}", file=sys.stderr)
        return 2
    torch.manual_seed(config.train.seed)  # the initial weights are part of what the seed fixes
    game, net = OthelloGame(size), PolicyValueNet(net_config).to(resolve_device(args.device))
    endgames = None
    if config.eval.endgames:
        print(f"endgame set: {config.eval.endgames} solver-labelled positions "
              "(cached after the first run)")
        endgames = endgame_set(size, config.eval.endgames, seed=ENDGAME_SEED,
                               cache=endgame_cache(size, config.eval.endgames))
    adjudicator = endgame_adjudicator(size)
    try:
        if resuming:
            trainer = Trainer.resume(game, net, run_dir, adjudicator=adjudicator)
            ignored = sorted(f for f in given if f not in _EVAL_FLAGS)
            print(f"resuming {run_dir} after iteration {trainer.iteration} (its saved network "
                  "and training settings apply" + (f"; ignoring {' '.join(ignored)}" if ignored
                                                  else "") + ")")
        else:
            trainer = Trainer(game, net, asdict(net_config), config.train, run_dir,
                              adjudicator=(adjudicator(config.train)
                                           if config.train.exact_empties else None))
    except (RunError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # evaluations search like the run itself (its saved search when resuming), without noise
    config = replace(config, net=net_config, train=trainer.config)
    if publish and (config.net, config.train) != (DEFAULT.net, DEFAULT.train):
        publish, results = False, run_dir / "results"  # a resumed run trained with other flags
        print(f"note: {run_dir} was trained with other settings than the default run: its "
              f"results go to {results}, and results/alphazero stays as it is")
    trainer.eval_hook = make_eval_hook(config.eval, config.eval_search(), endgames,
                                       seed=config.train.seed)

    wandb_run = maybe_wandb(args.wandb, "othello-alphazero", config_dict(config),
                            mode=args.wandb_mode)
    trainer.log = lambda m: _report(m, wandb_run)
    trainer.progress = not args.no_progress
    try:
        workers = workers_for_run(run_dir, args.selfplay_workers, resuming)
    except (ValueError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    executor_cfg = executor_config(args)
    if executor_cfg.executor != "local" and not workers:
        print("error: --executor ray needs --selfplay-workers N", file=sys.stderr)
        return 2
    with make_executor(executor_cfg) as executor:
        if workers:
            trainer.selfplay = (LocalSelfPlay(game, net, trainer.config, workers)
                                if executor.local else
                                RaySelfPlay(game, net, trainer.config, workers, executor_cfg))
        trainer.run()
    _write_results(trainer, results, publish=publish,
                   extra={"eval": config_dict(config.eval),
                          "eval_search": asdict(config.eval_search()), "run": str(run_dir),
                          "code_version": version})
    if wandb_run is not None:
        wandb_run.finish()
    return 0


# Flags that still apply when resuming (they only change the evaluations).
_EVAL_FLAGS = {"--eval-games", "--opponents", "--endgames", "--eval-opening-plies",
               "--eval-simulations"}


def _report(metrics: dict, wandb_run) -> None:
    from othello.az.evaluation import headline

    shown = {"policy_loss": metrics["policy_loss"], "value_loss": metrics["value_loss"],
             "selfplay_positions_per_s": metrics["selfplay_positions_per_s"], **headline(metrics)}
    print(f"iter {metrics['iteration']} ({metrics['iteration_seconds']:.0f} s): "
          + " ".join(f"{k}={v:.3g}" for k, v in shown.items()), flush=True)
    if wandb_run is not None:
        wandb_run.log(metrics, step=metrics["iteration"])


def _write_results(trainer, results: Path, publish: bool, extra: dict) -> None:
    import numpy as np

    from alphazero.plots import plot_losses, plot_strength
    from othello.az.agent import PRETRAINED
    from othello.az.evaluation import ENDGAME_METRICS, strength_series
    from othello.az.model import save_model

    results.mkdir(parents=True, exist_ok=True)
    plot_losses(trainer.metrics, results / "losses.png")
    plot_strength(trainer.metrics, results / "strength.png", strength_series(trainer.metrics),
                  dashed=tuple(ENDGAME_METRICS))
    final = trainer.metrics[-1]
    summary = {"final": final, "train_config": config_dict(trainer.config),
               "net_config": trainer.net_config, **extra,
               "total_seconds": float(np.sum([m["iteration_seconds"] for m in trainer.metrics]))}
    write_json(results / "summary.json", summary)
    if publish:
        for path in (PRETRAINED, PRETRAINED.with_suffix(".safetensors")):
            save_model(path, trainer.net, iteration=trainer.iteration, steps=trainer.steps)
        write_json(PRETRAINED.with_suffix(".json"), summary)
    shutil.copy(trainer.run_dir / "metrics.jsonl", results / "metrics.jsonl")
    print(f"wrote {results}/ (losses.png, strength.png, summary.json"
          + (", agent.pt, agent.safetensors)" if publish else ")"))


if __name__ == "__main__":
    sys.exit(main())
