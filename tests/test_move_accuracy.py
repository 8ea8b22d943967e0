"""Whole-game move accuracy: every judged move against the old solver, summaries by hand, and
perfect play on 4x4 (solved: White wins 11-3)."""

import numpy as np
import pytest

from alphazero.arena import play_match
from othello.az.accuracy import (
    JudgedMoves,
    final_discs,
    judge_moves,
    moves_of_openings,
    versus_perfect,
)
from othello.az.agent import classic_policy
from othello.az.evaluation import judged_summary, move_margins
from othello.az.game import OthelloGame
from othello.players.perfect import PerfectPlayer
from othello.players.registry import make_player
from othello.rules.board import Position
from othello.rules.oracle import Oracle
from othello.rules.solver import Solver


def random_match(size: int, games: int, seed: int):
    rng = np.random.default_rng(seed)
    game = OthelloGame(size)
    a = classic_policy(make_player("random", size), size, rng)
    b = classic_policy(make_player("greedy", size), size, rng)
    return play_match(game, a, b, games, 2, rng, record=True)


def test_every_judged_move_matches_the_old_solver():
    result = random_match(4, 12, seed=5)
    judged = judge_moves(Oracle(4, cache_path=None), result.a_moves, result.games,
                         progress=False)
    solver, rows, forced = Solver(4), [], 0
    for g, state, action in result.a_moves:
        pos = Position(4, int(state[0]), int(state[1]), True)
        if len(pos.legal_moves()) < 2:
            forced += 1
            continue
        margins = move_margins(solver, pos)
        rows.append((g, pos.empties(), max(margins.values()), margins[action]))
    expected = np.array(rows)
    assert judged.forced == forced
    assert np.array_equal(np.stack([judged.game, judged.empties, judged.best, judged.after], 1),
                          expected)
    assert 0 < judged.kept.mean() < 1  # random play keeps some outcomes and throws some away


def test_summary_by_hand():
    judged = JudgedMoves(game=np.array([0, 0, 1]), empties=np.array([9, 7, 5]),
                         best=np.array([4, 0, -2]), after=np.array([2, -2, -2]), forced=4,
                         games=2)
    s = judged.summary()
    assert s["keeps_outcome"] == pytest.approx(2 / 3)  # win kept, draw lost, loss kept
    assert s["best_margin"] == pytest.approx(1 / 3)
    assert s["discs_given_away_per_game"] == pytest.approx(1.0)  # games: 1 + 1 and 0
    assert s["outcome_errors"] == 1 and s["forced_moves"] == 4 and s["moves_with_choice"] == 3
    low, high = s["keeps_outcome_wilson95"]
    assert low < 2 / 3 < high


def test_final_discs_agree_with_the_results():
    result = random_match(4, 8, seed=2)
    mine, theirs = final_discs(result)
    assert np.all(mine + theirs <= 16)
    assert np.array_equal(np.sign(mine - theirs), result.a_result)


def test_perfect_against_perfect_on_4x4_is_the_solved_result():
    game, rng = OthelloGame(4), np.random.default_rng(0)
    perfect = classic_policy(PerfectPlayer(4, cache_path=None), 4, rng)
    games, result = versus_perfect(game, perfect, perfect, rng)
    assert games == {"as_black": {"result": -1, "discs": [3, 11]},
                     "as_white": {"result": 1, "discs": [11, 3]}}
    judged = judge_moves(Oracle(4, cache_path=None), result.a_moves, 2, progress=False)
    assert judged.kept.all() and (judged.best == judged.after).all()
    assert judged.summary()["discs_given_away_per_game"] == 0


def test_moves_of_openings_keeps_both_colours_of_the_first_openings():
    result = random_match(4, 12, seed=5)  # 6 openings: games 0-5 A first, 6-11 A second
    moves, games = moves_of_openings(result, 2)
    assert games == 4
    old = {0: 0, 1: 1, 2: 6, 3: 7}
    for new in range(4):
        expected = [(s.tolist(), a) for g, s, a in result.a_moves if g == old[new]]
        assert [(s.tolist(), a) for g, s, a in moves if g == new] == expected
    assert all(g < 4 for g, _, _ in moves)


def test_judged_summary_is_the_verdict_on_the_first_openings():
    result = random_match(4, 12, seed=5)
    moves, games = moves_of_openings(result, 3)
    expected = judge_moves(Oracle(4, cache_path=None), moves, games, progress=False).summary()
    assert judged_summary(result, 6, 4, oracle_cache=None) == expected
    assert expected["games"] == 6
