"""The perfect player: moves from the oracle (exact values, cached proofs near the start).

With at most `exact_empties` empty squares it computes every move's exact margin and picks
uniformly among the best. With more, it answers from the oracle's cache when that holds a proof:
the exact best move where the value is known (the committed 6x6 cache covers the start's proof
tree), else a move proven to keep the cached lower bound (which after an opponent's mistake is
at least the game-theoretic value, though it may not maximise the margin). Only if the cache
knows nothing does it search from scratch, which near the start takes minutes, or, when given a
`fallback` player (the terminal game's hints do), asks that player instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from othello.players.registry import int_arg
from othello.rules.board import Position
from othello.rules.oracle import Oracle

DEFAULT_EXACT_EMPTIES = 22


class PerfectPlayer:
    """Satisfies the `othello.players.Player` protocol (name, choose)."""

    def __init__(self, size: int, exact_empties: int = DEFAULT_EXACT_EMPTIES,
                 cache_path: str | Path | None = "default", fallback: Any = None):
        self.exact_empties = exact_empties
        self.fallback = fallback
        self.last_was_exact = True  # False when the last move came from the fallback
        self.name = "perfect" if exact_empties == DEFAULT_EXACT_EMPTIES else \
            f"perfect:{exact_empties}"
        self.oracle = Oracle(size, cache_path=cache_path)

    def choose(self, pos: Position, rng: np.random.Generator) -> int:
        moves = pos.legal_moves()
        self.last_was_exact = True
        if len(moves) == 1:
            return moves[0]
        lo, hi, proving = self.oracle.bounds(pos)
        if pos.empties() <= self.exact_empties:
            values = self.oracle.move_values(pos)
            best = max(values.values())
            tied = [m for m in moves if values[m] == best]
            return tied[int(rng.integers(len(tied)))]
        if lo < hi and proving in moves:
            return proving
        if lo < hi and self.fallback is not None:
            self.last_was_exact = False
            return self.fallback.choose(pos, rng)
        return self.oracle.best_move(pos)[1]


def perfect_player(arg: str | None, size: int) -> PerfectPlayer:
    """Registry factory for the `perfect[:E]` spec."""
    return PerfectPlayer(size, int_arg(arg, DEFAULT_EXACT_EMPTIES, "perfect exact empties", 1,
                                       size * size))
