"""Strength of an AlphaZero checkpoint against the issue's targets.

    python bench/bench_alphazero_strength.py                      # the pretrained agent
    python bench/bench_alphazero_strength.py --checkpoint runs/alphazero/default/checkpoint.pt

MCTS with the search flags (--simulations, --c-puct; defaults from SearchConfig), --eval-games
games against each classic opponent: --eval-games / 2 random 6-ply openings, no two equal up to
symmetry, each played with both colours (the same openings for every opponent), scored with
Wilson 95% intervals; the perfect-move share on the fixed 60-position endgame set (12-14
empties) judged by the exact solver; whole-game move accuracy: every move of the agent in the
games of the first --judged-games / 2 openings against the last opponent, judged by the
perfect-play oracle (keeps the outcome? discs given away?); and two games against `perfect` from
the start position, the agent Black and White. Prints a table and writes
results/alphazero/strength.json (refused from a tree with uncommitted changes: committed figures
come from committed code). The oracle's proofs go to its cache (runs/oracle/), so a rerun of the
same games is quick. With --batch-openings N the games are split into tasks of N openings (own
seeds) that run in this process or on Ray (--executor ray): the same results either way.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from alphazero.mcts import SearchConfig
from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
)
from common.executor import executor_config, executor_flags, make_executor
from common.io import REPO_ROOT, CheckpointError, command_line, results_version, write_json
from common.process import setup_process
from othello.az.accuracy import describe
from othello.az.agent import PRETRAINED, AlphaZeroPlayer
from othello.az.evaluation import (
    ENDGAME_SEED,
    EvalConfig,
    batched_match_results,
    endgame_cache,
    endgame_scores,
    endgame_set,
    judged_summary,
    match_results,
    score_key,
)
from othello.az.model import load_model

OUT = REPO_ROOT / "results" / "alphazero" / "strength.json"
# The agent issue's targets (alpha-beta 4 and the solver) and the earlier ones it kept.
TARGETS = {"score_vs_random": 0.99, "score_vs_greedy": 0.95, "score_vs_solver:14": 0.75,
           "score_vs_alphabeta:4": 0.95, "endgame_perfect": 0.90}


@dataclass(frozen=True)
class StrengthConfig:
    checkpoint: Path = knob(PRETRAINED, "network or training checkpoint to measure")
    search: SearchConfig = SearchConfig()
    symmetric: bool = knob(False, "average the network over the 8 board symmetries")
    eval: EvalConfig = replace(EvalConfig(), games=200, opening_plies=6, judged_games=12,
                               opponents=("random", "greedy", "alphabeta:2", "alphabeta:3",
                                          "solver:14", "alphabeta:4"))
    seed: int = knob(7, "seed of the openings and tie-breaks", check=at_least(0))


@dataclass(frozen=True)
class BatchConfig:
    """How the matches are split into tasks (`common.executor`); not part of the results."""

    batch_openings: int = knob(0, "openings (each played with both colours) per task; 0: one "
                               "match per opponent in this process, as before (batched games, "
                               "on any executor, are other games)", check=at_least(0))
    tasks: Path = knob(REPO_ROOT / "runs" / "strength" / "tasks", "where finished batches are "
                       "kept (a rerun reuses them)")


DEFAULT = StrengthConfig()
QUICK = replace(DEFAULT, eval=replace(DEFAULT.eval, games=4, endgames=6, judged_games=0))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file of the results (default results/alphazero/strength.json)",
                  quick="4 games per opponent and 6 endgames")
    add_config_flags(p, StrengthConfig, presets={"quick": QUICK})
    add_config_flags(p, BatchConfig)
    executor_flags(p)
    args = p.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, StrengthConfig, QUICK if args.quick else DEFAULT)
    batch, _ = config_from_args(args, BatchConfig, BatchConfig())
    executor_cfg = executor_config(args)
    if executor_cfg.executor != "local" and not batch.batch_openings:
        p.error("--executor ray needs --batch-openings N (the games split into tasks)")
    try:
        net, ckpt = load_model(cfg.checkpoint)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = net.config.size
    out = args.out or OUT
    version = results_version(out.parent)
    rng = np.random.default_rng(cfg.seed)
    player = AlphaZeroPlayer(net, cfg.search, symmetric=cfg.symmetric)
    start = time.perf_counter()
    try:
        if batch.batch_openings:
            with make_executor(executor_cfg) as executor:
                results = batched_match_results(
                    player, cfg.eval.opponents, cfg.eval.games, rng, cfg.eval.opening_plies,
                    batch.batch_openings, executor, batch.tasks, cfg.seed,
                    record=cfg.eval.judged_games > 0, progress=not args.no_progress)
        else:
            results = match_results(player, cfg.eval.opponents, cfg.eval.games, rng,
                                    cfg.eval.opening_plies, distinct=True,
                                    record=cfg.eval.judged_games > 0)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scores = {score_key(spec): r.score for spec, r in results.items()}
    if cfg.eval.endgames:
        endgames = endgame_set(size, cfg.eval.endgames, seed=ENDGAME_SEED,
                               cache=endgame_cache(size, cfg.eval.endgames))
        scores.update(endgame_scores(player, endgames, rng))
    judged = {}
    if cfg.eval.judged_games and results:
        judged["opponent"] = cfg.eval.opponents[-1]
        judged |= judged_summary(results[judged["opponent"]], cfg.eval.judged_games, size,
                                 progress=not args.no_progress)

    print(f"{cfg.checkpoint} (iteration {ckpt.get('iteration', '?')}), "
          f"MCTS {player.config.simulations} sims (c_puct {player.config.c_puct}), "
          f"{cfg.eval.games} games per opponent from {(cfg.eval.games + 1) // 2} distinct "
          f"{cfg.eval.opening_plies}-ply openings, both colours")
    for key, value in scores.items():
        target = TARGETS.get(key)
        verdict = ("" if target is None else
                   f" target >= {target:.2f}: {'met' if value >= target else 'MISSED'}")
        spec = key.removeprefix(score_key(""))
        detail = ""
        if spec in results:
            r = results[spec]
            low, high = r.interval()
            detail = f"  ({r.wins}-{r.draws}-{r.losses} W-D-L, 95% CI {low:.3f}-{high:.3f})"
        print(f"  {key:28s} {value:6.3f}{verdict}{detail}")
    if judged:
        print(describe(f"{judged['games']} games vs {judged['opponent']}", judged))
    write_json(out, {"checkpoint": str(cfg.checkpoint), "iteration": ckpt.get("iteration"),
                     "config": config_dict(cfg), "search": asdict(player.config),
                     "scores": scores,
                     "wdl": {k: [r.wins, r.draws, r.losses] for k, r in results.items()},
                     "wilson95": {k: [round(x, 4) for x in r.interval()]
                                  for k, r in results.items()},
                     "openings": (cfg.eval.games + 1) // 2, "seed": cfg.seed,
                     "move_accuracy": judged,
                     "code_version": version, "targets": TARGETS,
                     "command": command_line(__file__, argv),
                     **({"batch_openings": batch.batch_openings} if batch.batch_openings
                        else {}),
                     "seconds": time.perf_counter() - start})
    return 0


if __name__ == "__main__":
    sys.exit(main())
