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
from dataclasses import dataclass

from common.config import add_config_flags, config_from_args, knob
from othello.rules.board import SIZES, Position, move_name, replay_moves
from othello.rules.cache import CacheCorruptError
from othello.rules.oracle import Oracle


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


def _table_bits(bits: int) -> str | None:
    return None if 8 <= bits <= 30 else "expected 8-30"


@dataclass(frozen=True)
class SolveConfig:
    size: int = knob(6, "board size", choices=SIZES)
    moves: str = knob("", 'moves from the start, e.g. "c2 b4 pass"')
    board: str | None = knob(None, "a whole board instead of --moves: N*N characters X/O/. "
                             "row by row")
    to_move: str = knob("black", "side to move for --board", choices=("black", "white"))
    wld: bool = knob(False, "only win / draw / loss (faster)")
    all_moves: bool = knob(False, "the margin of every move")
    max_empties: int = knob(24, "refuse positions with more empty squares (the search is "
                            "exponential; the 6x6 start takes minutes)")
    cache: str = knob("default", "sqlite cache of proven values (default runs/oracle/NxN.sqlite)")
    no_cache: bool = knob(False, "keep nothing on disk")
    table_bits: int = knob(22, "transposition table of 2^B entries (24 bytes each)",
                           check=_table_bits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the perfect-play disc margin for the side "
                                     "to move and a best move, after replaying --moves.")
    add_config_flags(parser, SolveConfig)
    args, _ = config_from_args(parser.parse_args(argv), SolveConfig, SolveConfig())
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
