"""Exact endgames for self-play: the perfect-play solver scores a game once few squares are empty.

`EndgameAdjudicator(size, empties=E)` is the Othello `alphazero.game.Adjudicator`: a self-play
game stops at the first position with at most E empty squares, and its exact perfect-play margin
(`othello.rules.engine.Engine`, the oracle's compiled search, with one transposition table kept
across calls) becomes the result that every earlier position of the game learns from, each from
its own side to move. With `policy_positions=k` it also records the stopped position and the
next k - 1 positions along a perfect line, each with all its optimal moves (equal shares) as the
policy target. The line follows the lowest-numbered optimal move, and values are exact whatever
the table holds, so a resumed run records the same examples as an uninterrupted one.
Costs per game at E = 8..14 on this machine: `bench/bench_adjudicate.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alphazero.config import TrainConfig
from alphazero.game import Adjudication
from othello.rules.board import Position
from othello.rules.engine import Engine

TABLE_BITS = 20  # 1M entries (24 MiB): plenty for positions of at most 16 empties


class EndgameAdjudicator:
    """Stops games at <= `empties` empty squares with their exact results (see the module)."""

    def __init__(self, size: int, empties: int, policy_positions: int = 0,
                 table_bits: int = TABLE_BITS):
        if empties < 1 or policy_positions < 0:
            raise ValueError(f"need empties >= 1 and policy_positions >= 0, got {empties} and "
                             f"{policy_positions}")
        self.size, self.empties, self.policy_positions = size, empties, policy_positions
        self.squares = size * size
        self.engine = Engine(table_bits)

    def _position(self, state: np.ndarray) -> Position:
        return Position(self.size, int(state[0]), int(state[1]), True)

    def __call__(self, states: np.ndarray) -> Adjudication:
        empty = self.squares - np.bitwise_count(states[:, 0] | states[:, 1]).astype(np.int64)
        done = empty <= self.empties
        margins = np.zeros(len(states), np.float32)
        for i in np.nonzero(done)[0]:
            margins[i] = self.engine.value(self._position(states[i]))
        return Adjudication(done, np.sign(margins).astype(np.float32),
                            margins / np.float32(self.squares))

    def perfect_line(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = self._position(state)
        states, policies = [], []
        while len(states) < self.policy_positions and not pos.is_over():
            best = self.engine.optimal_moves(pos)
            policy = np.zeros(self.squares + 1, np.float32)
            policy[best] = 1.0 / len(best)
            states.append([pos.me, pos.opp])
            policies.append(policy)
            pos = pos.play(best[0])
        return (np.array(states, dtype=np.uint64).reshape(-1, 2),
                np.array(policies, dtype=np.float32).reshape(-1, self.squares + 1))


def endgame_adjudicator(size: int) -> Callable[[TrainConfig], EndgameAdjudicator]:
    """The `alphazero.trainer.AdjudicatorFactory` of an N x N run: its config's exact_empties and
    exact_policy_positions."""
    def make(config: TrainConfig) -> EndgameAdjudicator:
        return EndgameAdjudicator(size, config.exact_empties, config.exact_policy_positions)
    return make
