"""Games between players, their JSON-lines records, and match statistics.

A record is one JSON object per game:
    {"size": 6, "players": {"black": "greedy", "white": "alphabeta:3"}, "opening_plies": 4,
     "moves": ["d3", "c5", ..., "pass", ...], "black": 20, "white": 16, "winner": "black"}
`moves` holds every ply from the start, the random opening plies included, with `pass` where a side
had no move; the final two passes of a finished game are implied, not written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from common.tally import Tally
from othello.players.registry import Player
from othello.rules.board import IllegalMoveError, Position, move_name, parse_move


class RecordError(ValueError):
    """A game record that is malformed, holds an illegal move, or states a wrong result."""


def play_game(black: Player, white: Player, size: int, rng: np.random.Generator,
              opening_plies: int = 0) -> dict:
    """Play one game; the first `opening_plies` plies are uniformly random legal moves."""
    pos = Position.start(size)
    moves: list[str] = []
    while not pos.is_over():
        if len(moves) < opening_plies:
            legal = pos.legal_moves()
            move = legal[int(rng.integers(len(legal)))]
        else:
            player = black if pos.black_to_move else white
            move = player.choose(pos, rng)
        moves.append(move_name(move, size))
        pos = pos.play(move)
    b, w = pos.counts()
    return {"size": size, "players": {"black": black.name, "white": white.name},
            "opening_plies": opening_plies, "moves": moves, "black": b, "white": w,
            "winner": pos.winner()}


def random_position(size: int, empties: int, rng: np.random.Generator) -> Position:
    """A position with exactly `empties` empty squares and a move to make, reached by uniformly
    random play from the start (games that end or skip past it are replayed)."""
    while True:
        pos = Position.start(size)
        while pos.empties() > empties and not pos.is_over():
            moves = pos.legal_moves()
            pos = pos.play(moves[int(rng.integers(len(moves)))])
        if pos.empties() == empties and not pos.is_over():
            return pos


def replay(record: dict) -> Position:
    """Replay a record from the start, checking every move and the stated result.

    Returns the final position; raises RecordError naming the first problem.
    """
    try:
        size = int(record["size"])
        moves = list(record["moves"])
    except (KeyError, TypeError, ValueError):
        raise RecordError("record needs 'size' and a list 'moves'") from None
    try:
        pos = Position.start(size)
    except ValueError as e:
        raise RecordError(str(e)) from None
    for ply, text in enumerate(moves, start=1):
        try:
            pos = pos.play(parse_move(str(text), size))
        except (IllegalMoveError, ValueError) as e:
            raise RecordError(f"ply {ply} ({text}): {e}") from None
    if not pos.is_over():
        raise RecordError(f"the game is not over after {len(moves)} plies")
    b, w = pos.counts()
    stated = (record.get("black"), record.get("white"), record.get("winner"))
    if stated != (b, w, pos.winner()):
        raise RecordError(f"stated result {stated} but the moves give ({b}, {w}, "
                          f"{pos.winner()!r})")
    return pos


def write_records(path: str | Path, records: Iterable[dict]) -> None:
    """Append records to a JSON-lines file, each line flushed as it is written."""
    with open(path, "a") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
            f.flush()


def read_records(path: str | Path) -> Iterator[dict]:
    """Records from a JSON-lines file; RecordError on a line that is not JSON, except a torn
    last line (a writer killed mid-line), which is skipped with a warning."""
    with open(path) as f:
        lines = f.readlines()
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                if lineno == len(lines) and not line.endswith("\n"):
                    print(f"warning: {path}:{lineno}: skipping a torn last line (a writer "
                          "stopped mid-line)", file=sys.stderr)
                    return
                raise RecordError(f"{path}:{lineno} is not a JSON object") from None


@dataclass
class MatchResult(Tally):
    """Results from player 1's point of view over games with alternating colours."""

    def add(self, record: dict, p1_color: str) -> None:
        if record["winner"] == "draw":
            self.draws += 1
        elif record["winner"] == p1_color:
            self.wins += 1
        else:
            self.losses += 1


def play_match(p1: Player, p2: Player, size: int, games: int, rng: np.random.Generator,
               opening_plies: int = 4, progress: bool = False,
               on_game: Callable[[dict], None] | None = None) -> tuple[MatchResult, list[dict]]:
    """Play `games` games, player 1 taking Black in the even-numbered ones; `on_game` gets each
    record as its game ends (e.g. to append it to a file, so a crash loses no finished game)."""
    result, records = MatchResult(), []
    for g in tqdm(range(games), desc=f"{p1.name} vs {p2.name}", disable=not progress,
                  leave=False):
        p1_black = g % 2 == 0
        black, white = (p1, p2) if p1_black else (p2, p1)
        rec = play_game(black, white, size, rng, opening_plies)
        result.add(rec, "black" if p1_black else "white")
        records.append(rec)
        if on_game is not None:
            on_game(rec)
    return result, records
