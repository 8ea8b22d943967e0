"""Matches between two batched policies: many games in lockstep, one call per side per ply.

A policy maps a batch of states (its own side to move) to actions, so an MCTS agent searches all
the games where it is to move in one batched search, while a classic engine can loop over them.
Games come in pairs from the same random opening with colours swapped, which removes most of the
first-move advantage from a short match and makes deterministic players play different games.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alphazero.game import Evaluator, Game
from alphazero.mcts import SearchConfig, played_actions, search
from common.tally import Tally

Policy = Callable[[np.ndarray], np.ndarray]  # states [n, ...] -> actions [n]


def mcts_policy(game: Game, evaluate: Evaluator, config: SearchConfig,
                rng: np.random.Generator) -> Policy:
    """Greedy MCTS play: the most visited root move, or the Gumbel root's choice (no noise
    unless `config` asks for it)."""
    def policy(states: np.ndarray) -> np.ndarray:
        return played_actions(search(game, evaluate, states, config, rng), 0.0, rng)
    return policy


@dataclass
class ArenaResult(Tally):
    """Results for policy A, plus per-game detail."""

    a_first: np.ndarray | None = None  # per game: did A move first (after the opening)
    a_result: np.ndarray | None = None  # per game: +1 / 0 / -1 for A
    a_moves: list[tuple[int, np.ndarray, int]] | None = None  # (game, state, action) A played
    final_states: np.ndarray | None = None  # per game: the last state (with `record`)
    a_to_move_final: np.ndarray | None = None  # per game: is A the side to move in it


def random_openings(game: Game, n: int, plies: int, rng: np.random.Generator) -> np.ndarray:
    """`n` states after `plies` uniformly random legal moves (fewer if a game ends early: then
    the opening is redrawn)."""
    out = []
    while len(out) < n:
        states = game.initial_states(n - len(out))
        alive = np.ones(len(states), dtype=bool)
        for _ in range(plies):
            legal = game.legal_actions(states)
            alive &= legal.any(axis=1)
            if not alive.any():
                break
            acts = np.array([rng.choice(np.nonzero(row)[0]) if row.any() else 0 for row in legal])
            states[alive] = game.next_states(states[alive], acts[alive])
        alive &= game.legal_actions(states).any(axis=1)
        out.extend(states[alive])
    return np.stack(out)


def play_match(game: Game, policy_a: Policy, policy_b: Policy, games: int,
               opening_plies: int, rng: np.random.Generator,
               openings: np.ndarray | None = None, record: bool = False) -> ArenaResult:
    """Play `games` games (rounded up to even): each opening twice, A first in one of them.
    With an odd number of opening plies the side to move after the opening is the second player;
    "first" here means "to move after the opening". `openings` (states) replaces the random
    ones (then `games` is twice their number); `record` keeps every state A moved in and its
    action and every game's final state, for judging A's moves and margins afterwards."""
    if openings is None:
        openings = random_openings(game, (games + 1) // 2, opening_plies, rng)
    pairs = len(openings)
    states = np.concatenate([openings, openings])
    a_to_move = np.concatenate([np.ones(pairs, bool), np.zeros(pairs, bool)])
    a_first = a_to_move.copy()
    live = np.ones(len(states), dtype=bool)
    a_result = np.zeros(len(states), dtype=np.int64)
    a_moves: list[tuple[int, np.ndarray, int]] | None = [] if record else None
    while live.any():
        for side_is_a, policy in ((True, policy_a), (False, policy_b)):
            idx = np.nonzero(live & (a_to_move == side_is_a))[0]
            if idx.size == 0:
                continue
            actions = policy(states[idx])
            if a_moves is not None and side_is_a:
                a_moves += [(int(g), states[g].copy(), int(a)) for g, a in zip(idx, actions,
                                                                              strict=True)]
            states[idx] = game.next_states(states[idx], actions)
            a_to_move[idx] = ~a_to_move[idx]
            over = idx[~game.legal_actions(states[idx]).any(axis=1)]
            if over.size:
                z = game.outcome(states[over])  # for the side to move now
                a_result[over] = np.where(a_to_move[over], z, -z).astype(np.int64)
                live[over] = False
    return ArenaResult(wins=int((a_result > 0).sum()), draws=int((a_result == 0).sum()),
                       losses=int((a_result < 0).sum()), a_first=a_first, a_result=a_result,
                       a_moves=a_moves, final_states=states if record else None,
                       a_to_move_final=a_to_move if record else None)


def merge_results(parts: list[ArenaResult]) -> ArenaResult:
    """The matches of consecutive slices of openings as one match over all of them, numbered
    like `play_match` numbers its games (every opening with A first, then every one again)."""
    pairs = [len(p.a_result) // 2 for p in parts]
    total, offsets = sum(pairs), np.cumsum([0, *pairs[:-1]])
    # where game g of part k goes: first halves first, second halves after all first halves
    where = [np.concatenate([off + np.arange(n), total + off + np.arange(n)])
             for off, n in zip(offsets, pairs, strict=True)]

    def stack(name: str) -> np.ndarray | None:
        if any(getattr(p, name) is None for p in parts):
            return None
        first = getattr(parts[0], name)
        out = np.zeros((2 * total, *first.shape[1:]), first.dtype)
        for p, w in zip(parts, where, strict=True):
            out[w] = getattr(p, name)
        return out

    moves = None
    if all(p.a_moves is not None for p in parts):
        moves = [(int(w[g]), s, a) for p, w in zip(parts, where, strict=True)
                 for g, s, a in p.a_moves]
    return ArenaResult(wins=sum(p.wins for p in parts), draws=sum(p.draws for p in parts),
                       losses=sum(p.losses for p in parts), a_first=stack("a_first"),
                       a_result=stack("a_result"), a_moves=moves,
                       final_states=stack("final_states"),
                       a_to_move_final=stack("a_to_move_final"))
