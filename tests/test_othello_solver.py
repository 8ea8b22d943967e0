"""The exact endgame solver against plain minimax, and its command line."""

import numpy as np
import pytest

from othello.players.match import random_position
from othello.rules import naive
from othello.rules.board import Position, move_name
from othello.rules.solver import Solver, solve
from othello.solve import main as solve_main
from othello.solve import replay_moves
from tests.othello_helpers import moves_to, to_grid


def test_solver_matches_minimax_on_the_whole_4x4_game():
    margin, best = solve(Position.start(4))
    assert margin == naive.minimax_margin(naive.start(4), naive.BLACK) == -8  # White wins 11-3
    assert -solve(Position.start(4).play(best))[0] == margin


@pytest.mark.parametrize("size,empties", [(6, 3), (6, 4), (6, 6), (6, 8), (8, 7)])
def test_solver_matches_minimax_on_random_endgames(size, empties):
    rng = np.random.default_rng(empties)
    for _ in range(8):
        pos = random_position(size, empties, rng)
        margin, best = solve(pos)
        grid, player = to_grid(pos)
        assert margin == naive.minimax_margin(grid, player)
        # the move it names reaches that margin
        assert -solve(pos.play(best))[0] == margin


def test_shared_table_gives_the_same_answers():
    rng = np.random.default_rng(5)
    solver = Solver(6)
    for _ in range(6):
        pos = random_position(6, 9, rng)
        assert solver.solve(pos)[0] == solve(pos)[0]


def test_forced_pass_and_finished_game():
    forced = Position.from_colors(4, (1 << 0) | (1 << 7), (1 << 1) | (1 << 2) | (1 << 3), True)
    margin, best = solve(forced)
    assert best == forced.pass_move and margin == -solve(forced.play(best))[0]
    over = Position.from_colors(4, 1, 1 << 15, True)
    assert solve(over) == (0, -1)


def test_solve_cli(capsys):
    pos, moves = moves_to(6, 10, np.random.default_rng(11))
    solve_main(["--size", "6", "--moves", " ".join(moves)])
    margin, best = solve(pos)
    assert capsys.readouterr().out.strip() == f"margin {margin} best {move_name(best, 6)}"


@pytest.mark.parametrize("moves,needle", [("c2 zz", "ply 2"), ("a1", "not a legal move"),
                                          ("c2 c1 b1 a1 a2", "ply")])
def test_solve_cli_rejects_bad_moves(moves, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        solve_main(["--moves", moves])
    assert exc.value.code == 2 and needle in capsys.readouterr().err


def test_solve_cli_refuses_too_many_empties(capsys):
    with pytest.raises(SystemExit):
        solve_main(["--moves", "c2"])
    assert "--max-empties" in capsys.readouterr().err


def test_replay_moves_accepts_commas_and_case():
    after_c2 = Position.start(6).play(8)
    reply = after_c2.legal_moves()[0]
    assert replay_moves(f"C2, {move_name(reply, 6).upper()}", 6) == after_c2.play(reply)
