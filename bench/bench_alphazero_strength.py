"""Strength of an AlphaZero checkpoint against the issue's targets.

    python bench/bench_alphazero_strength.py                      # the pretrained agent
    python bench/bench_alphazero_strength.py --checkpoint runs/alphazero/default/checkpoint.pt

MCTS with --sims simulations a move (default 50), --games games against each classic opponent
(half with each colour, paired random 4-ply openings), and the perfect-move share on the fixed
60-position endgame set (12-14 empties) judged by the exact solver. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if not __package__:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from alphazero.mcts import SearchConfig  # noqa: E402
from common.cli import positive_float, positive_int  # noqa: E402
from common.io import REPO_ROOT, CheckpointError, write_json  # noqa: E402
from othello.az.agent import PRETRAINED, AlphaZeroPlayer  # noqa: E402
from othello.az.evaluation import (  # noqa: E402
    CLASSIC_OPPONENTS,
    endgame_scores,
    endgame_set,
    match_results,
)
from othello.az.model import load_model  # noqa: E402

TARGETS = {"score_vs_random": 0.99, "score_vs_greedy": 0.95, "score_vs_alphabeta:4": 0.80,
           "endgame_perfect": 0.90}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, default=PRETRAINED)
    p.add_argument("--sims", type=positive_int, default=50, help="MCTS simulations per move")
    p.add_argument("--c-puct", type=positive_float, default=SearchConfig.c_puct,
                   help="PUCT exploration constant of the agent's search")
    p.add_argument("--games", type=positive_int, default=100, help="games per opponent")
    p.add_argument("--endgames", type=positive_int, default=60)
    p.add_argument("--opponents", default=",".join(CLASSIC_OPPONENTS))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "alphazero_strength.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        net, ckpt = load_model(args.checkpoint)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = net.config.size
    rng = np.random.default_rng(args.seed)
    player = AlphaZeroPlayer(net, args.sims, c_puct=args.c_puct)
    start = time.perf_counter()
    results = match_results(player, tuple(args.opponents.split(",")), args.games, rng)
    scores = {f"score_vs_{spec}": r.score for spec, r in results.items()}
    endgames = endgame_set(size, args.endgames, seed=1234,
                           cache=REPO_ROOT / "runs" / "alphazero" /
                           f"endgames_{size}x{size}_{args.endgames}.json")
    scores.update(endgame_scores(player, endgames, rng))
    print(f"{args.checkpoint} (iteration {ckpt.get('iteration', '?')}), "
          f"MCTS {args.sims} sims (c_puct {args.c_puct}), {args.games} games per opponent")
    for key, value in scores.items():
        target = TARGETS.get(key)
        verdict = ("" if target is None else
                   f" target >= {target:.2f}: {'met' if value >= target else 'MISSED'}")
        spec = key.removeprefix("score_vs_")
        detail = ""
        if spec in results:
            r = results[spec]
            low, high = r.interval()
            detail = f"  ({r.wins}-{r.draws}-{r.losses} W-D-L, 95% CI {low:.3f}-{high:.3f})"
        print(f"  {key:28s} {value:6.3f}{verdict}{detail}")
    write_json(args.out, {"checkpoint": str(args.checkpoint), "iteration": ckpt.get("iteration"),
                          "sims": args.sims, "c_puct": args.c_puct, "games": args.games,
                          "scores": scores,
                          "wdl": {k: [r.wins, r.draws, r.losses] for k, r in results.items()},
                          "targets": TARGETS, "seconds": time.perf_counter() - start})
    return 0


if __name__ == "__main__":
    sys.exit(main())
