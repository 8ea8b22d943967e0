"""Solve a position exactly: `python -m othello.solve --size 6 --moves "c2 b4 ..."`.

Replays the moves from the start (write `pass` where a side has no move) and prints
`margin M best MOVE`: the perfect-play final disc margin for the side to move and a move that
achieves it.
"""

from __future__ import annotations

import argparse
import sys

from othello.rules.board import SIZES, move_name, replay_moves
from othello.rules.solver import solve

__all__ = ["main", "replay_moves"]  # replay_moves now lives in othello.rules.board


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the perfect-play disc margin for the side "
                                     "to move and a best move, after replaying --moves.")
    parser.add_argument("--size", type=int, default=6, choices=SIZES, help="board size")
    parser.add_argument("--moves", default="", help='moves from the start, e.g. "c2 b4 pass"')
    parser.add_argument("--max-empties", type=int, default=20,
                        help="refuse positions with more empty squares (the search is exponential)")
    args = parser.parse_args(argv)
    try:
        pos = replay_moves(args.moves, args.size)
    except ValueError as e:
        parser.exit(2, f"error: {e}\n")
    if pos.empties() > args.max_empties:
        parser.exit(2, f"error: {pos.empties()} empty squares is more than --max-empties "
                    f"{args.max_empties}; play more moves or raise the limit\n")
    margin, best = solve(pos)
    print(f"margin {margin} best {move_name(best, args.size) if best >= 0 else 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
