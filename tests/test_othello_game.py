"""The rules behind AlphaZero (OthelloGame on compiled row kernels) equal the scalar engine."""

import numpy as np
import pytest

from othello.az.game import OthelloGame
from othello.rules.batch import states_from_positions
from tests.othello_helpers import random_game


def reference_planes_and_mask(pos):
    """Planes and legal mask square by square from the scalar engine (no shared code)."""
    n = pos.size * pos.size
    planes = np.zeros((3, n), np.float32)
    for sq in range(n):
        planes[0 if pos.me >> sq & 1 else 1 if pos.opp >> sq & 1 else 2, sq] = 1
    mask = np.zeros(n + 1, bool)
    mask[pos.legal_moves()] = True
    return planes.reshape(3, pos.size, pos.size), mask


@pytest.mark.parametrize("size", [4, 6, 8])
def test_batched_rules_match_the_scalar_engine(size):
    game, rng = OthelloGame(size), np.random.default_rng(size)
    positions = [p for _ in range(12) for p in random_game(size, rng)]
    states = states_from_positions(positions)
    planes, legal = (np.stack(x) for x in zip(*map(reference_planes_and_mask, positions),
                                              strict=True))
    np.testing.assert_array_equal(game.encode(states), planes)
    np.testing.assert_array_equal(game.legal_actions(states), legal)  # passes and game ends too
    live = [i for i, p in enumerate(positions) if p.legal_moves()]
    moves = np.array([rng.choice(positions[i].legal_moves()) for i in live])
    after = states_from_positions([positions[i].play(int(m)) for i, m in zip(live, moves,
                                                                             strict=True)])
    np.testing.assert_array_equal(game.next_states(states[live], moves), after)
    over = [i for i, p in enumerate(positions) if p.is_over()]
    expected = [np.sign(positions[i].margin()) for i in over]
    np.testing.assert_array_equal(game.outcome(states[over]), expected)
