"""The pieces of bench/bench_agent_limits.py: perfect play taking over at a number of empties,
and scores split by the openings' perfect-play values."""

import numpy as np

from alphazero.arena import ArenaResult
from bench.bench_agent_limits import perfect_from, theory_split
from othello.rules.batch import states_from_positions
from othello.rules.engine import Engine
from tests.othello_helpers import random_game


def test_perfect_play_takes_over_from_the_given_empties_only():
    """Positions with at most 10 empties get a move that keeps their exact value; others keep
    the first legal move of the base policy, which is often not optimal."""
    engine, rng = Engine(table_bits=16), np.random.default_rng(3)
    positions = [p for _ in range(6) for p in random_game(6, rng)
                 if not p.is_over() and len(p.legal_moves()) > 1 and 8 <= p.empties() <= 13]
    first = [p.legal_moves()[0] for p in positions]
    play = perfect_from(lambda states: np.array(first), 6, 10, engine)
    actions = play(states_from_positions(positions))
    replaced = 0
    for pos, action, base in zip(positions, actions, first, strict=True):
        if pos.empties() > 10:
            assert action == base
            continue
        values = engine.move_values(pos)
        assert values[int(action)] == max(values.values())
        replaced += values[base] != max(values.values())
    assert replaced > 3  # the base policy was wrong there, so the takeover is seen


def test_scores_split_by_the_value_of_the_agents_side():
    # two openings: the first won for its side to move, the second lost; four games, the agent
    # moving first in games 0 and 1 (so its side is won, lost, lost, won)
    result = ArenaResult(wins=2, draws=1, losses=1, a_first=np.array([True, True, False, False]),
                         a_result=np.array([1, 0, -1, 1]))
    split = theory_split(result, np.array([1, -1]))
    assert split["won"]["games"] == 2 and split["won"]["score"] == 1.0
    assert split["lost"]["games"] == 2 and split["lost"]["score"] == 0.25
    assert split["drawn"]["games"] == 0
