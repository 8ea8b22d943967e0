"""The 8 board symmetries and the network encoding."""

import numpy as np
import pytest

from othello.rules.board import Position, parse_move
from othello.rules.encoding import EMPTY, MINE, THEIRS, encode, encode_batch, legal_mask
from othello.rules.perft import perft
from othello.rules.symmetry import (
    N_SYMMETRIES,
    inverse,
    permutations,
    transform_move,
    transform_planes,
    transform_policy,
    transform_position,
)
from tests.othello_helpers import random_game


@pytest.mark.parametrize("size", [4, 6, 8])
def test_symmetries_form_the_dihedral_group(size):
    perms = permutations(size)
    assert perms.shape == (N_SYMMETRIES, size * size)
    assert len({tuple(p) for p in perms}) == 8  # all distinct
    assert (perms[0] == np.arange(size * size)).all()
    for k in range(8):
        assert sorted(perms[k]) == list(range(size * size))
        assert (perms[inverse(k)][perms[k]] == np.arange(size * size)).all()
        for j in range(8):  # closed under composition
            assert any((perms[j][perms[k]] == perms[i]).all() for i in range(8))


def test_symmetry_images_of_known_squares():
    size = 6
    images = {move_img for move_img in (transform_move(parse_move("a1", size), size, k)
                                        for k in range(8))}
    assert images == {parse_move(s, size) for s in ("a1", "f1", "a6", "f6")}
    # rotation by 90 degrees (k=1) moves the corner a1 to another corner, and b1 next to it
    a1, b1 = (transform_move(parse_move(s, size), size, 1) for s in ("a1", "b1"))
    assert a1 != parse_move("a1", size) and abs(a1 - b1) in (1, size)
    assert transform_move(size * size, size, 3) == size * size  # pass is fixed


@pytest.mark.parametrize("size", [6, 8])
def test_symmetric_image_of_a_legal_move_is_legal(size):
    rng = np.random.default_rng(0)
    for pos in random_game(size, rng)[::3]:
        for k in range(8):
            img = transform_position(pos, k)
            legal_img = {transform_move(m, size, k) for m in pos.legal_moves()}
            assert set(img.legal_moves()) == legal_img
            for m in pos.legal_moves():  # playing then transforming == transforming then playing
                assert transform_position(pos.play(m), k) == img.play(transform_move(m, size, k))


def test_transforms_of_planes_and_policies_match_positions():
    rng = np.random.default_rng(1)
    positions = random_game(6, rng)[5:30:5]
    for pos in positions:
        planes, mask = encode(pos), legal_mask(pos)
        policy = rng.random(37)
        for k in range(8):
            img = transform_position(pos, k)
            assert (transform_planes(planes, k) == encode(img)).all()
            assert (transform_policy(mask, k) == legal_mask(img)).all()
            moved = transform_policy(policy, k)
            for m in range(37):
                assert moved[transform_move(m, 6, k)] == policy[m]
    batch, _ = encode_batch(positions)
    assert (transform_planes(batch, 2)[1] == encode(transform_position(positions[1], 2))).all()


def test_perft_is_invariant_under_symmetry():
    pos = random_game(6, np.random.default_rng(3))[6]
    counts = {perft(transform_position(pos, k), 4) for k in range(8)}
    assert len(counts) == 1


def test_encoding_is_from_the_side_to_move():
    start = Position.start(6)
    planes = encode(start)
    assert planes.shape == (3, 6, 6) and planes.dtype == np.float32
    assert planes[MINE, 2, 3] == 1 and planes[MINE, 3, 2] == 1  # Black on d3, c4
    assert planes[THEIRS, 2, 2] == 1 and planes[THEIRS, 3, 3] == 1  # White on c3, d4
    assert planes.sum() == 36 and planes[EMPTY].sum() == 32
    after = start.play(parse_move("c2", 6))  # now White to move: White's discs are "mine"
    flipped = encode(after)
    assert flipped[MINE].sum() == 1 and flipped[THEIRS].sum() == 4
    mask = legal_mask(start)
    assert mask.shape == (37,) and sorted(np.flatnonzero(mask)) == sorted(start.legal_moves())


def test_legal_mask_marks_pass_when_forced():
    size = 4
    pos = Position.from_colors(size, (1 << 0) | (1 << 7), (1 << 1) | (1 << 2) | (1 << 3), True)
    mask = legal_mask(pos)
    assert mask[-1] and mask.sum() == 1
