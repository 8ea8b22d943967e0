"""The one board encoding every network input goes through, and the one legal-move mask.

Planes from the side to move: 0 = mine, 1 = theirs, 2 = empty, each [size, size] float32 with
row-major squares (a1 at [0, 0]); the legal-move mask has size*size + 1 entries (pass last),
the pass being legal exactly when the side to move has no square but the opponent has one (a row
of all False is a finished game). Both work on batches of uint64 states `[n, 2]` (`batch.py`);
the `Position` forms below are the same functions on a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from othello.rules.batch import bits_to_bool, legal_squares, states_from_positions
from othello.rules.board import Position

MINE, THEIRS, EMPTY = 0, 1, 2
N_PLANES = 3


def encode_states(states: np.ndarray, size: int) -> np.ndarray:
    """float32 `[n, 3, size, size]` planes (mine, theirs, empty) of uint64 states `[n, 2]`."""
    squares = size * size
    mine = bits_to_bool(states[:, 0], squares)
    theirs = bits_to_bool(states[:, 1], squares)
    planes = np.stack([mine, theirs, ~(mine | theirs)], axis=1).astype(np.float32)
    return planes.reshape(len(states), N_PLANES, size, size)


def legal_actions(states: np.ndarray, size: int) -> np.ndarray:
    """bool `[n, size*size + 1]`: legal squares, and pass (last) when the side to move must pass."""
    squares = size * size
    me, opp = states[:, 0], states[:, 1]
    legal = np.zeros((len(states), squares + 1), dtype=bool)
    moves = legal_squares(me, opp, size)
    legal[:, :squares] = bits_to_bool(moves, squares)
    must_pass = moves == 0
    if must_pass.any():
        legal[must_pass, squares] = legal_squares(opp[must_pass], me[must_pass], size) != 0
    return legal


def encode(pos: Position) -> np.ndarray:
    """float32 [3, size, size] planes (mine, theirs, empty) from the side to move."""
    return encode_states(states_from_positions([pos]), pos.size)[0]


def legal_mask(pos: Position) -> np.ndarray:
    """bool [size*size + 1]: legal squares, and pass (last) when the side to move must pass."""
    return legal_actions(states_from_positions([pos]), pos.size)[0]


def encode_batch(positions: Sequence[Position]) -> tuple[np.ndarray, np.ndarray]:
    """Stacked planes [B, 3, size, size] and legal masks [B, size*size + 1]."""
    states = states_from_positions(positions)
    size = positions[0].size
    return encode_states(states, size), legal_actions(states, size)
