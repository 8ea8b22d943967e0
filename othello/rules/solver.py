"""Exact endgame solver: the perfect-play final disc margin and a move that achieves it.

Negamax alpha-beta (principal-variation search) over bitboards with a transposition table of
(lower, upper) bounds, the table's move first, then "fastest first" ordering (replies that leave
the opponent fewest moves, corners before X-squares) with enhanced transposition cutoffs while many
squares are empty, and for the last few empties a plain loop over the empty squares, corners first
(a square is legal exactly when it flips something), with no move generator or table. Scores are
raw disc differences from the side to move (empty squares at the end count for nobody).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from othello.rules.board import Position, flips, legal_moves, squares_of

FASTEST_FIRST_EMPTIES = 7  # below this, mobility ordering costs more than it saves
TABLE_MIN_EMPTIES = 5  # shallower nodes are cheaper to search again than to store
SMALL_EMPTIES = 4  # from here on, try the empty squares directly instead of generating moves


@cache
def _square_priority(size: int) -> tuple[int, ...]:
    """Static move-ordering key per square: corners first, X-squares last."""
    last = size - 1
    prio = []
    for sq in range(size * size):
        r, c = divmod(sq, size)
        on_edge_r, on_edge_c = r in (0, last), c in (0, last)
        near_r, near_c = r in (1, last - 1), c in (1, last - 1)
        if on_edge_r and on_edge_c:
            prio.append(0)
        elif near_r and near_c:
            prio.append(3)
        elif on_edge_r or on_edge_c:
            prio.append(1)
        else:
            prio.append(2)
    return tuple(prio)


@dataclass
class Solver:
    """Holds the transposition table across calls (positions from one game share much of it)."""

    size: int
    nodes: int = 0
    table: dict[tuple[int, int], tuple[int, int, int]] = field(default_factory=dict)

    def solve(self, pos: Position) -> tuple[int, int]:
        """(margin for the side to move under perfect play, a best move; pass_move if it must
        pass; -1 if the game is over)."""
        if pos.size != self.size:
            raise ValueError(f"solver is for size {self.size}, position is {pos.size}")
        full = self.size * self.size
        bound = full + 1
        value = self._search(pos.me, pos.opp, -bound, bound, full - (pos.me | pos.opp).bit_count())
        if pos.is_over():
            return value, -1
        moves = pos.legal_mask()
        if not moves:
            return value, pos.pass_move
        entry = self.table.get((pos.me, pos.opp))
        if entry is not None and entry[0] == entry[1]:
            return value, entry[2]
        # The root bound was not exact (cannot happen with a full window) - find the move directly.
        for sq in squares_of(moves):
            f = flips(pos.me, pos.opp, sq, self.size)
            child = -self._search(pos.opp & ~f, pos.me | f | (1 << sq), -bound, bound,
                                  full - (pos.me | pos.opp).bit_count() - 1)
            if child == value:
                return value, sq
        raise AssertionError("no move reaches the solved value")

    def _search(self, me: int, opp: int, alpha: int, beta: int, empties: int,
                moves: int = -1) -> int:
        """Fail-soft negamax with principal-variation (null-window) search after the first
        child; `moves` is the caller's legal-move mask for this position when it has one."""
        self.nodes += 1
        size = self.size
        if empties <= SMALL_EMPTIES:
            full = (1 << (size * size)) - 1
            prio = _square_priority(size)
            squares = sorted(squares_of(full & ~(me | opp)), key=prio.__getitem__)
            return self._search_small(me, opp, alpha, beta, squares)
        if moves < 0:
            moves = legal_moves(me, opp, size)
        if not moves:
            their = legal_moves(opp, me, size)
            if not their:
                return me.bit_count() - opp.bit_count()
            return -self._search(opp, me, -beta, -alpha, empties, their)

        use_table = empties >= TABLE_MIN_EMPTIES
        key = (me, opp)
        entry = self.table.get(key) if use_table else None
        tt_move = -1
        if entry is not None:
            lower, upper, tt_move = entry
            if lower >= beta:
                return lower
            if upper <= alpha:
                return upper
            alpha, beta = max(alpha, lower), min(beta, upper)
        alpha0, beta0 = alpha, beta

        # Children as (square, child moves or -1 if not computed yet); flips are recomputed
        # lazily below, which is cheaper than keeping every child board when cutoffs come early.
        squares = squares_of(moves)
        if len(squares) > 1:
            prio = _square_priority(size)
            if empties >= FASTEST_FIRST_EMPTIES:
                order = []
                for sq in squares:
                    f = flips(me, opp, sq, size)
                    child_me, child_opp = opp & ~f, me | f | (1 << sq)
                    child_entry = self.table.get((child_me, child_opp))
                    if child_entry is not None and -child_entry[1] >= beta:  # known cutoff
                        return -child_entry[1]
                    child_moves = legal_moves(child_me, child_opp, size)
                    order.append((sq != tt_move, 3 * child_moves.bit_count() + prio[sq], sq,
                                  child_moves))
                order.sort()
                children = [(sq, cm) for _, _, sq, cm in order]
            else:
                squares.sort(key=lambda sq: (sq != tt_move, prio[sq]))
                children = [(sq, -1) for sq in squares]
        else:
            children = [(squares[0], -1)]

        best, best_move = -(size * size + 1), children[0][0]
        for i, (sq, child_moves) in enumerate(children):
            f = flips(me, opp, sq, size)
            child_me, child_opp = opp & ~f, me | f | (1 << sq)
            if i == 0:
                value = -self._search(child_me, child_opp, -beta, -alpha, empties - 1,
                                      child_moves)
            else:
                value = -self._search(child_me, child_opp, -alpha - 1, -alpha, empties - 1,
                                      child_moves)
                if alpha < value < beta:
                    value = -self._search(child_me, child_opp, -beta, -value, empties - 1,
                                          child_moves)
            if value > best:
                best, best_move = value, sq
                if value > alpha:
                    alpha = value
                    if alpha >= beta:
                        break

        if use_table:
            lower, upper = (entry[0], entry[1]) if entry else (-(size * size + 1), size * size + 1)
            if best <= alpha0:
                upper = best
            elif best >= beta0:
                lower = best
            else:
                lower = upper = best
            self.table[key] = (lower, upper, best_move)
        return best

    def _search_small(self, me: int, opp: int, alpha: int, beta: int, squares: list[int]) -> int:
        """Fail-soft negamax over the last few empty `squares` (corners first): a square is legal
        exactly when it flips something, so no move generator, table or sorting is needed."""
        self.nodes += 1
        size = self.size
        if len(squares) == 1:
            return _last_empty(me, opp, squares[0], size)
        best = None
        for i, sq in enumerate(squares):
            f = flips(me, opp, sq, size)
            if not f:
                continue
            value = -self._search_small(opp & ~f, me | f | (1 << sq), -beta, -alpha,
                                          squares[:i] + squares[i + 1:])
            if best is None or value > best:
                best = value
                if value > alpha:
                    alpha = value
                    if alpha >= beta:
                        break
        if best is not None:
            return best
        if any(flips(opp, me, sq, size) for sq in squares):
            return -self._search_small(opp, me, -beta, -alpha, squares)  # pass
        return me.bit_count() - opp.bit_count()


def _last_empty(me: int, opp: int, sq: int, size: int) -> int:
    """Exact margin with only `sq` empty: whoever can flip something there plays it (the side
    to move first), else the game ends."""
    diff = me.bit_count() - opp.bit_count()
    n = flips(me, opp, sq, size).bit_count()
    if n:
        return diff + 2 * n + 1
    n = flips(opp, me, sq, size).bit_count()
    if n:
        return diff - 2 * n - 1
    return diff


def solve(pos: Position) -> tuple[int, int]:
    """Perfect-play margin and a best move for `pos` with a fresh transposition table."""
    return Solver(pos.size).solve(pos)
