"""Play Othello in the terminal, or pit two players against each other.

    python othello/play.py --human                       # you against the strongest player
    python othello/play.py --human --opponent greedy --color white
    python othello/play.py --games 10 --p1 alphabeta:3 --p2 greedy --record games.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.config import add_config_flags, add_run_flags, at_least, config_from_args, knob
from common.process import setup_process
from common.runs import RunFolderError, check_file_writable
from othello.players.match import play_match, write_records
from othello.players.perfect import PerfectPlayer
from othello.players.registry import PlayerSpecError, available, make_player
from othello.rules.board import (
    SIZES,
    IllegalMoveError,
    Position,
    move_name,
    parse_move,
    render,
)

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


@dataclass(frozen=True)
class PlayConfig:
    """A game against you in the terminal (--human), or a match between two players."""

    size: int = knob(6, "board size", choices=SIZES)
    seed: int = knob(0, "seed for openings and tie-breaks", check=at_least(0))
    human: bool = knob(False, "play yourself in the terminal")
    opponent: str = knob(STRONGEST, "opponent spec for --human")
    color: str = knob("black", "your colour with --human (Black moves first)",
                      choices=("black", "white"))
    games: int = knob(10, "games to pit", check=at_least(1))
    p1: str = knob("alphabeta:3", "first player spec")
    p2: str = knob("greedy", "second player spec")
    opening_plies: int = knob(4, "random plies at the start of each pitted game",
                              check=at_least(0))
    record: Path | None = knob(None, "append every game as a JSON line here")


def build_parser() -> argparse.ArgumentParser:
    players_help = "; ".join(f"{k}: {v}" for k, v in available().items())
    parser = argparse.ArgumentParser(
        description="Play Othello against a player (--human) or pit two players (--games).",
        epilog=f"Player specs: {players_help}")
    add_run_flags(parser)
    add_config_flags(parser, PlayConfig)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, PlayConfig, PlayConfig())
    try:
        if cfg.human:
            human_game(cfg.opponent, cfg.size, cfg.color == "black", cfg.seed)
            return 0
        p1, p2 = make_player(cfg.p1, cfg.size), make_player(cfg.p2, cfg.size)
        if cfg.record:  # fail before playing, not after, if the record cannot be written
            check_file_writable(cfg.record, "--record file")
    except KeyboardInterrupt:
        print("\ninterrupted: game abandoned", file=sys.stderr)
        return 130
    except (PlayerSpecError, RunFolderError) as e:
        parser.exit(2, f"error: {e}\n")
    rng = np.random.default_rng(cfg.seed)
    # each game is appended (and flushed) as it ends: a crash or a full disk loses no finished one
    save = (lambda rec: write_records(cfg.record, [rec])) if cfg.record else None
    try:
        result, records = play_match(p1, p2, cfg.size, cfg.games, rng, cfg.opening_plies,
                                     progress=not args.no_progress, on_game=save)
    except OSError as e:
        parser.exit(2, f"error: cannot write --record {cfg.record}: {e.strerror or e} (the games "
                    "finished before this one are in it)\n")
    except KeyboardInterrupt:
        print("\ninterrupted" + (f" (finished games are in {cfg.record})" if cfg.record else ""),
              file=sys.stderr)
        return 130
    low, high = result.interval()
    print(f"{p1.name} vs {p2.name} on {cfg.size}x{cfg.size}, {result.games} games "
          f"(colours alternate, {cfg.opening_plies} random opening plies): "
          f"{result.wins} wins, {result.draws} draws, {result.losses} losses for {p1.name}; "
          f"score {result.score:.3f} (95% CI {low:.3f}-{high:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
