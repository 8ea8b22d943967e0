"""A deliberately plain Othello implementation on a 2-D list: the slow, obviously-correct reference
that the tests and benchmarks compare the bitboard engine against. Shares no code with board.py.
"""

from __future__ import annotations

EMPTY, BLACK, WHITE = 0, 1, 2


def start(size: int) -> list[list[int]]:
    grid = [[EMPTY] * size for _ in range(size)]
    h = size // 2
    grid[h - 1][h - 1] = grid[h][h] = WHITE
    grid[h - 1][h] = grid[h][h - 1] = BLACK
    return grid


def flipped_by(grid: list[list[int]], row: int, col: int, player: int) -> list[tuple[int, int]]:
    """Discs flipped if `player` plays at (row, col); empty list if the move is illegal."""
    size = len(grid)
    if grid[row][col] != EMPTY:
        return []
    other = BLACK + WHITE - player
    out = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            run = []
            r, c = row + dr, col + dc
            while 0 <= r < size and 0 <= c < size and grid[r][c] == other:
                run.append((r, c))
                r, c = r + dr, c + dc
            if run and 0 <= r < size and 0 <= c < size and grid[r][c] == player:
                out.extend(run)
    return out


def moves(grid: list[list[int]], player: int) -> list[tuple[int, int]]:
    size = len(grid)
    return [(r, c) for r in range(size) for c in range(size) if flipped_by(grid, r, c, player)]


def play(grid: list[list[int]], row: int, col: int, player: int) -> list[list[int]]:
    new = [line[:] for line in grid]
    for r, c in flipped_by(grid, row, col, player):
        new[r][c] = player
    new[row][col] = player
    return new


def perft(grid: list[list[int]], player: int, depth: int) -> int:
    """Leaves at `depth` plies; a pass is a ply, a finished game is a leaf."""
    if depth == 0:
        return 1
    other = BLACK + WHITE - player
    mine = moves(grid, player)
    if not mine:
        if not moves(grid, other):
            return 1
        return perft(grid, other, depth - 1)
    if depth == 1:
        return len(mine)
    return sum(perft(play(grid, r, c, player), other, depth - 1) for r, c in mine)


def minimax_margin(grid: list[list[int]], player: int) -> int:
    """Exact final disc margin for `player` (to move) under perfect play, by plain minimax."""
    other = BLACK + WHITE - player
    mine = moves(grid, player)
    if not mine:
        if not moves(grid, other):
            flat = [x for line in grid for x in line]
            return flat.count(player) - flat.count(other)
        return -minimax_margin(grid, other)
    return max(-minimax_margin(play(grid, r, c, player), other) for r, c in mine)
