"""The 8 symmetries of the square board (4 rotations x optional reflection).

Each symmetry is a permutation of squares: `perm[sq]` is where square `sq` goes. Boards, planes and
policy vectors are moved with the same permutation (the pass entry stays put), so the image of a
legal move is legal in the image of the position.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from othello.rules.board import Position

N_SYMMETRIES = 8


@cache
def permutations(size: int) -> np.ndarray:
    """int array [8, size*size]: perm[k, sq] = image of square sq under symmetry k.
    k = 0 is the identity; k in 0..3 rotate by 90 k degrees; k in 4..7 transpose first."""
    idx = np.arange(size * size).reshape(size, size)
    perms = []
    for k in range(N_SYMMETRIES):
        img = idx.T if k >= 4 else idx
        img = np.rot90(img, k % 4)
        # img[r, c] holds the source square that lands at (r, c); invert to source -> target.
        perm = np.empty(size * size, dtype=np.int64)
        perm[img.ravel()] = np.arange(size * size)
        perms.append(perm)
    return np.stack(perms)


def inverse(k: int) -> int:
    """The symmetry that undoes symmetry k (rotations invert, reflections are involutions)."""
    return (4 - k) % 4 if k < 4 else k


def transform_bits(bits: int, size: int, k: int) -> int:
    perm = permutations(size)[k]
    out = 0
    while bits:
        low = bits & -bits
        out |= 1 << int(perm[low.bit_length() - 1])
        bits ^= low
    return out


def transform_position(pos: Position, k: int) -> Position:
    return Position(pos.size, transform_bits(pos.me, pos.size, k),
                    transform_bits(pos.opp, pos.size, k), pos.black_to_move)


def transform_move(move: int, size: int, k: int) -> int:
    return move if move == size * size else int(permutations(size)[k][move])


def transform_planes(planes: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry k to arrays shaped [..., size, size] (e.g. encoded planes)."""
    size = planes.shape[-1]
    flat = planes.reshape(*planes.shape[:-2], size * size)
    out = np.empty_like(flat)
    out[..., permutations(size)[k]] = flat
    return out.reshape(planes.shape)


def transform_policy(policy: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry k to arrays shaped [..., size*size + 1] (moves then pass)."""
    size = int(round((policy.shape[-1] - 1) ** 0.5))
    out = policy.copy()
    out[..., permutations(size)[k]] = policy[..., : size * size]
    return out
