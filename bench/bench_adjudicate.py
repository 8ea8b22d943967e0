"""What exact endgames cost in self-play: the oracle's CPU time per game at E = 8..14 empties.

Games are played by the committed agent's raw policy (moves sampled from its priors, so the
positions look like self-play's), each up to the first position with at most E empties, where
`othello.az.adjudicate.EndgameAdjudicator` scores it (one exact solve) and, for the policy
targets, finds the optimal moves of the first --policy-positions positions of a perfect line
from there (default E: the whole line, or nearly).
CPU seconds of this process (`time.process_time`), one adjudicator (one table) per E, as in a
self-play iteration. Prints a table and writes JSON (default results/alphazero/adjudicate.json).

    python bench/bench_adjudicate.py [--games 64] [--empties 8 10 12 14 16] [--policy-positions 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
)
from common.io import REPO_ROOT, command_line, results_version, write_json
from common.process import setup_process

OUT = REPO_ROOT / "results" / "alphazero" / "adjudicate.json"


@dataclass(frozen=True)
class AdjudicateBenchConfig:
    games: int = knob(64, "games per number of empties", check=at_least(1))
    empties: tuple[int, ...] = knob((8, 10, 12, 14, 16), "numbers of empty squares to stop at",
                                    check=at_least(1))
    policy_positions: int | None = knob(None, "positions of the perfect line given optimal-move "
                                        "policy targets (None: E, as --exact-policy-positions "
                                        "in the recommended recipe)", check=at_least(0))
    seed: int = knob(0, "random seed of the sampled games", check=at_least(0))


QUICK = AdjudicateBenchConfig(games=8, empties=(8, 10), policy_positions=2)


def sample_stops(net, size: int, games: int, empties: int,
                 rng: np.random.Generator) -> np.ndarray:
    """The first state with <= `empties` empty squares of `games` games sampled from the
    network's priors (games that end before are played again)."""
    from alphazero.evaluators import network_evaluator
    from othello.az.game import OthelloGame

    game = OthelloGame(size)
    evaluate = network_evaluator(game, net)
    out = []
    while len(out) < games:
        states = game.initial_states(games - len(out))
        while len(states):
            empty = game.squares - np.bitwise_count(states[:, 0] | states[:, 1])
            legal = game.legal_actions(states)
            stop = (empty <= empties) & legal.any(axis=1)
            out.extend(states[stop])
            states = states[~stop & legal.any(axis=1)]
            if not len(states):
                break
            priors, _ = evaluate(states)
            cum = priors.cumsum(axis=1)
            actions = (cum < rng.random((len(states), 1)) * cum[:, -1:]).sum(axis=1)
            actions = np.minimum(actions, game.num_actions - 1)
            states = game.next_states(states, actions)
    return np.array(out[:games])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file of the results (default results/alphazero/adjudicate.json)",
                  quick="8 games at 8 and 10 empties")
    add_config_flags(p, AdjudicateBenchConfig, presets={"quick": QUICK})
    args = p.parse_args(argv)
    setup_process(plots=False)
    from othello.az.adjudicate import EndgameAdjudicator
    from othello.az.agent import PRETRAINED
    from othello.az.model import load_model

    cfg, _ = config_from_args(args, AdjudicateBenchConfig,
                              QUICK if args.quick else AdjudicateBenchConfig())
    out = args.out or OUT
    version = results_version(out.parent)
    net, _ = load_model(PRETRAINED)
    size = net.config.size
    rng = np.random.default_rng(cfg.seed)
    EndgameAdjudicator(size, 4, 1).perfect_line(sample_stops(net, size, 1, 4, rng)[0])  # jit
    rows = []
    print(f"{'E':>3} {'games':>6} {'solve ms/game':>14} {'median':>7} {'max':>7} "
          f"{'line ms/game':>13} {'positions':>9}")
    for e in cfg.empties:
        stops = sample_stops(net, size, cfg.games, e, rng)
        positions = e if cfg.policy_positions is None else cfg.policy_positions
        adjudicator = EndgameAdjudicator(size, e, positions)
        solve, line, recorded = [], [], 0
        for state in stops:
            t0 = time.process_time()
            verdict = adjudicator(state[None])
            t1 = time.process_time()
            states, _ = adjudicator.perfect_line(state)
            t2 = time.process_time()
            assert verdict.done[0]
            solve.append(t1 - t0)
            line.append(t2 - t1)
            recorded += len(states)
        solve_ms, line_ms = 1e3 * np.array(solve), 1e3 * np.array(line)
        row = {"empties": e, "games": len(stops), "policy_positions": positions,
               "solve_ms_mean": float(solve_ms.mean()),
               "solve_ms_median": float(np.median(solve_ms)),
               "solve_ms_max": float(solve_ms.max()), "line_ms_mean": float(line_ms.mean()),
               "line_positions_per_game": recorded / len(stops),
               "nodes": adjudicator.engine.nodes}
        rows.append(row)
        print(f"{e:3d} {len(stops):6d} {row['solve_ms_mean']:14.2f} "
              f"{row['solve_ms_median']:7.2f} {row['solve_ms_max']:7.1f} "
              f"{row['line_ms_mean']:13.2f} {row['line_positions_per_game']:9.2f}")
    write_json(out, {"config": config_dict(cfg), "rows": rows, "cpu": "time.process_time",
                     "code_version": version, "command": command_line(__file__, argv)})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
