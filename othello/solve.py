"""Solve a position exactly: `python -m othello.solve --size 6 --moves "c2 b4 ..."`.

Replays the moves from the start (write `pass` where a side has no move), or reads a whole
board with --board, and prints `margin M best MOVE`: the perfect-play final disc margin for the
side to move (empty squares count for nobody) and a move that achieves it. --wld prints
`result win|draw|loss best MOVE` from a much cheaper search; --all-moves adds one line
`MOVE margin` per legal move. Proven values of big positions are kept in the oracle's sqlite
cache (runs/oracle/NxN.sqlite, plus the committed results/oracle/NxN.sqlite).
"""

from __future__ import annotations

import argparse
import sys

from common.cli import positive_int
from othello.board import SIZES, IllegalMoveError, Position, move_name, parse_move
from othello.rules.cache import CacheCorruptError
from othello.rules.oracle import Oracle


def replay_moves(text: str, size: int) -> Position:
    """The position after the space- or comma-separated moves; ValueError names a bad ply."""
    pos = Position.start(size)
    for ply, token in enumerate(text.replace(",", " ").split(), start=1):
        try:
            pos = pos.play(parse_move(token, size))
        except (IllegalMoveError, ValueError) as e:
            side = "black" if pos.black_to_move else "white"
            hint = " (it has no legal move: write 'pass')" if pos.legal_moves() == [
                pos.pass_move] else ""
            raise ValueError(f"ply {ply} ({side}{hint}): {e}") from None
    return pos


def parse_board(text: str, size: int, black_to_move: bool) -> Position:
    """A position from N*N characters row by row (a1 first): X or B black, O or W white, . or -
    empty; spaces and slashes are ignored. ValueError says what is wrong."""
    cells = [c for c in text.upper() if c not in " /\n\t"]
    if len(cells) != size * size:
        raise ValueError(f"--board has {len(cells)} squares, a {size}x{size} board has "
                         f"{size * size}")
    black = white = 0
    for sq, c in enumerate(cells):
        if c in "XB":
            black |= 1 << sq
        elif c in "OW":
            white |= 1 << sq
        elif c not in ".-":
            raise ValueError(f"--board square {sq + 1} is {c!r}: use X, O or .")
    return Position.from_colors(size, black, white, black_to_move)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the perfect-play disc margin for the side "
                                     "to move and a best move, after replaying --moves.")
    parser.add_argument("--size", type=int, default=6, choices=SIZES, help="board size")
    parser.add_argument("--moves", default="", help='moves from the start, e.g. "c2 b4 pass"')
    parser.add_argument("--board", default=None,
                        help="a whole board instead of --moves: N*N characters X/O/. row by row")
    parser.add_argument("--to-move", choices=("black", "white"), default="black",
                        help="side to move for --board")
    parser.add_argument("--wld", action="store_true", help="only win / draw / loss (faster)")
    parser.add_argument("--all-moves", action="store_true", help="the margin of every move")
    parser.add_argument("--max-empties", type=int, default=24,
                        help="refuse positions with more empty squares (the search is "
                             "exponential; the 6x6 start takes minutes)")
    parser.add_argument("--cache", default="default",
                        help="sqlite cache of proven values (default runs/oracle/NxN.sqlite)")
    parser.add_argument("--no-cache", action="store_true", help="keep nothing on disk")
    parser.add_argument("--table-bits", type=positive_int, default=22,
                        help="transposition table of 2^B entries (24 bytes each)")
    args = parser.parse_args(argv)
    try:
        if args.board is not None:
            pos = parse_board(args.board, args.size, args.to_move == "black")
        else:
            pos = replay_moves(args.moves, args.size)
    except ValueError as e:
        parser.exit(2, f"error: {e}\n")
    if pos.empties() > args.max_empties:
        parser.exit(2, f"error: {pos.empties()} empty squares is more than --max-empties "
                    f"{args.max_empties}; play more moves or raise the limit\n")
    if not 8 <= args.table_bits <= 30:
        parser.exit(2, "error: --table-bits must be 8-30\n")
    try:
        oracle = Oracle(args.size, cache_path=None if args.no_cache else args.cache,
                        table_bits=args.table_bits)
    except (CacheCorruptError, OSError) as e:
        parser.exit(2, f"error: {e}\n")
    with oracle:
        for note in oracle.notes:
            print(f"warning: {note}", file=sys.stderr)
        if args.wld:
            result = oracle.engine.wld(pos)
            moves = pos.legal_moves()
            best = next((m for m in moves if -oracle.engine.wld(pos.play(m)) == result), -1)
            word = {1: "win", 0: "draw", -1: "loss"}[result]
            print(f"result {word} best {move_name(best, args.size) if best >= 0 else 'none'}")
        else:
            margin, best = oracle.best_move(pos)
            print(f"margin {margin} best {move_name(best, args.size) if best >= 0 else 'none'}")
        if args.all_moves:
            for m in pos.legal_moves():
                child = pos.play(m)
                v = -oracle.engine.wld(child) if args.wld else -oracle.value(child)
                print(f"{move_name(m, args.size)} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
