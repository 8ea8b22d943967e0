"""Othello behind the `alphazero.game.Game` protocol, on batches of uint64 bitboards.

A state is a row `[me, opp]` of uint64 bitboards (same square numbering as
`othello.rules.board`), so a
batch of positions is a `[n, 2]` array and move generation, flips and encoding run as a fixed
number of numpy operations over the whole batch, whatever its size. Boards up to 8x8 fit.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from othello.rules.board import Position, geometry, start_bits
from othello.rules.symmetry import N_SYMMETRIES, permutations

_ONE = np.uint64(1)


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
    bit = _ONE << squares.astype(np.uint64)
    out = np.zeros_like(me)
    for left, amount, mask in _directions(size):
        run = _fill(bit, opp & mask, left, amount, size)
        closed = (_shift(run, left, amount, mask) & me) != 0
        out |= np.where(closed, run, np.uint64(0))
    return out


def bits_to_bool(bits: np.ndarray, squares: int) -> np.ndarray:
    """bool `[n, squares]` from a uint64 `[n]` bitmask (square 0 first)."""
    return ((bits[:, None] >> np.arange(squares, dtype=np.uint64)) & _ONE).astype(bool)


def states_from_positions(positions: list[Position]) -> np.ndarray:
    return np.array([[p.me, p.opp] for p in positions], dtype=np.uint64).reshape(-1, 2)


class OthelloGame:
    """N x N Othello for AlphaZero: actions are squares 0..N*N-1 and the pass N*N."""

    num_symmetries = N_SYMMETRIES

    def __init__(self, size: int = 6):
        geometry(size)  # validates the size
        self.size = size
        self.squares = size * size
        self.num_actions = self.squares + 1
        perms = permutations(size)
        # gather form: out[..., perm[k, sq]] = in[..., sq]  <=>  out[..., t] = in[..., inv[k, t]]
        inv = np.argsort(perms, axis=1)
        self._gather = np.concatenate([inv, np.full((N_SYMMETRIES, 1), self.squares)], axis=1)

    def initial_states(self, n: int) -> np.ndarray:
        black, white = start_bits(self.size)
        return np.tile(np.array([[black, white]], dtype=np.uint64), (n, 1))

    def legal_actions(self, states: np.ndarray) -> np.ndarray:
        me, opp = states[:, 0], states[:, 1]
        legal = np.zeros((len(states), self.num_actions), dtype=bool)
        squares = legal_squares(me, opp, self.size)
        legal[:, : self.squares] = bits_to_bool(squares, self.squares)
        must_pass = squares == 0
        if must_pass.any():
            legal[must_pass, self.squares] = legal_squares(opp[must_pass], me[must_pass],
                                                           self.size) != 0
        return legal

    def next_states(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        me, opp = states[:, 0], states[:, 1]
        actions = np.asarray(actions)
        out = np.stack([opp, me], axis=1)  # a pass just hands over the move
        play = actions != self.squares
        if play.any():
            m, o, sq = me[play], opp[play], actions[play]
            f = flips(m, o, sq, self.size)
            out[play, 0] = o & ~f
            out[play, 1] = m | f | (_ONE << sq.astype(np.uint64))
        return out

    def outcome(self, states: np.ndarray) -> np.ndarray:
        margin = (np.bitwise_count(states[:, 0]).astype(np.int64)
                  - np.bitwise_count(states[:, 1]).astype(np.int64))
        return np.sign(margin).astype(np.float32)

    def encode(self, states: np.ndarray) -> np.ndarray:
        """float32 `[n, 3, N, N]` planes mine / theirs / empty (as `rules.encoding.encode`)."""
        mine = bits_to_bool(states[:, 0], self.squares)
        theirs = bits_to_bool(states[:, 1], self.squares)
        planes = np.stack([mine, theirs, ~(mine | theirs)], axis=1).astype(np.float32)
        return planes.reshape(len(states), 3, self.size, self.size)

    def symmetrize(self, inputs: np.ndarray, policies: np.ndarray,
                   symmetry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(inputs)
        gather = self._gather[symmetry]  # [n, squares + 1]
        flat = inputs.reshape(n, inputs.shape[1], self.squares)
        planes = np.take_along_axis(flat, gather[:, None, : self.squares], axis=2)
        return planes.reshape(inputs.shape), np.take_along_axis(policies, gather, axis=1)
