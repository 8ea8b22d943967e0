"""Perft: count the leaves of the game tree to a fixed depth, the standard move-generator check.

Convention (the one of the published 8x8 tables): a pass is a ply, so a position whose mover has
no move has exactly one child; a finished game (neither side can move) is a leaf even before the
full depth and counts once.

    python -m othello.rules.perft --size 8 --depth 9
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from common.config import add_config_flags, at_least, config_from_args, knob
from othello.rules.board import SIZES, Position, flips, legal_moves, squares_of


def perft_bits(me: int, opp: int, size: int, depth: int) -> int:
    """Leaf count below the position (me to move) at `depth` plies; bulk-counts the last ply."""
    moves = legal_moves(me, opp, size)
    if not moves:
        if not legal_moves(opp, me, size):
            return 1  # game over: a leaf
        return 1 if depth == 1 else perft_bits(opp, me, size, depth - 1)
    if depth == 1:
        return moves.bit_count()
    total = 0
    for sq in squares_of(moves):
        f = flips(me, opp, sq, size)
        total += perft_bits(opp & ~f, me | f | (1 << sq), size, depth - 1)
    return total


def perft(pos: Position, depth: int) -> int:
    """Leaf count of the game tree below `pos` at `depth` plies (depth 0 counts the position)."""
    if depth == 0:
        return 1
    return perft_bits(pos.me, pos.opp, pos.size, depth)


@dataclass(frozen=True)
class PerftConfig:
    size: int = knob(6, "board size", choices=SIZES)
    depth: int = knob(6, "deepest depth to count", check=at_least(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print perft counts from the start position, "
                                     "one line 'depth count' per depth from 1 to --depth.")
    add_config_flags(parser, PerftConfig)
    cfg, _ = config_from_args(parser.parse_args(argv), PerftConfig, PerftConfig())
    start = Position.start(cfg.size)
    for d in range(1, cfg.depth + 1):
        print(d, perft(start, d), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
