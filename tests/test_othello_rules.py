"""Rules of the bitboard engine, checked against published perft counts, the naive reference
implementation, and hand-built positions."""

import numpy as np
import pytest

from othello.rules import naive
from othello.rules.board import (
    IllegalMoveError,
    Position,
    flips,
    move_name,
    parse_move,
    render,
)
from othello.rules.perft import main as perft_main
from othello.rules.perft import perft
from tests.othello_helpers import random_game, to_grid

# Published 8x8 perft (a pass is a ply; a finished game is a leaf). Depth 9 is the first with
# passes and finished games, so an engine that gets passes wrong fails it.
PUBLISHED_8X8 = [4, 12, 56, 244, 1396, 8200, 55092, 390216, 3005288]


def bits(*names: str, size: int) -> int:
    return sum(1 << parse_move(n, size) for n in names)


def test_start_positions():
    six = Position.start(6)
    assert six.white == bits("c3", "d4", size=6) and six.black == bits("d3", "c4", size=6)
    eight = Position.start(8)
    assert eight.white == bits("d4", "e5", size=8) and eight.black == bits("e4", "d5", size=8)
    assert six.black_to_move and six.counts() == (2, 2)
    assert [move_name(m, 6) for m in six.legal_moves()] == ["c2", "b3", "e4", "d5"]


def test_perft_8x8_matches_published_values():
    start = Position.start(8)
    assert [perft(start, d) for d in range(1, 10)] == PUBLISHED_8X8


@pytest.mark.parametrize("size,depth", [(4, 9), (6, 7)])
def test_perft_matches_naive_reference(size, depth):
    grid = naive.start(size)
    start = Position.start(size)
    for d in range(1, depth + 1):
        assert perft(start, d) == naive.perft(grid, naive.BLACK, d), f"depth {d}"


def test_perft_4x4_whole_game_tree_counts_finished_games_once():
    # Every 4x4 game (passes included) ends well before 30 plies, so deeper perft changes
    # nothing: each finished game is one leaf. The naive reference walks the same full tree.
    start = Position.start(4)
    full_tree = perft(start, 30)
    assert full_tree == perft(start, 40) == naive.perft(naive.start(4), naive.BLACK, 30)
    assert full_tree > perft(start, 14)  # some games need passes to finish


def test_perft_cli_prints_one_line_per_depth(capsys):
    perft_main(["--size", "6", "--depth", "4"])
    assert capsys.readouterr().out.split("\n")[:4] == ["1 4", "2 12", "3 56", "4 244"]


@pytest.mark.parametrize("size", [4, 6, 8])
def test_random_games_agree_with_naive_reference(size):
    """Legal moves, flips, passes and game end along many random games, every ply."""
    rng = np.random.default_rng(size)
    for _ in range(30 if size < 8 else 10):
        for pos in random_game(size, rng):
            grid, player = to_grid(pos)
            ref_moves = {r * size + c for r, c in naive.moves(grid, player)}
            assert set(squares(pos.legal_mask())) == ref_moves
            other = naive.BLACK + naive.WHITE - player
            ref_over = not ref_moves and not naive.moves(grid, other)
            assert pos.is_over() == ref_over
            for sq in ref_moves:
                r, c = divmod(sq, size)
                assert to_grid(pos.play(sq))[0] == naive.play(grid, r, c, player)


def squares(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def test_flips_in_all_eight_directions():
    # White on every neighbour of d4, Black two steps out in all 8 directions: d4 flips all 8.
    size = 8
    white = bits("c3", "d3", "e3", "c4", "e4", "c5", "d5", "e5", size=size)
    black = bits("b2", "d2", "f2", "b4", "f4", "b6", "d6", "f6", size=size)
    pos = Position.from_colors(size, black, white, black_to_move=True)
    assert flips(pos.me, pos.opp, parse_move("d4", size), size) == white
    after = pos.play(parse_move("d4", size))
    assert after.counts() == (17, 0) and after.is_over()


def test_no_flip_across_an_empty_square_or_the_board_edge():
    size = 6
    # a1 . c1(white) d1(black): a1 does not flip c1 because b1 is empty.
    pos = Position.from_colors(size, bits("d1", "f2", size=size), bits("c1", "a2", size=size),
                               black_to_move=True)
    assert flips(pos.me, pos.opp, parse_move("a1", size), size) == 0
    # f1 with white on a2 and black on b2 would "wrap" from the end of row 1 to row 2 if the
    # shift masks were wrong; e1/f1 must not be legal through the wrap.
    wrap = Position.from_colors(size, bits("b2", size=size), bits("a2", size=size), True)
    assert wrap.legal_mask() == 0


def test_pass_only_when_no_move_and_game_over_after_two_passes():
    size = 4
    # Black (a1, d2) to move cannot flip anything; White (b1 c1 d1) can play d3: Black passes.
    pos = Position.from_colors(size, bits("a1", "d2", size=size),
                               bits("b1", "c1", "d1", size=size), True)
    assert pos.legal_mask() == 0 and pos.legal_moves() == [pos.pass_move]
    with pytest.raises(IllegalMoveError):
        pos.play(parse_move("c2", size))
    after = pos.play(pos.pass_move)
    assert not after.black_to_move and after.legal_moves() == [parse_move("d3", size)]
    with pytest.raises(IllegalMoveError):
        after.play(after.pass_move)  # White has a move, so it may not pass
    # Neither side can move: the game is over and no move (not even pass) is legal.
    over = Position.from_colors(size, bits("a1", size=size), bits("d4", size=size), True)
    assert over.is_over() and over.legal_moves() == []
    with pytest.raises(IllegalMoveError):
        over.play(over.pass_move)


def test_full_board_ends_the_game_and_scores():
    size = 4
    full = (1 << 16) - 1
    pos = Position.from_colors(size, full & ~bits("a1", "b1", size=size),
                               bits("a1", "b1", size=size), True)
    assert pos.is_over() and pos.counts() == (14, 2) and pos.winner() == "black"
    assert Position.from_colors(size, 0xFF, full ^ 0xFF, False).winner() == "draw"


def test_move_notation_round_trip_and_errors():
    for size in (4, 6, 8):
        for move in range(size * size + 1):
            assert parse_move(move_name(move, size), size) == move
    assert move_name(0, 6) == "a1" and move_name(35, 6) == "f6" and move_name(36, 6) == "pass"
    assert parse_move("C2", 6) == 8 and parse_move(" pass ", 6) == 36
    for bad in ("g1", "a7", "a0", "", "11", "c", "cc"):
        with pytest.raises(ValueError):
            parse_move(bad, 6)


def test_illegal_moves_are_rejected():
    pos = Position.start(6)
    for text in ("a1", "c3", "pass"):
        with pytest.raises(IllegalMoveError):
            pos.play(parse_move(text, 6))
    with pytest.raises(IllegalMoveError):
        pos.play(99)


def test_render_draws_coordinates_discs_and_legal_marks():
    lines = render(Position.start(6), mark_legal=True).split("\n")
    assert lines[0].split() == list("abcdef")
    assert lines[3].split() == ["3", ".", "*", "O", "X", ".", "."]
    assert lines[4].split() == ["4", ".", ".", "X", "O", "*", "."]
