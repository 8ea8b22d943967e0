"""Move accuracy over whole games, judged by the perfect-play oracle.

For every move an agent made (recorded by `alphazero.arena.play_match(record=True)`) the oracle
gives the perfect-play margin of the position before the move (the best the mover could get) and
after it (what the chosen move still gets, with perfect play from both sides afterwards). A move
*keeps the outcome* when both have the same sign (win / draw / loss); the *discs it gives away*
are half the margin it loses (one disc changing hands moves the margin by two). Forced moves (one
legal move, or a pass) are counted apart: they cannot be wrong and would inflate the share.

Exact values from 20-26 empties take seconds to a minute each here, so the caller chooses how
many games to judge; the oracle's on-disk cache makes a rerun of the same games cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from alphazero.arena import ArenaResult, Policy, play_match
from common.tally import Tally
from othello.az.game import OthelloGame
from othello.rules.board import Position
from othello.rules.oracle import Oracle


@dataclass
class JudgedMoves:
    """One row per recorded move with a choice, plus the count of forced moves."""

    game: np.ndarray  # int [n]: the game the move was played in
    empties: np.ndarray  # int [n]: empty squares before the move
    best: np.ndarray  # int [n]: perfect-play margin before the move (mover's view)
    after: np.ndarray  # int [n]: perfect-play margin after the chosen move (mover's view)
    forced: int = 0
    games: int = 0  # games the moves came from (also those with only forced moves)

    @property
    def kept(self) -> np.ndarray:
        return np.sign(self.after) == np.sign(self.best)

    @property
    def discs_lost(self) -> np.ndarray:
        return (self.best - self.after) / 2

    def summary(self, z: float = 1.96) -> dict:
        """Shares with Wilson intervals over moves, and discs given away per game with a normal
        interval over games (moves of one game are not independent; games are)."""
        n, kept = len(self.best), int(self.kept.sum())
        accuracy = Tally(wins=kept, losses=n - kept)
        perfect = Tally(wins=int((self.after == self.best).sum()),
                        losses=int((self.after != self.best).sum()))
        per_game = np.zeros(self.games)
        np.add.at(per_game, self.game, self.discs_lost)
        half = z * per_game.std(ddof=1) / math.sqrt(self.games) if self.games > 1 else math.inf
        mean = float(per_game.mean()) if self.games else 0.0
        return {"games": self.games, "moves_with_choice": n, "forced_moves": self.forced,
                "keeps_outcome": accuracy.score, "keeps_outcome_wilson95": accuracy.interval(z),
                "best_margin": perfect.score, "best_margin_wilson95": perfect.interval(z),
                "discs_given_away_per_game": mean,
                "discs_given_away_per_game_95": (max(0.0, mean - half), mean + half),
                "outcome_errors": n - kept}


def judge_moves(oracle: Oracle, moves: Iterable[tuple[int, np.ndarray, int]], games: int,
                progress: bool = True) -> JudgedMoves:
    """Judge recorded (game, state [me, opp], action) moves; `games` is how many games they
    came from (game numbers must be below it)."""
    size, rows, forced = oracle.size, [], 0
    last: dict[int, int] = {}  # game -> the latest value there: a guess that saves proofs
    moves = list(moves)
    for g, state, action in tqdm(moves, desc="judging moves", disable=not progress,
                                 leave=False):
        if not 0 <= g < games:
            raise ValueError(f"game {g} of a move is outside the {games} games judged")
        pos = Position(size, int(state[0]), int(state[1]), True)
        if len(pos.legal_moves()) < 2:
            forced += 1
            continue
        after = -oracle.value(pos.play(int(action)), guess=-last.get(g, 0))
        # Usually the move is the best one: one null-window proof then replaces a full solve.
        best = oracle.value(pos, guess=after) if oracle.at_least(pos, after + 1) else after
        last[g] = after
        rows.append((g, pos.empties(), best, after))
    table = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return JudgedMoves(game=table[:, 0], empties=table[:, 1], best=table[:, 2],
                       after=table[:, 3], forced=forced, games=games)


def moves_of_openings(result: ArenaResult, openings: int
                      ) -> tuple[list[tuple[int, np.ndarray, int]], int]:
    """A's recorded moves in the games of the first `openings` openings of a `play_match`
    (both colours), with the games renumbered 0..2 * openings - 1, and that game count."""
    if result.a_moves is None:
        raise ValueError("judging moves needs a match played with record=True")
    pairs = result.games // 2
    openings = min(openings, pairs)
    number = {g: g for g in range(openings)} | {pairs + g: openings + g for g in range(openings)}
    return [(number[g], s, a) for g, s, a in result.a_moves if g in number], 2 * openings


def final_discs(result: ArenaResult) -> tuple[np.ndarray, np.ndarray]:
    """int [games] x 2: A's and B's discs at the end of each game of a recorded match."""
    if result.final_states is None or result.a_to_move_final is None:
        raise ValueError("final disc counts need a match played with record=True")
    counts = np.bitwise_count(result.final_states).astype(np.int64)  # [mover, other]
    a_moves = result.a_to_move_final
    return (np.where(a_moves, counts[:, 0], counts[:, 1]),
            np.where(a_moves, counts[:, 1], counts[:, 0]))


def versus_perfect(game: OthelloGame, agent: Policy, perfect: Policy,
                   rng: np.random.Generator) -> tuple[dict, ArenaResult]:
    """Two games from the start position against perfect play, the agent Black in the first
    and White in the second: per colour the result for the agent and the final disc counts
    (agent first), plus the recorded match for judging its moves."""
    result = play_match(game, agent, perfect, 2, 0, rng, openings=game.initial_states(1),
                        record=True)
    mine, theirs = final_discs(result)
    games = {}
    for g in range(2):
        colour = "black" if result.a_first[g] else "white"
        games[f"as_{colour}"] = {"result": int(result.a_result[g]),
                                 "discs": [int(mine[g]), int(theirs[g])]}
    return games, result


def describe(what: str, s: dict) -> str:
    """One line for a `JudgedMoves.summary()`."""
    low, high = s["keeps_outcome_wilson95"]
    dlow, dhigh = s["discs_given_away_per_game_95"]
    return (f"  move accuracy over {what}: {s['keeps_outcome']:.3f} keep the outcome "
            f"(95% CI {low:.3f}-{high:.3f}, {s['moves_with_choice']} moves with a choice, "
            f"{s['forced_moves']} forced), {s['best_margin']:.3f} keep the best margin; "
            f"{s['discs_given_away_per_game']:.2f} discs given away per game "
            f"(95% CI {dlow:.2f}-{dhigh:.2f})")
