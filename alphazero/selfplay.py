"""Batched self-play: many games advance together, one batched search per ply.

Every position gets the root visit distribution as its policy target (not a one-hot argmax) and
the final result, seen from its own side to move, as its value target: +1 win, -1 loss, and 0
for a draw for both sides. Optionally the value target is blended with the search's own root
value (`search_value_weight`), which is less noisy than one game's result early in training.

A finished game is replaced at once by a new one, so the batch stays
full until the requested number of games has started.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from alphazero.game import Evaluator, Game
from alphazero.mcts import SearchConfig, choose_actions, search


@dataclass
class Examples:
    """Training examples: raw states (encoded lazily), policy targets and value targets."""

    states: np.ndarray
    policies: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @staticmethod
    def concat(parts: list[Examples]) -> Examples:
        return Examples(np.concatenate([p.states for p in parts]),
                        np.concatenate([p.policies for p in parts]),
                        np.concatenate([p.values for p in parts]))


@dataclass
class SelfPlayStats:
    games: int
    positions: int
    seconds: float
    first_player_score: float  # mean result for the side that moved first: 1 win, 0.5 draw

    @property
    def games_per_s(self) -> float:
        return self.games / self.seconds

    @property
    def positions_per_s(self) -> float:
        return self.positions / self.seconds


def self_play(game: Game, evaluate: Evaluator, games: int, concurrent: int,
              config: SearchConfig, temperature_plies: int, rng: np.random.Generator,
              progress=None, search_value_weight: float = 0.0) -> tuple[Examples, SelfPlayStats]:
    """Play `games` games, `concurrent` at a time; moves sampled by visits for the first
    `temperature_plies` plies, then the most visited move; `progress(n)` hears of finished games."""
    start = time.perf_counter()
    slots = min(games, concurrent)
    states = game.initial_states(slots)
    ply = np.zeros(slots, dtype=np.int64)
    history: list[list[tuple[np.ndarray, np.ndarray, float]]] = [[] for _ in range(slots)]
    started, finished, first_score = slots, 0, 0.0
    parts: list[Examples] = []
    live = np.ones(slots, dtype=bool)
    while live.any():
        idx = np.nonzero(live)[0]
        result = search(game, evaluate, states[idx], config, rng)
        policy = result.visits / result.visits.sum(axis=1, keepdims=True)
        temperature = np.where(ply[idx] < temperature_plies, 1.0, 0.0)
        actions = choose_actions(result.visits, temperature, rng)
        for j, i in enumerate(idx):
            history[i].append((states[i].copy(), policy[j], result.value[j]))
        states[idx] = game.next_states(states[idx], actions)
        ply[idx] += 1
        over = idx[~game.legal_actions(states[idx]).any(axis=1)]
        if over.size == 0:
            continue
        outcome = game.outcome(states[over])
        for i, z in zip(over, outcome, strict=True):
            n = len(history[i])
            # the final side to move sees z; the side at ply t is that side iff (n - t) is even
            signs = np.where((n - np.arange(n)) % 2 == 0, 1.0, -1.0).astype(np.float32)
            searched = np.array([v for _, _, v in history[i]], dtype=np.float32)
            parts.append(Examples(np.stack([s for s, _, _ in history[i]]),
                                  np.stack([p for _, p, _ in history[i]]).astype(np.float32),
                                  (1 - search_value_weight) * signs * z
                                  + search_value_weight * searched))
            first_score += (signs[0] * z + 1) / 2
            finished += 1
            history[i] = []
            if started < games:
                states[i] = game.initial_states(1)[0]
                ply[i] = 0
                started += 1
            else:
                live[i] = False
        if progress is not None:
            progress(len(over))
    data = Examples.concat(parts)
    stats = SelfPlayStats(games=finished, positions=len(data),
                          seconds=time.perf_counter() - start,
                          first_player_score=float(first_score) / max(finished, 1))
    return data, stats
