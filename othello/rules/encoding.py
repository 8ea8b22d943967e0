"""The one board encoding every network input goes through.

Planes from the side to move: 0 = mine, 1 = theirs, 2 = empty, each [size, size] float32 with
row-major squares (a1 at [0, 0]); the legal-move mask has size*size + 1 entries (pass last).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from othello.rules.board import Position

MINE, THEIRS, EMPTY = 0, 1, 2
N_PLANES = 3


def bits_to_array(bits: int, squares: int) -> np.ndarray:
    """0/1 uint8 vector of the low `squares` bits of `bits` (square 0 first)."""
    raw = np.frombuffer(bits.to_bytes(8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:squares]


def encode(pos: Position) -> np.ndarray:
    """float32 [3, size, size] planes (mine, theirs, empty) from the side to move."""
    n = pos.size * pos.size
    mine = bits_to_array(pos.me, n)
    theirs = bits_to_array(pos.opp, n)
    planes = np.stack([mine, theirs, 1 - mine - theirs]).astype(np.float32)
    return planes.reshape(N_PLANES, pos.size, pos.size)


def legal_mask(pos: Position) -> np.ndarray:
    """bool [size*size + 1]: legal squares, and pass (last) when the side to move must pass."""
    n = pos.size * pos.size
    mask = np.zeros(n + 1, dtype=bool)
    for move in pos.legal_moves():
        mask[move] = True
    return mask


def encode_batch(positions: Sequence[Position]) -> tuple[np.ndarray, np.ndarray]:
    """Stacked planes [B, 3, size, size] and legal masks [B, size*size + 1]."""
    return (np.stack([encode(p) for p in positions]),
            np.stack([legal_mask(p) for p in positions]))
