"""The endgame set and its solver labels, checked against plain minimax."""

import numpy as np
import pytest

from othello.az.evaluation import endgame_set, label_endgame
from othello.players.match import random_position
from othello.rules import naive
from othello.rules.board import Position
from othello.rules.solver import Solver
from tests.othello_helpers import to_grid


def test_endgame_labels_match_minimax():
    rng = np.random.default_rng(4)
    solver = Solver(6)
    for _ in range(6):
        pos = random_position(6, 7, rng)
        labels = label_endgame(solver, pos)
        assert sorted(labels) == pos.legal_moves()
        for move, outcome in labels.items():
            child = pos.play(move)
            assert outcome == -np.sign(naive.minimax_margin(*to_grid(child)))


def test_endgame_set_keeps_only_positions_where_the_choice_matters(tmp_path):
    cache = tmp_path / "set.json"
    first = endgame_set(6, 4, seed=3, cache=cache, empties=(6, 7))
    assert [p.empties() for p in first.positions] == [6, 7, 6, 7]
    for i, outcomes in enumerate(first.outcomes):
        assert len(set(outcomes.values())) > 1
        best = [m for m, v in outcomes.items() if v == max(outcomes.values())]
        assert all(first.perfect(i, m) for m in best)
        assert not all(first.perfect(i, m) for m in outcomes)
    assert 0 < first.random_share() < 1
    again = endgame_set(6, 4, seed=3, cache=cache, empties=(6, 7))  # from the cache
    assert again.positions == first.positions and again.outcomes == first.outcomes


def test_distinct_openings_are_distinct_up_to_symmetry():
    from othello.az.evaluation import canonical_key, distinct_openings
    from othello.rules.symmetry import transform_position

    pos = Position.start(6).play(Position.start(6).legal_moves()[0])
    keys = {canonical_key(p.me, p.opp, 6) for p in (transform_position(pos, k) for k in range(8))}
    assert len(keys) == 1  # all eight images of a position share one key
    states = distinct_openings(6, 120, 6, np.random.default_rng(0))
    assert len({canonical_key(int(a), int(b), 6) for a, b in states}) == 120
    assert all(bin(int(a) | int(b)).count("1") == 4 + 6 for a, b in states)
    # the four first moves are one opening up to symmetry, and 2 plies give few more
    with pytest.raises(ValueError, match="distinct"):
        distinct_openings(6, 5, 1, np.random.default_rng(0))
