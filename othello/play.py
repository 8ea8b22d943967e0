"""Play Othello in the terminal, or pit two players against each other.

    python othello/play.py --human                       # you against the strongest player
    python othello/play.py --human --opponent greedy --color white
    python othello/play.py --games 10 --p1 alphabeta:3 --p2 greedy --record games.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

if not __package__:  # run as a file: import the project, not sibling modules, by their full names
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402

from common.cli import nonnegative_int, positive_int  # noqa: E402
from othello.board import (  # noqa: E402
    SIZES,
    IllegalMoveError,
    Position,
    move_name,
    parse_move,
    render,
)
from othello.match import play_match, write_records  # noqa: E402
from othello.players import PlayerSpecError, available, make_player  # noqa: E402
from othello.rules.perfect import PerfectPlayer  # noqa: E402

STRONGEST = "solver"  # alpha-beta in the midgame, perfect play in the endgame
HINT_FALLBACK = "solver"  # hints come from the oracle; this player where it has no quick answer
HELP = ("Type a move like c4, 'pass' when you have no move, 'hint' for a suggestion, 'undo' to "
        "take back your last move, 'board' to redraw, 'quit' to stop.")


def describe(pos: Position, human_black: bool, last_move: int | None) -> str:
    b, w = pos.counts()
    you = "Black (X)" if human_black else "White (O)"
    lines = [render(pos, last_move, mark_legal=pos.black_to_move == human_black),
             f"Black (X) {b}  White (O) {w}   you play {you}"]
    if last_move is not None:
        lines[-1] += f"   last move: {move_name(last_move, pos.size)}"
    return "\n".join(lines)


def human_game(opponent_spec: str, size: int, human_black: bool, seed: int,
               read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> str:
    """Interactive game; returns the winner. Bad input never ends the game."""
    rng = np.random.default_rng(seed)
    opponent = make_player(opponent_spec, size)
    adviser = PerfectPlayer(size, fallback=make_player(HINT_FALLBACK, size))
    history: list[tuple[Position, int | None]] = []  # states before each human move
    pos, last = Position.start(size), None
    write(f"You play {'Black (X), first' if human_black else 'White (O), second'} against "
          f"{opponent.name}. {HELP}")
    write(describe(pos, human_black, last))
    while not pos.is_over():
        if pos.black_to_move != human_black:
            move = opponent.choose(pos, rng)
            pos, last = pos.play(move), move
            write(f"{opponent.name} plays {move_name(move, size)}")
            write(describe(pos, human_black, last))
            continue
        legal = pos.legal_moves()
        names = " ".join(move_name(m, size) for m in legal)
        try:
            text = read(f"your move ({names}): ").strip().lower()
        except EOFError:
            write("\ninput closed: game abandoned")
            return "abandoned"
        if text in ("quit", "exit", "q"):
            write("game abandoned")
            return "abandoned"
        if text in ("help", "?", ""):
            write(HELP)
        elif text == "board":
            write(describe(pos, human_black, last))
        elif text == "hint":
            move = adviser.choose(pos, rng)
            how = "perfect play" if adviser.last_was_exact else f"{HINT_FALLBACK}, not proven"
            write(f"hint: {move_name(move, size)} ({how})")
        elif text == "undo":
            if not history:
                write("nothing to undo")
            else:
                pos, last = history.pop()
                write(describe(pos, human_black, last))
        else:
            try:
                move = parse_move(text, size)
                new = pos.play(move)
            except IllegalMoveError:
                write(f"{text} is not legal here; legal moves: {names}")
                continue
            except ValueError as e:
                write(str(e))
                continue
            history.append((pos, last))
            pos, last = new, move
            write(describe(pos, human_black, last))
    b, w = pos.counts()
    winner = pos.winner()
    verdict = "a draw" if winner == "draw" else (
        "you win" if (winner == "black") == human_black else f"{opponent.name} wins")
    write(f"game over: Black {b}, White {w}: {verdict}")
    return winner


def main(argv: list[str] | None = None) -> int:
    players_help = "; ".join(f"{k}: {v}" for k, v in available().items())
    parser = argparse.ArgumentParser(
        description="Play Othello against a player (--human) or pit two players (--games).",
        epilog=f"Player specs: {players_help}")
    parser.add_argument("--size", type=int, default=6, choices=SIZES, help="board size")
    parser.add_argument("--seed", type=int, default=0, help="seed for openings and tie-breaks")
    parser.add_argument("--human", action="store_true", help="play yourself in the terminal")
    parser.add_argument("--opponent", default=STRONGEST, help="opponent spec for --human")
    parser.add_argument("--color", choices=("black", "white"), default="black",
                        help="your colour with --human (Black moves first)")
    parser.add_argument("--games", type=positive_int, default=10, help="games to pit")
    parser.add_argument("--p1", default="alphabeta:3", help="first player spec")
    parser.add_argument("--p2", default="greedy", help="second player spec")
    parser.add_argument("--opening-plies", type=nonnegative_int, default=4,
                        help="random plies at the start of each pitted game")
    parser.add_argument("--record", type=Path, help="append every game as a JSON line here")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)

    try:
        if args.human:
            human_game(args.opponent, args.size, args.color == "black", args.seed)
            return 0
        p1, p2 = make_player(args.p1, args.size), make_player(args.p2, args.size)
        if args.record:  # fail before playing, not after, if the record cannot be written
            args.record.parent.mkdir(parents=True, exist_ok=True)
            args.record.touch()
    except PlayerSpecError as e:
        parser.exit(2, f"error: {e}\n")
    except OSError as e:
        parser.exit(2, f"error: cannot write --record {args.record}: {e.strerror}\n")
    rng = np.random.default_rng(args.seed)
    result, records = play_match(p1, p2, args.size, args.games, rng, args.opening_plies,
                                 progress=args.progress)
    if args.record:
        write_records(args.record, records)
    low, high = result.interval()
    print(f"{p1.name} vs {p2.name} on {args.size}x{args.size}, {result.games} games "
          f"(colours alternate, {args.opening_plies} random opening plies): "
          f"{result.wins} wins, {result.draws} draws, {result.losses} losses for {p1.name}; "
          f"score {result.score:.3f} (95% CI {low:.3f}-{high:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
