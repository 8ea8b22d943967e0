"""Batched self-play: many games advance together, one batched search per ply.

Every position gets the root visit distribution as its policy target (not a one-hot argmax) and
the final result, seen from its own side to move, as its value target: +1 win, -1 loss, and 0
for a draw for both sides. Optionally the value target is blended with the search's own root
value (`search_value_weight`), which is less noisy than one game's result early in training.

With an `Adjudicator` (`alphazero.game`), a game stops as soon as the adjudicator can score it
exactly (Othello: at a few empty squares, by the perfect-play oracle), and that exact result
stands in for the final one; the positions it then plays on by perfect play (if any) are recorded
too, with the optimal moves as their policy target. Every position also gets a margin target: the
final score margin (`Game.margin`, or the exact one at adjudication) from its own side to move.

A finished game is replaced at once by a new one, so the batch stays
full until the requested number of games has started. With `opening_plies = k > 0` each game
starts after a uniformly random number in [0, k] of uniformly random moves (not recorded: they
have no search behind them), so self-play meets the odd positions that random openings, as in
the evaluations, lead to.

Playout-cap randomisation (KataGo, Wu 2019; `full_share < 1`): each move gets the full search
(with its noise) with probability `full_share` and only those positions become training
examples; the other moves are chosen by a cheap search without noise (`cheap`) and are not
recorded at all (as in KataGo: their policy target is poor, and leaving out their value
targets too keeps every example a full-search one). The games are then cheaper per recorded
position, so more games, and so more independent results, fit in the same time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from alphazero.arena import random_openings
from alphazero.game import Adjudicator, Evaluator, Game
from alphazero.mcts import SearchConfig, played_actions, search


@dataclass
class Examples:
    """Training examples: raw states (encoded lazily), policy, value and margin targets
    (margins default to zeros)."""

    states: np.ndarray
    policies: np.ndarray
    values: np.ndarray
    margins: np.ndarray | None = None

    def __post_init__(self):
        if self.margins is None:
            self.margins = np.zeros(len(self.values), np.float32)

    def __len__(self) -> int:
        return len(self.values)

    @staticmethod
    def concat(parts: list[Examples]) -> Examples:
        return Examples(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in ("states", "policies", "values", "margins")))


def final_margins(game: Game, states: np.ndarray) -> np.ndarray:
    """The final score margin of terminal states for the side to move, in [-1, 1]: the game's
    `margin` if it has one, else its outcome."""
    margin = getattr(game, "margin", None)
    return (game.outcome(states) if margin is None else margin(states)).astype(np.float32)


@dataclass
class SelfPlayStats:
    games: int
    positions: int
    seconds: float
    first_player_score: float  # mean result for the side that moved first: 1 win, 0.5 draw
    moves: int  # moves played (searched), recorded or not

    @property
    def games_per_s(self) -> float:
        return self.games / self.seconds

    @property
    def positions_per_s(self) -> float:
        return self.positions / self.seconds


def opening_states(game: Game, n: int, max_plies: int, rng: np.random.Generator) -> np.ndarray:
    """`n` start states, each after a uniformly random number in [0, max_plies] of uniformly
    random moves (0: the initial states, drawing nothing from `rng`)."""
    if max_plies == 0:
        return game.initial_states(n)
    plies = rng.integers(0, max_plies + 1, size=n)
    out = game.initial_states(n)
    for k in np.unique(plies[plies > 0]):
        out[plies == k] = random_openings(game, int((plies == k).sum()), int(k), rng)
    return out


def self_play(game: Game, evaluate: Evaluator, games: int, concurrent: int,
              config: SearchConfig, temperature_plies: int, rng: np.random.Generator,
              progress=None, search_value_weight: float = 0.0, full_share: float = 1.0,
              cheap: SearchConfig | None = None, adjudicator: Adjudicator | None = None,
              opening_plies: int = 0) -> tuple[Examples, SelfPlayStats]:
    """Play `games` games, `concurrent` at a time; moves sampled by visits for the first
    `temperature_plies` plies, then the most visited move (a Gumbel root plays its own choice);
    `progress(n)` hears of finished games. With `full_share < 1`, `cheap` searches the moves
    that are not recorded (playout-cap randomisation). An `adjudicator` stops games early with
    exact results (None: every game is played out). `opening_plies`: random openings (module
    docstring); plies and the first player's score count from the end of the opening."""
    if full_share < 1 and cheap is None:
        raise ValueError("playout-cap randomisation (full_share < 1) needs a cheap search")
    start = time.perf_counter()
    slots = min(games, concurrent)
    states = opening_states(game, slots, opening_plies, rng)
    ply = np.zeros(slots, dtype=np.int64)
    history: list[list[tuple[np.ndarray, np.ndarray, float, int]]] = [[] for _ in range(slots)]
    started, finished, first_score, moves = slots, 0, 0.0, 0
    parts: list[Examples] = []
    live = np.ones(slots, dtype=bool)
    while live.any():
        idx = np.nonzero(live)[0]
        temperature = np.where(ply[idx] < temperature_plies, 1.0, 0.0)
        full = (np.ones(len(idx), dtype=bool) if full_share >= 1  # no draw: the same stream
                else rng.random(len(idx)) < full_share)
        actions = np.empty(len(idx), dtype=np.int64)
        for chosen, cfg in ((full, config), (~full, cheap)):
            if not chosen.any():
                continue
            result = search(game, evaluate, states[idx[chosen]], cfg, rng)
            actions[chosen] = played_actions(result, temperature[chosen], rng)
            if cfg is config:
                for j, i in enumerate(idx[chosen]):
                    history[i].append((states[i].copy(), result.policy[j], result.value[j],
                                       ply[i]))
        states[idx] = game.next_states(states[idx], actions)
        ply[idx] += 1
        moves += len(idx)
        ended = ~game.legal_actions(states[idx]).any(axis=1)
        if adjudicator is None:
            over = idx[ended]
            if over.size == 0:
                continue
            outcome, margins = game.outcome(states[over]), final_margins(game, states[over])
            exact = np.zeros(over.size, dtype=bool)
        else:
            verdict = adjudicator(states[idx])
            stop = ended | verdict.done
            over = idx[stop]
            if over.size == 0:
                continue
            exact = verdict.done[stop] & ~ended[stop]  # terminal states score themselves
            outcome = np.where(exact, verdict.values[stop], game.outcome(states[over]))
            margins = np.where(exact, verdict.margins[stop], final_margins(game, states[over]))
        for i, z, m, adjudicated in zip(over, outcome, margins, exact, strict=True):
            n = ply[i]
            if adjudicated:  # the exact line from the stopped position (ply n on), values exact
                line, line_policies = adjudicator.perfect_line(states[i])
                history[i].extend((s, p, np.nan, n + k) for k, (s, p) in
                                  enumerate(zip(line, line_policies, strict=True)))
            # the side to move at the stop sees z; the side at ply t is that side iff (n - t)
            # is even (plies past the stop: the perfect line)
            if history[i]:
                t = np.array([q for *_, q in history[i]])
                signs = np.where((n - t) % 2 == 0, 1.0, -1.0).astype(np.float32)
                searched = np.array([v for _, _, v, _ in history[i]], dtype=np.float32)
                searched = np.where(np.isnan(searched), signs * z, searched)
                parts.append(Examples(np.stack([s for s, *_ in history[i]]),
                                      np.stack([p for _, p, *_ in history[i]]).astype(np.float32),
                                      (1 - search_value_weight) * signs * z
                                      + search_value_weight * searched,
                                      signs * np.float32(m)))
            first_score += ((1 if n % 2 == 0 else -1) * z + 1) / 2
            finished += 1
            history[i] = []
            if started < games:
                states[i] = opening_states(game, 1, opening_plies, rng)[0]
                ply[i] = 0
                started += 1
            else:
                live[i] = False
        if progress is not None:
            progress(len(over))
    data = Examples.concat(parts) if parts else Examples(
        states[:0].copy(), np.zeros((0, game.num_actions), np.float32), np.zeros(0, np.float32))
    stats = SelfPlayStats(games=finished, positions=len(data),
                          seconds=time.perf_counter() - start,
                          first_player_score=float(first_score) / max(finished, 1), moves=moves)
    return data, stats
