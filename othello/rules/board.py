"""N x N Othello rules on bitboards (Python ints).

A square is `row * N + col` with a1 = square 0 in the top-left corner, columns a.. left to right
and rows 1.. top to bottom; its bit is `1 << square`. A position is stored from the side to move
(`me`, `opp`), which is what search and the network want; `black_to_move` says who that is.
A pass is a move, numbered `N * N`. The game is over when neither side has a legal move (the two
passes this implies are not played out), which includes the full board.

Move generation uses the classic shift-and-mask fill in 8 directions: every operation touches all
squares at once, so a move list costs a few hundred integer operations whatever the position.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

SIZES = (4, 6, 8)
DEFAULT_SIZE = 6
DIRECTIONS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


@dataclass(frozen=True)
class Geometry:
    """Per-size constants: the full mask and, per direction, a shift and a wrap-around mask."""

    size: int
    full: int
    shifts: tuple[tuple[int, int], ...]  # (shift, mask applied after shifting) per direction

    @property
    def squares(self) -> int:
        return self.size * self.size

    @property
    def pass_move(self) -> int:
        return self.size * self.size


@cache
def geometry(size: int) -> Geometry:
    """The constants for an N x N board; raises ValueError for an unsupported size."""
    if size not in SIZES:
        raise ValueError(f"board size must be one of {SIZES}, got {size}")
    full = (1 << (size * size)) - 1
    col0 = sum(1 << (r * size) for r in range(size))
    col_last = col0 << (size - 1)
    shifts = []
    for dr, dc in DIRECTIONS:
        mask = full
        if dc == 1:
            mask &= ~col0  # moving right must not land in column a (wrapped from the last column)
        elif dc == -1:
            mask &= ~col_last
        shifts.append((dr * size + dc, mask))
    geo = Geometry(size, full, tuple(shifts))
    _GEOMETRIES[size] = geo
    return geo


_GEOMETRIES: dict[int, Geometry] = {}  # filled by geometry(); a plain dict is the fastest lookup


def legal_moves(me: int, opp: int, size: int) -> int:
    """Bitmask of the squares where the side to move (`me`) may play."""
    geo = _GEOMETRIES.get(size) or geometry(size)
    reps = size - 3
    moves = 0
    for s, mask in geo.shifts:
        om = opp & mask  # opponent discs a line may run through in this direction
        if s > 0:
            t = (me << s) & om
            for _ in range(reps):
                t |= (t << s) & om
            moves |= (t << s) & mask
        else:
            s = -s
            t = (me >> s) & om
            for _ in range(reps):
                t |= (t >> s) & om
            moves |= (t >> s) & mask
    return moves & ~(me | opp) & geo.full


def flips(me: int, opp: int, square: int, size: int) -> int:
    """Bitmask of the opponent discs flipped when the side to move plays on `square`."""
    geo = _GEOMETRIES.get(size) or geometry(size)
    bit = 1 << square
    flipped = 0
    for s, mask in geo.shifts:
        line = 0
        x = ((bit << s) if s > 0 else (bit >> -s)) & mask
        while x & opp:
            line |= x
            x = ((x << s) if s > 0 else (x >> -s)) & mask
        if x & me:
            flipped |= line
    return flipped


def squares_of(mask: int) -> list[int]:
    """The square indices of the set bits of `mask`, in increasing order."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def start_bits(size: int) -> tuple[int, int]:
    """(black, white) bitboards of the usual start: White on the two centre squares of the
    main diagonal (d4 and e5 on 8x8, c3 and d4 on 6x6), Black on the other two."""
    geometry(size)
    h = size // 2
    white = (1 << ((h - 1) * size + h - 1)) | (1 << (h * size + h))
    black = (1 << ((h - 1) * size + h)) | (1 << (h * size + h - 1))
    return black, white


@dataclass(frozen=True)
class Position:
    """An Othello position seen from the side to move. Immutable and hashable."""

    size: int
    me: int
    opp: int
    black_to_move: bool

    @classmethod
    def start(cls, size: int = DEFAULT_SIZE) -> Position:
        black, white = start_bits(size)
        return cls(size, black, white, True)

    @classmethod
    def from_colors(cls, size: int, black: int, white: int, black_to_move: bool) -> Position:
        geo = geometry(size)
        if black & white or (black | white) & ~geo.full:
            raise ValueError("black and white discs overlap or lie off the board")
        return cls(size, black, white, True) if black_to_move else cls(size, white, black, False)

    @property
    def black(self) -> int:
        return self.me if self.black_to_move else self.opp

    @property
    def white(self) -> int:
        return self.opp if self.black_to_move else self.me

    @property
    def pass_move(self) -> int:
        return self.size * self.size

    def empties(self) -> int:
        return self.size * self.size - (self.me | self.opp).bit_count()

    def legal_mask(self) -> int:
        """Bitmask of legal squares (0 means the side to move must pass, or the game is over)."""
        return legal_moves(self.me, self.opp, self.size)

    def legal_moves(self) -> list[int]:
        """Legal moves as move numbers; `[pass_move]` when the side to move must pass, `[]` when
        the game is over."""
        mask = self.legal_mask()
        if mask:
            return squares_of(mask)
        if legal_moves(self.opp, self.me, self.size):
            return [self.pass_move]
        return []

    def is_over(self) -> bool:
        return not self.legal_mask() and not legal_moves(self.opp, self.me, self.size)

    def play(self, move: int) -> Position:
        """The position after `move`; raises IllegalMoveError if it is not legal here."""
        if move == self.pass_move:
            if self.legal_mask() or self.is_over():
                raise IllegalMoveError("pass is only legal when the side to move has no move")
            return Position(self.size, self.opp, self.me, not self.black_to_move)
        if not (0 <= move < self.pass_move) or not (self.legal_mask() >> move) & 1:
            raise IllegalMoveError(f"{move_name(move, self.size)} is not a legal move here")
        f = flips(self.me, self.opp, move, self.size)
        return Position(self.size, self.opp & ~f, self.me | f | (1 << move),
                        not self.black_to_move)

    def counts(self) -> tuple[int, int]:
        """(black discs, white discs)."""
        return self.black.bit_count(), self.white.bit_count()

    def margin(self) -> int:
        """Disc difference from the side to move's point of view (empties count for nobody)."""
        return self.me.bit_count() - self.opp.bit_count()

    def winner(self) -> str:
        """'black', 'white' or 'draw' by disc count (meaningful once the game is over)."""
        b, w = self.counts()
        return "black" if b > w else "white" if w > b else "draw"

    def __str__(self) -> str:
        return render(self)


class IllegalMoveError(ValueError):
    """A move that the rules do not allow in the given position."""


def move_name(move: int, size: int) -> str:
    """'a1'-style name of a move (columns a.., rows 1.., a1 top-left), or 'pass'."""
    if move == size * size:
        return "pass"
    if not 0 <= move < size * size:
        return f"<move {move}>"
    row, col = divmod(move, size)
    return f"{chr(ord('a') + col)}{row + 1}"


def parse_move(text: str, size: int) -> int:
    """Inverse of move_name; raises ValueError with a readable reason for malformed input."""
    t = text.strip().lower()
    if t == "pass":
        return size * size
    last_col = chr(ord("a") + size - 1)
    if len(t) < 2 or not ("a" <= t[0] <= last_col) or not t[1:].isdigit():
        raise ValueError(f"{text.strip()!r} is not a move: write a column a-{last_col} and a row "
                         f"1-{size} (like c4), or 'pass'")
    row = int(t[1:])
    if not 1 <= row <= size:
        raise ValueError(f"{text.strip()!r} is off the board: rows go from 1 to {size}")
    return (row - 1) * size + (ord(t[0]) - ord("a"))


def replay_moves(text: str, size: int) -> Position:
    """The position after space- or comma-separated moves from the start (write `pass` where a
    side has no move); ValueError names the bad ply."""
    pos = Position.start(size)
    for ply, token in enumerate(text.replace(",", " ").split(), start=1):
        try:
            pos = pos.play(parse_move(token, size))
        except ValueError as e:  # IllegalMoveError included
            side = "black" if pos.black_to_move else "white"
            hint = " (it has no legal move: write 'pass')" if pos.legal_moves() == [
                pos.pass_move] else ""
            raise ValueError(f"ply {ply} ({side}{hint}): {e}") from None
    return pos


def render(pos: Position, last_move: int | None = None, mark_legal: bool = False) -> str:
    """Text board: X = Black, O = White, '*' marks legal moves when asked, '()' the last move."""
    size = pos.size
    legal = pos.legal_mask() if mark_legal else 0
    lines = ["   " + "".join(f" {chr(ord('a') + c)} " for c in range(size)).rstrip()]
    for r in range(size):
        cells = []
        for c in range(size):
            sq = r * size + c
            bit = 1 << sq
            ch = "X" if pos.black & bit else "O" if pos.white & bit else "*" if legal & bit else "."
            cells.append(f"({ch})" if sq == last_move else f" {ch} ")
        lines.append(f"{r + 1:>2} " + "".join(cells).rstrip())
    return "\n".join(lines)
