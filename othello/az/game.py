"""Othello behind the `alphazero.game.Game` protocol, on batches of uint64 bitboards.

A state is a row `[me, opp]` of uint64 bitboards (`othello.rules.batch`); move generation, flips,
the legal mask and the encoding are the compiled row kernels of `othello.rules.kernels` (the
search calls them a few times per simulation, where the numpy kernels' fixed cost per call
weighed as much as the network), so this class only adapts them to the protocol (plus the
symmetry gathers used for augmentation). numba loads at the first call, not at import.
"""

from __future__ import annotations

import numpy as np

from othello.rules.board import geometry, start_bits
from othello.rules.symmetry import N_SYMMETRIES, permutations


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
        from othello.rules.kernels import legal_rows
        return legal_rows(np.ascontiguousarray(states, dtype=np.uint64), self.size)

    def next_states(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        from othello.rules.kernels import play_rows
        return play_rows(np.ascontiguousarray(states, dtype=np.uint64),
                         np.asarray(actions, dtype=np.int64), self.size)

    def discs(self, states: np.ndarray) -> np.ndarray:
        """int64 `[n]`: my discs - their discs (empty squares count for nobody)."""
        return (np.bitwise_count(states[:, 0]).astype(np.int64)
                - np.bitwise_count(states[:, 1]).astype(np.int64))

    def outcome(self, states: np.ndarray) -> np.ndarray:
        return np.sign(self.discs(states)).astype(np.float32)

    def margin(self, states: np.ndarray) -> np.ndarray:
        """The disc margin for the side to move over the number of squares, in [-1, 1]."""
        return (self.discs(states) / self.squares).astype(np.float32)

    def encode(self, states: np.ndarray) -> np.ndarray:
        """float32 `[n, 3, N, N]` planes mine / theirs / empty (`rules.encoding.encode_states`)."""
        from othello.rules.kernels import encode_rows
        return encode_rows(np.ascontiguousarray(states, dtype=np.uint64), self.size)

    def symmetrize(self, inputs: np.ndarray, policies: np.ndarray,
                   symmetry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(inputs)
        gather = self._gather[symmetry]  # [n, squares + 1]
        flat = inputs.reshape(n, inputs.shape[1], self.squares)
        planes = np.take_along_axis(flat, gather[:, None, : self.squares], axis=2)
        return planes.reshape(inputs.shape), np.take_along_axis(policies, gather, axis=1)
