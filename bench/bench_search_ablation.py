"""Search ablations at equal CPU time: the current recipe (PUCT, 50 simulations) against the
Gumbel root and playout-cap randomisation, each trained from the same seed for the same CPU
seconds and scored against one classic opponent.

    python bench/bench_search_ablation.py                     # 4 variants, 360 CPU-s each, 40 games
    python bench/bench_search_ablation.py --variants puct50 gumbel16 --cpu-budget-s 120 --games 20

CPU time (`time.process_time`, one torch thread) is the budget, not wall-clock: the machine may
be shared. A variant trains whole iterations of the default recipe (its network, 256 games per
iteration, the default learning rate held at its peak: the run's cosine schedule is stretched
over `--schedule-iterations`) until its CPU seconds pass the budget, then plays `--games` games
against `--opponent` from distinct 6-ply openings, both colours, with its own root rule at
`--eval-simulations` simulations and no noise. Runs go to runs/ablations/search/<variant>/;
the table (variant, CPU s, iterations, games, score with its Wilson 95% interval, self-play
moves per CPU second) is printed and written to results/alphazero/ablations/search.json
(refused from a tree with uncommitted changes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from alphazero.config import TrainConfig
from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
    positive,
)
from common.io import REPO_ROOT, command_line, results_version, write_json
from common.process import setup_process

OUT = REPO_ROOT / "results" / "alphazero" / "ablations" / "search.json"
RUNS = REPO_ROOT / "runs" / "ablations" / "search"


def _search(train: TrainConfig, **changes) -> TrainConfig:
    return replace(train, search=replace(train.search, **changes))


# variant -> how it changes the current recipe
VARIANTS: dict[str, Callable[[TrainConfig], TrainConfig]] = {
    "puct50": lambda t: t,
    "gumbel16": lambda t: _search(t, root_search="gumbel", simulations=16),
    "gumbel32": lambda t: _search(t, root_search="gumbel", simulations=32),
    "puct50-cap": lambda t: replace(t, full_search_share=0.25, cheap_simulations=8),
}


@dataclass(frozen=True)
class AblationConfig:
    variants: tuple[str, ...] = knob(tuple(VARIANTS), "variants to train and score",
                                     choices=tuple(VARIANTS))
    cpu_budget_s: float = knob(360.0, "CPU seconds of training per variant", check=positive)
    schedule_iterations: int = knob(1000, "iterations the learning-rate schedule is spread "
                                    "over (large: the peak rate throughout)", check=at_least(1))
    games: int = knob(40, "games against the opponent per variant", check=at_least(2))
    opponent: str = knob("alphabeta:4", "classic opponent (player spec)")
    eval_simulations: int = knob(50, "simulations per move when scoring", check=at_least(1))
    seed: int = knob(0, "seed of every run (network, self-play) and of the openings",
                     check=at_least(0))


DEFAULT = AblationConfig()
QUICK = replace(DEFAULT, variants=("puct50", "gumbel16"), cpu_budget_s=5.0, games=4)


def train_variant(name: str, cfg: AblationConfig, progress: bool, quick: bool):
    """Train one variant for the CPU budget; returns (network, trainer, CPU seconds)."""
    import torch

    from alphazero.trainer import Trainer
    from othello.az.config import NetConfig
    from othello.az.game import OthelloGame
    from othello.az.model import PolicyValueNet

    base = TrainConfig(iterations=cfg.schedule_iterations, seed=cfg.seed)
    if quick:
        base = replace(base, games_per_iteration=8, concurrent_games=8, sample_reuse=1.0)
    train = VARIANTS[name](base)
    net_config = NetConfig()
    torch.manual_seed(cfg.seed)
    net = PolicyValueNet(net_config)
    run_dir = RUNS / (f"quick-{name}" if quick else name)
    trainer = Trainer(OthelloGame(net_config.size), net, asdict(net_config), train, run_dir)
    trainer.progress = progress
    start = time.process_time()
    while time.process_time() - start < cfg.cpu_budget_s:
        trainer.run_iteration()
    return net, trainer, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file of the table (default results/alphazero/ablations/"
                  "search.json)", quick="2 variants, 5 CPU-s of tiny iterations, 4 games")
    add_config_flags(p, AblationConfig, presets={"quick": QUICK})
    args = p.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, AblationConfig, QUICK if args.quick else DEFAULT)
    out = args.out or OUT
    version = results_version(out.parent)

    import numpy as np

    from othello.az.agent import AlphaZeroPlayer
    from othello.az.evaluation import match_results
    from othello.players.registry import PlayerSpecError, make_player

    try:
        make_player(cfg.opponent, 6)
    except PlayerSpecError as exc:
        print(f"error: --opponent: {exc}", file=sys.stderr)
        return 2
    rows = []
    for name in cfg.variants:
        net, trainer, cpu = train_variant(name, cfg, not args.no_progress, args.quick)
        search = replace(trainer.config.eval_search(), simulations=cfg.eval_simulations)
        result = match_results(AlphaZeroPlayer(net, search), (cfg.opponent,), cfg.games,
                               np.random.default_rng(cfg.seed), opening_plies=6,
                               distinct=True)[cfg.opponent]
        moves = sum(m["selfplay_positions"] for m in trainer.metrics)
        row = {"variant": name, "cpu_s": cpu, "iterations": trainer.iteration,
               "selfplay_games": sum(m["selfplay_games"] for m in trainer.metrics),
               "training_positions": moves, "training_positions_per_cpu_s": moves / cpu,
               "games": result.games, "wdl": [result.wins, result.draws, result.losses],
               "score": result.score, "wilson95": [round(x, 4) for x in result.interval()],
               "train_config": config_dict(trainer.config)}
        rows.append(row)
        print(f"{name:12s} {cpu:7.0f} CPU-s {row['iterations']:3d} iterations  "
              f"score vs {cfg.opponent} {result.score:.3f} "
              f"(95% CI {row['wilson95'][0]:.3f}-{row['wilson95'][1]:.3f}, "
              f"{result.games} games)  {row['training_positions_per_cpu_s']:.0f} "
              "training positions per CPU-s", flush=True)
    write_json(out, {"config": config_dict(cfg), "rows": rows, "code_version": version,
                     "command": command_line(__file__, argv)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
