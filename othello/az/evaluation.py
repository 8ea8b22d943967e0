"""How strong is a network? Matches against classic players and perfect-play share in endgames.

The endgame set is fixed by a seed: random positions with 12-14 empties, kept only where the
choice matters (at least one legal move throws away the best result), each labelled by the exact
solver with the outcome (win / draw / loss) every legal move leads to. A move is "perfect" when it
keeps the best outcome available; the share of perfect moves is reported for the MCTS agent and
for the raw policy (its most probable move), next to what uniformly random moves would score.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from alphazero.arena import ArenaResult, play_match, random_openings
from alphazero.evaluators import network_evaluator
from alphazero.mcts import SearchConfig
from common.io import REPO_ROOT, CorruptFileError, read_json, say_reused, write_json
from othello.az.agent import AlphaZeroPlayer, classic_policy
from othello.az.config import EvalConfig
from othello.az.game import OthelloGame
from othello.players.match import random_position
from othello.players.registry import make_player
from othello.rules.batch import states_from_positions
from othello.rules.board import Position
from othello.rules.solver import Solver
from othello.rules.symmetry import N_SYMMETRIES, transform_bits

ENDGAME_SEED = 1234  # the fixed endgame set every run and bench is judged on
SCORE_PREFIX = "score_vs_"  # metric name of the match score against an opponent spec
# Metric names of the endgame set and how the plots label them.
ENDGAME_METRICS = {"endgame_perfect": "endgame perfect moves (MCTS)",
                   "endgame_policy_perfect": "endgame perfect moves (raw policy)"}
# Metric names of the oracle-judged whole games (see othello.az.accuracy).
ACCURACY_METRICS = {"keeps_outcome": "moves keeping the perfect-play outcome",
                    "discs_given_away_per_game": "discs given away per game"}


def score_key(spec: str) -> str:
    return SCORE_PREFIX + spec


def strength_series(metrics: list[dict]) -> dict[str, str]:
    """Metric key -> label of every strength measure present in a run's metrics (for plots)."""
    keys = sorted({k for m in metrics for k in m if k.startswith(SCORE_PREFIX)})
    out = {k: k.removeprefix(SCORE_PREFIX) for k in keys}
    named = ENDGAME_METRICS | ACCURACY_METRICS
    return out | {k: v for k, v in named.items() if any(k in m for m in metrics)}


def headline(metrics: dict) -> dict[str, float]:
    """Short name -> value of the strength measures in one iteration's metrics (for logs)."""
    return {k.removeprefix(SCORE_PREFIX): v for k, v in metrics.items()
            if k.startswith(SCORE_PREFIX) or k == "endgame_perfect"}


def endgame_cache(size: int, count: int) -> Path:
    return REPO_ROOT / "runs" / "alphazero" / f"endgames_{size}x{size}_{count}.json"


@dataclass
class Endgames:
    positions: list[Position]
    outcomes: list[dict[int, int]]  # per position: move -> sign of the best reachable margin

    def perfect(self, i: int, move: int) -> bool:
        return self.outcomes[i].get(move, -2) == max(self.outcomes[i].values())

    def random_share(self) -> float:
        return float(np.mean([np.mean([self.perfect(i, m) for m in o])
                              for i, o in enumerate(self.outcomes)]))


def move_margins(solver: Solver, pos: Position) -> dict[int, int]:
    """Final disc margin (for the side to move) after each legal move, with perfect play after."""
    out = {}
    for move in pos.legal_moves():
        child = pos.play(move)
        out[move] = -child.margin() if child.is_over() else -solver.solve(child)[0]
    return out


def label_endgame(solver: Solver, pos: Position) -> dict[int, int]:
    """Outcome sign (for the side to move) after each legal move, with perfect play after it."""
    return {move: int(np.sign(m)) for move, m in move_margins(solver, pos).items()}


def endgame_set(size: int, count: int, seed: int, cache: Path | None = None,
                empties: tuple[int, ...] = (12, 13, 14)) -> Endgames:
    """`count` positions (spread over `empties`) where the move choice matters, solver-labelled.
    Labels are cached as JSON, since solving them takes a while in pure Python."""
    try:
        raw = read_json(cache) if cache is not None and cache.exists() else None
    except CorruptFileError as e:
        print(f"warning: {e}; rebuilding it", file=sys.stderr)
        raw = None
    if raw is not None:
        if raw.get("key") == [size, count, seed, list(empties)]:
            say_reused("solver-labelled endgame set", cache)
            return Endgames([Position(size, p[0], p[1], p[2]) for p in raw["positions"]],
                            [{int(k): v for k, v in o.items()} for o in raw["outcomes"]])
    rng = np.random.default_rng(seed)
    solver = Solver(size)
    positions, outcomes = [], []
    while len(positions) < count:
        pos = random_position(size, empties[len(positions) % len(empties)], rng)
        labels = label_endgame(solver, pos)
        if len(set(labels.values())) > 1:  # some move loses (or draws) a better result
            positions.append(pos)
            outcomes.append(labels)
    if cache is not None:
        write_json(cache, {"key": [size, count, seed, list(empties)],
                           "positions": [[p.me, p.opp, p.black_to_move] for p in positions],
                           "outcomes": outcomes})
    return Endgames(positions, outcomes)


def endgame_scores(player: AlphaZeroPlayer, endgames: Endgames,
                   rng: np.random.Generator) -> dict[str, float]:
    """Perfect-move share of the MCTS agent and of the raw policy's argmax."""
    game = player.game
    states = states_from_positions(endgames.positions)
    visits = player.policy(rng)(states)  # batched search over the whole set
    prior, _ = network_evaluator(game, player.net)(states)
    policy_moves = prior.argmax(axis=1)
    return {"endgame_perfect": float(np.mean([endgames.perfect(i, int(m))
                                              for i, m in enumerate(visits)])),
            "endgame_policy_perfect": float(np.mean([endgames.perfect(i, int(m))
                                                     for i, m in enumerate(policy_moves)])),
            "endgame_random_perfect": endgames.random_share()}


def canonical_key(me: int, opp: int, size: int) -> tuple[int, int]:
    """The smallest (me, opp) over the 8 board symmetries: equal for equivalent positions."""
    return min((transform_bits(me, size, k), transform_bits(opp, size, k))
               for k in range(N_SYMMETRIES))


def distinct_openings(size: int, count: int, plies: int, rng: np.random.Generator,
                      tries: int = 100) -> np.ndarray:
    """`count` states after `plies` random legal moves, no two equal up to symmetry (raises
    ValueError when the opening tree is too small: 6x6 has about 60 distinct 4-ply openings)."""
    game, seen, out = OthelloGame(size), set(), []
    for _ in range(tries):
        for state in random_openings(game, count, plies, rng):
            key = canonical_key(int(state[0]), int(state[1]), size)
            if key not in seen and len(out) < count:
                seen.add(key)
                out.append(state)
        if len(out) == count:
            return np.stack(out)
    raise ValueError(f"found only {len(out)} distinct {plies}-ply openings of {size}x{size}, "
                     f"asked for {count}: use more opening plies")


def match_results(player: AlphaZeroPlayer, opponents: tuple[str, ...], games: int,
                  rng: np.random.Generator, opening_plies: int = 4, distinct: bool = False,
                  record: bool = False) -> dict[str, ArenaResult]:
    """Results against each classic opponent: paired random openings, colours swapped. With
    `distinct`, games / 2 openings no two of which are equal up to symmetry, the same set for
    every opponent; `record` keeps the agent's moves (see `alphazero.arena.play_match`)."""
    size = player.game.size
    openings = (distinct_openings(size, (games + 1) // 2, opening_plies, rng) if distinct
                else None)
    out = {}
    for spec in opponents:
        opponent = make_player(spec, size)
        out[spec] = play_match(player.game, player.policy(rng),
                               classic_policy(opponent, size, rng), games, opening_plies, rng,
                               openings=openings, record=record)
    return out


def judged_summary(result: ArenaResult, games: int, size: int,
                   oracle_cache: str | Path | None = "default", progress: bool = False) -> dict:
    """The oracle's verdict (`othello.az.accuracy.JudgedMoves.summary`) on the agent's moves in
    the first games / 2 openings of a recorded match, both colours."""
    from othello.az.accuracy import judge_moves, moves_of_openings  # numba: load when asked
    from othello.rules.oracle import Oracle

    moves, count = moves_of_openings(result, (games + 1) // 2)
    with Oracle(size, cache_path=oracle_cache) as oracle:
        return judge_moves(oracle, moves, count, progress=progress).summary()


def make_eval_hook(config: EvalConfig, search: SearchConfig, endgames: Endgames | None,
                   seed: int = 0):
    """An `alphazero.trainer.EvalHook` for Othello: match scores plus endgame share, with the
    given search (its root noise is switched off)."""
    def hook(net: torch.nn.Module, iteration: int) -> dict:
        rng = np.random.default_rng([seed, iteration])
        player = AlphaZeroPlayer(net, search)
        results = (match_results(player, config.opponents, config.games, rng,
                                 config.opening_plies, record=config.judged_games > 0)
                   if config.games else {})
        metrics = {score_key(spec): r.score for spec, r in results.items()}
        if config.judged_games and results:
            summary = judged_summary(results[config.opponents[-1]], config.judged_games,
                                     player.game.size)
            metrics.update({k: summary[k] for k in ACCURACY_METRICS})
        if endgames is not None:
            metrics.update(endgame_scores(player, endgames, rng))
        return metrics
    return hook
