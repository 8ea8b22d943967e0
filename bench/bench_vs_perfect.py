"""An AlphaZero checkpoint against perfect play from the start position, as both colours.

    python bench/bench_vs_perfect.py
    python bench/bench_vs_perfect.py --checkpoint runs/alphazero/default/checkpoint.pt

6x6 Othello is a 16-20 win for White, so an agent that plays perfectly loses 16-20 as Black
and wins 20-16 as White. The `perfect` player answers from the oracle's committed cache near the
start and solves the rest (positions the agent leads it into can take minutes each at 27-30
empties; the proofs stay in runs/oracle/ so a rerun is quick). Every move of the agent is then
judged by the oracle. Writes results/alphazero/vs_perfect.json (refused from a dirty tree).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
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
from common.io import REPO_ROOT, CheckpointError, command_line, results_version, write_json
from common.process import setup_process
from othello.az.accuracy import describe, judge_moves, versus_perfect
from othello.az.agent import PRETRAINED, AlphaZeroPlayer, classic_policy
from othello.az.model import load_model
from othello.players.perfect import PerfectPlayer
from othello.rules.oracle import Oracle

OUT = REPO_ROOT / "results" / "alphazero" / "vs_perfect.json"


@dataclass(frozen=True)
class VersusPerfectConfig:
    checkpoint: Path = knob(PRETRAINED, "network or training checkpoint to measure")
    search: SearchConfig = SearchConfig()
    seed: int = knob(7, "seed of the tie-breaks", check=at_least(0))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file of the results (default results/alphazero/vs_perfect.json)")
    add_config_flags(p, VersusPerfectConfig)
    args = p.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, VersusPerfectConfig, VersusPerfectConfig())
    try:
        net, ckpt = load_model(cfg.checkpoint)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or OUT
    version = results_version(out.parent)
    size, rng, start = net.config.size, np.random.default_rng(cfg.seed), time.perf_counter()
    player = AlphaZeroPlayer(net, cfg.search)
    games, result = versus_perfect(player.game, player.policy(rng),
                                   classic_policy(PerfectPlayer(size), size, rng), rng)
    with Oracle(size) as oracle:
        judged = judge_moves(oracle, result.a_moves, 2, progress=not args.no_progress).summary()
    print(f"{cfg.checkpoint} (iteration {ckpt.get('iteration', '?')}), MCTS "
          f"{player.config.simulations} sims, against perfect play from the start")
    for colour, game in games.items():
        verdict = "won" if game["result"] > 0 else "drew" if game["result"] == 0 else "lost"
        print(f"  agent {colour.removeprefix('as_')}: {verdict} {game['discs'][0]}-"
              f"{game['discs'][1]} (perfect play: {'20-16' if colour == 'as_white' else '16-20'})")
    print(describe("both games", judged))
    write_json(out, {"checkpoint": str(cfg.checkpoint), "iteration": ckpt.get("iteration"),
                     "config": config_dict(cfg), "search": asdict(player.config),
                     "games": games, "move_accuracy": judged,
                     "theory": {"as_black": [16, 20], "as_white": [20, 16]},
                     "code_version": version, "command": command_line(__file__, argv),
                     "seconds": time.perf_counter() - start})
    return 0


if __name__ == "__main__":
    sys.exit(main())
