"""Win / draw / loss tallies with a score and its confidence interval, for any two-player match."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Tally:
    """Results from one side's point of view."""

    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """Points per game (win 1, draw 1/2)."""
        return (self.wins + 0.5 * self.draws) / max(self.games, 1)

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """Wilson score interval for the score (draws count as half a win)."""
        n = self.games
        if n == 0:
            return 0.0, 1.0
        p = self.score
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)
