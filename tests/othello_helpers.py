"""Helpers for the Othello tests: random positions reached by random play."""

from __future__ import annotations

import numpy as np

from othello.rules import naive
from othello.rules.board import Position, move_name


def random_game(size: int, rng: np.random.Generator) -> list[Position]:
    """Every position of one uniformly random game, start and end included."""
    pos = Position.start(size)
    out = [pos]
    while not pos.is_over():
        moves = pos.legal_moves()
        pos = pos.play(moves[int(rng.integers(len(moves)))])
        out.append(pos)
    return out


def moves_to(size: int, empties: int, rng: np.random.Generator) -> tuple[Position, list[str]]:
    """A random game played until at most `empties` squares are empty (restarted if it ends
    first): the position and the move names that reach it, for the CLIs' --moves."""
    pos, moves = Position.start(size), []
    while pos.empties() > empties or pos.is_over():
        if pos.is_over():
            pos, moves = Position.start(size), []
        legal = pos.legal_moves()
        move = legal[int(rng.integers(len(legal)))]
        moves.append(move_name(move, size))
        pos = pos.play(move)
    return pos, moves


def to_grid(pos: Position) -> tuple[list[list[int]], int]:
    """The naive reference's grid and player to move for a bitboard position."""
    size = pos.size
    grid = [[naive.EMPTY] * size for _ in range(size)]
    for sq in range(size * size):
        r, c = divmod(sq, size)
        if pos.black >> sq & 1:
            grid[r][c] = naive.BLACK
        elif pos.white >> sq & 1:
            grid[r][c] = naive.WHITE
    return grid, naive.BLACK if pos.black_to_move else naive.WHITE


def from_diagram(text: str, black_to_move: bool) -> Position:
    """A position from rows of X (black), O (white) and . (empty), a1 top-left."""
    rows = [r.split() for r in text.strip().splitlines()]
    size = len(rows)
    black = white = 0
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            bit = 1 << (r * size + c)
            black |= bit if ch == "X" else 0
            white |= bit if ch == "O" else 0
    return Position.from_colors(size, black, white, black_to_move)
