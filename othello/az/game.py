"""Othello behind the `alphazero.game.Game` protocol, on batches of uint64 bitboards.

A state is a row `[me, opp]` of uint64 bitboards (`othello.rules.batch`); move generation, flips,
the legal mask and the encoding are the batched kernels of `othello.rules`, so this class only
adapts them to the protocol (plus the symmetry gathers used for augmentation).
"""

from __future__ import annotations

import numpy as np

from othello.rules.batch import ONE, flips
from othello.rules.board import geometry, start_bits
from othello.rules.encoding import encode_states, legal_actions
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
        return legal_actions(states, self.size)

    def next_states(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        me, opp = states[:, 0], states[:, 1]
        actions = np.asarray(actions)
        out = np.stack([opp, me], axis=1)  # a pass just hands over the move
        play = actions != self.squares
        if play.any():
            m, o, sq = me[play], opp[play], actions[play]
            f = flips(m, o, sq, self.size)
            out[play, 0] = o & ~f
            out[play, 1] = m | f | (ONE << sq.astype(np.uint64))
        return out

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
        return encode_states(states, self.size)

    def symmetrize(self, inputs: np.ndarray, policies: np.ndarray,
                   symmetry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(inputs)
        gather = self._gather[symmetry]  # [n, squares + 1]
        flat = inputs.reshape(n, inputs.shape[1], self.squares)
        planes = np.take_along_axis(flat, gather[:, None, : self.squares], axis=2)
        return planes.reshape(inputs.shape), np.take_along_axis(policies, gather, axis=1)
