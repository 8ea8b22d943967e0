"""Batched rules on uint64 bitboards: move generation, flips and bit unpacking for many positions.

A batch of positions is a `[n, 2]` uint64 array of rows `[me, opp]` (the side to move first, same
square numbering as `othello.rules.board`), so every kernel here runs as a fixed number of numpy
operations over the whole batch, whatever its size. Boards up to 8x8 fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from othello.rules.board import Position, geometry

ONE = np.uint64(1)


@cache
def _directions(size: int) -> tuple[tuple[bool, np.uint64, np.uint64], ...]:
    """Per direction: (shift left?, shift amount, mask applied after shifting) as uint64."""
    return tuple((s > 0, np.uint64(abs(s)), np.uint64(mask)) for s, mask in geometry(size).shifts)


def _shift(x: np.ndarray, left: bool, amount: np.uint64, mask: np.uint64) -> np.ndarray:
    return ((x << amount) if left else (x >> amount)) & mask


def _fill(seed: np.ndarray, om: np.ndarray, left: bool, amount: np.uint64,
          size: int) -> np.ndarray:
    """The run of `om` squares that starts next to each seed bit and goes one way."""
    run = _shift(seed, left, amount, om)
    for _ in range(size - 3):
        run |= _shift(run, left, amount, om)
    return run


def legal_squares(me: np.ndarray, opp: np.ndarray, size: int) -> np.ndarray:
    """uint64 bitmask of legal squares per row (batched `othello.rules.board.legal_moves`)."""
    moves = np.zeros_like(me)
    for left, amount, mask in _directions(size):
        moves |= _shift(_fill(me, opp & mask, left, amount, size), left, amount, mask)
    return moves & ~(me | opp) & np.uint64(geometry(size).full)


def flips(me: np.ndarray, opp: np.ndarray, squares: np.ndarray, size: int) -> np.ndarray:
    """uint64 bitmask of discs flipped by playing `squares[i]` in row i (the square must be legal).

    Per direction: the run of opponent discs next to the move, kept only if one of our discs
    closes it (the square just past the run)."""
    bit = ONE << squares.astype(np.uint64)
    out = np.zeros_like(me)
    for left, amount, mask in _directions(size):
        run = _fill(bit, opp & mask, left, amount, size)
        closed = (_shift(run, left, amount, mask) & me) != 0
        out |= np.where(closed, run, np.uint64(0))
    return out


def bits_to_bool(bits: np.ndarray, squares: int) -> np.ndarray:
    """bool `[..., squares]` from a uint64 `[...]` bitmask (square 0 first): the one unpacker."""
    bits = np.asarray(bits, dtype=np.uint64)
    return ((bits[..., None] >> np.arange(squares, dtype=np.uint64)) & ONE).astype(bool)


def states_from_positions(positions: Sequence[Position]) -> np.ndarray:
    """uint64 `[n, 2]` rows `[me, opp]` of scalar positions."""
    return np.array([[p.me, p.opp] for p in positions], dtype=np.uint64).reshape(-1, 2)
