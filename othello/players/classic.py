"""Classic Othello players: random, greedy, alpha-beta on a positional evaluation, and the exact
solver in the endgame. `othello.players.registry` builds them from specs (the factories at the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from othello.players.registry import Player, PlayerSpecError, int_arg
from othello.players.registry import make_player as make_player  # (compat: old home)
from othello.rules.board import Position, flips, legal_moves, squares_of


def _pick(rng: np.random.Generator, moves: list[int], scores: list[float]) -> int:
    """A uniformly random move among those with the best score (ties vary the games)."""
    best = max(scores)
    tied = [m for m, s in zip(moves, scores, strict=True) if s == best]
    return tied[int(rng.integers(len(tied)))]


class RandomPlayer:
    name = "random"

    def choose(self, pos: Position, rng: np.random.Generator) -> int:
        moves = pos.legal_moves()
        return moves[int(rng.integers(len(moves)))]


class GreedyPlayer:
    """Plays the move that flips the most discs."""

    name = "greedy"

    def choose(self, pos: Position, rng: np.random.Generator) -> int:
        moves = pos.legal_moves()
        if moves == [pos.pass_move]:
            return pos.pass_move
        scores = [flips(pos.me, pos.opp, m, pos.size).bit_count() for m in moves]
        return _pick(rng, moves, scores)


@dataclass(frozen=True)
class EvalMasks:
    """Square groups for the positional evaluation of one board size."""

    edges: int  # edge squares other than corners
    inner: int
    corners: tuple[tuple[int, int, int], ...]  # (corner, its X-square, its two C-squares)


@cache
def eval_masks(size: int) -> EvalMasks:
    last = size - 1
    edges = inner = 0
    for sq in range(size * size):
        r, c = divmod(sq, size)
        if r in (0, last) and c in (0, last):
            continue
        if r in (0, last) or c in (0, last):
            edges |= 1 << sq
        else:
            inner |= 1 << sq
    corners = []
    for r, c, dr, dc in ((0, 0, 1, 1), (0, last, 1, -1), (last, 0, -1, 1), (last, last, -1, -1)):
        x_square = 1 << ((r + dr) * size + c + dc)
        c_squares = (1 << ((r + dr) * size + c)) | (1 << (r * size + c + dc))
        corners.append((1 << (r * size + c), x_square, c_squares))
    return EvalMasks(edges, inner, tuple(corners))


# Weights tuned by head-to-head matches on 6x6 (alpha-beta depth 3, 100 games each): penalising
# the squares next to a corner only while that corner is empty, and a mobility weight of 15,
# scored 0.8 against fixed weights and about 1.0 against random play.
CORNER, X_SQUARE, C_SQUARE, EDGE, INNER, MOBILITY = 100, -50, -20, 10, 1, 15
WIN_SCORE = 100_000


def evaluate(me: int, opp: int, size: int) -> int:
    """Static evaluation for the side to move: corners, edges, the squares that give a corner
    away, and mobility."""
    m = eval_masks(size)
    score = (EDGE * ((me & m.edges).bit_count() - (opp & m.edges).bit_count())
             + INNER * ((me & m.inner).bit_count() - (opp & m.inner).bit_count()))
    for corner, x_square, c_squares in m.corners:
        if me & corner:
            score += CORNER
        elif opp & corner:
            score -= CORNER
        else:
            score += X_SQUARE * ((me & x_square).bit_count() - (opp & x_square).bit_count())
            score += C_SQUARE * ((me & c_squares).bit_count() - (opp & c_squares).bit_count())
    mobility = legal_moves(me, opp, size).bit_count() - legal_moves(opp, me, size).bit_count()
    return score + MOBILITY * mobility


def alphabeta(me: int, opp: int, size: int, depth: int, alpha: int, beta: int) -> int:
    """Negamax alpha-beta value to `depth` plies (a pass is a ply); finished games score by
    disc margin, far beyond any positional score."""
    moves = legal_moves(me, opp, size)
    if not moves:
        if not legal_moves(opp, me, size):
            return WIN_SCORE * (me.bit_count() - opp.bit_count())
        if depth == 0:
            return evaluate(me, opp, size)
        return -alphabeta(opp, me, size, depth - 1, -beta, -alpha)
    if depth == 0:
        return evaluate(me, opp, size)
    best = -WIN_SCORE * size * size
    for sq in squares_of(moves):
        f = flips(me, opp, sq, size)
        value = -alphabeta(opp & ~f, me | f | (1 << sq), size, depth - 1, -beta, -alpha)
        if value > best:
            best = value
            if value > alpha:
                alpha = value
                if alpha >= beta:
                    break
    return best


class AlphaBetaPlayer:
    """Fixed-depth alpha-beta on a positional + mobility evaluation."""

    def __init__(self, depth: int):
        self.depth = depth
        self.name = f"alphabeta:{depth}"

    def choose(self, pos: Position, rng: np.random.Generator) -> int:
        moves = pos.legal_moves()
        if moves == [pos.pass_move]:
            return pos.pass_move
        bound = WIN_SCORE * pos.size * pos.size
        scores = []
        for sq in moves:
            f = flips(pos.me, pos.opp, sq, pos.size)
            # Full window per root move so that equal scores are true ties.
            scores.append(-alphabeta(pos.opp & ~f, pos.me | f | (1 << sq), pos.size,
                                     self.depth - 1, -bound, bound))
        return _pick(rng, moves, scores)


class SolverPlayer:
    """Perfect play once at most `empties` squares are empty (the compiled exact search, one
    table kept across moves and games); alpha-beta:4 before that."""

    def __init__(self, size: int, empties: int):
        self.empties = empties
        self.name = f"solver:{empties}"
        from othello.rules.engine import Engine  # the compiled kernels load only when used
        self.engine = Engine(table_bits=20)
        self.midgame = AlphaBetaPlayer(4)

    def choose(self, pos: Position, rng: np.random.Generator) -> int:
        if pos.empties() > self.empties:
            return self.midgame.choose(pos, rng)
        return self.engine.solve(pos)[1]


# Factories named by the registry: factory(arg, size) -> Player.
def random_player(arg: str | None, size: int) -> Player:
    if arg is not None:
        raise PlayerSpecError("random takes no argument")
    return RandomPlayer()


def greedy_player(arg: str | None, size: int) -> Player:
    if arg is not None:
        raise PlayerSpecError("greedy takes no argument")
    return GreedyPlayer()


def alphabeta_player(arg: str | None, size: int) -> Player:
    return AlphaBetaPlayer(int_arg(arg, 3, "alpha-beta depth", 1, 8))


def solver_player(arg: str | None, size: int) -> Player:
    return SolverPlayer(size, int_arg(arg, 14, "solver empties", 1, 20))
