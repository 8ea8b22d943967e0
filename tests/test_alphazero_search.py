"""Batched MCTS and self-play: search finds forced wins, targets have the right signs."""

import numpy as np
import pytest

from alphazero.arena import play_match
from alphazero.evaluators import CachedEvaluator, masked_softmax, uniform_evaluator
from alphazero.mcts import SearchConfig, choose_actions, search
from alphazero.selfplay import self_play
from othello.az.evaluation import label_endgame
from othello.az.game import OthelloGame
from othello.rules.batch import states_from_positions
from othello.rules.board import parse_move
from othello.rules.solver import Solver
from tests.othello_helpers import from_diagram, random_game

# White (O) to move; only the corner a6 wins (a2 and b2 lose), found by the exact solver.
CORNER = """
. O O O O .
. . X O O X
X X X X X X
X X X O X X
X X X O X X
. X X X X X
"""
# Black (X) to move, 6 empties: only b3 wins; b6, c6 and f6 lose.
DEEP_WIN = """
X O O O O O
. X O X X O
. . X O X O
X O X X O O
X X O O O O
X . . O O .
"""


@pytest.mark.parametrize("diagram, black, winner, sims", [
    (CORNER, False, "a6", 200), (DEEP_WIN, True, "b3", 1500)])
def test_uniform_prior_search_finds_the_only_winning_move(diagram, black, winner, sims):
    pos = from_diagram(diagram, black)
    labels = label_endgame(Solver(6), pos)
    best = parse_move(winner, 6)
    assert labels[best] == 1 and all(v == -1 for m, v in labels.items() if m != best)
    game = OthelloGame(6)
    rng = np.random.default_rng(0)
    result = search(game, uniform_evaluator(game), states_from_positions([pos]),
                    SearchConfig(simulations=sims), rng)
    assert result.visits[0].argmax() == best
    assert result.visits[0].sum() == sims
    assert result.value[0] > 0  # the side to move is winning


def test_batched_search_equals_one_tree_at_a_time():
    game = OthelloGame(6)
    roots = states_from_positions([from_diagram(CORNER, False), from_diagram(DEEP_WIN, True)])
    cfg = SearchConfig(simulations=64)
    both = search(game, uniform_evaluator(game), roots, cfg, np.random.default_rng(0))
    for i in range(2):
        one = search(game, uniform_evaluator(game), roots[i:i + 1], cfg, np.random.default_rng(0))
        np.testing.assert_array_equal(one.visits[0], both.visits[i])


def test_search_only_visits_legal_moves_and_handles_a_forced_pass():
    game = OthelloGame(4)
    # Black to move has no move but White does: the only legal action is the pass (16).
    pos = from_diagram("""
    O O O O
    O O O O
    O O X .
    O O O .
    """, True)
    states = states_from_positions([pos])
    assert np.nonzero(game.legal_actions(states)[0])[0].tolist() == [16]
    result = search(game, uniform_evaluator(game), states, SearchConfig(simulations=10),
                    np.random.default_rng(0))
    assert result.visits[0, 16] == 10 and result.visits[0].sum() == 10
    assert result.value[0] < -0.5  # every line loses for Black (unexpanded leaves count 0)


def test_root_noise_keeps_priors_on_legal_moves():
    game = OthelloGame(6)
    states = game.initial_states(3)
    cfg = SearchConfig(simulations=8, noise_fraction=0.25, dirichlet_alpha=0.3)
    result = search(game, uniform_evaluator(game), states, cfg, np.random.default_rng(1))
    legal = game.legal_actions(states)
    np.testing.assert_allclose(result.prior.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(result.prior[~legal] == 0)
    assert not np.allclose(result.prior[0], result.prior[1])  # each root gets its own noise


def test_masked_softmax_and_action_choice():
    probs = masked_softmax(np.array([[0.0, np.log(3.0), 5.0]]), np.array([[True, True, False]]))
    np.testing.assert_allclose(probs, [[0.25, 0.75, 0.0]])
    visits = np.array([[1.0, 5.0, 0.0], [0.0, 0.0, 7.0]])
    assert choose_actions(visits, 0.0, np.random.default_rng(0)).tolist() == [1, 2]
    draws = [choose_actions(visits[:1], 1.0, np.random.default_rng(s))[0] for s in range(300)]
    assert 0.1 < np.mean(np.array(draws) == 0) < 0.25  # 1/6 expected; never the unvisited 2


class Countdown:
    """A one-action game lasting `length` plies that the last mover wins (or draws if asked)."""

    num_symmetries = 1

    def __init__(self, length: int, draw: bool = False):
        self.num_actions, self.length, self.draw = 1, length, draw

    def initial_states(self, n):
        return np.full((n, 1), self.length, dtype=np.int64)

    def legal_actions(self, states):
        return states > 0

    def next_states(self, states, actions):
        return states - 1

    def outcome(self, states):
        return np.full(len(states), 0.0 if self.draw else -1.0, dtype=np.float32)

    def encode(self, states):
        return states.astype(np.float32)


@pytest.mark.parametrize("length, draw, expected", [
    (3, False, [1, -1, 1]), (4, False, [-1, 1, -1, 1]), (3, True, [0, 0, 0])])
def test_value_targets_are_signed_for_the_side_to_move(length, draw, expected):
    game = Countdown(length, draw)
    data, stats = self_play(game, uniform_evaluator_for(game), games=3, concurrent=2,
                            config=SearchConfig(simulations=4), temperature_plies=0,
                            rng=np.random.default_rng(0))
    assert stats.games == 3 and len(data) == 3 * length
    np.testing.assert_array_equal(data.values, np.tile(expected, 3))
    np.testing.assert_array_equal(data.states[:length, 0], np.arange(length, 0, -1))
    # the first player wins odd-length games, draws are worth half a point
    assert stats.first_player_score == (0.5 if draw else float(length % 2))


def uniform_evaluator_for(game):
    def evaluate(states):
        legal = game.legal_actions(states).astype(np.float32)
        return legal / legal.sum(axis=1, keepdims=True), np.zeros(len(states), np.float32)
    return evaluate


def test_othello_self_play_targets_are_distributions_over_legal_moves():
    game = OthelloGame(4)
    data, stats = self_play(game, uniform_evaluator(game), games=4, concurrent=4,
                            config=SearchConfig(simulations=8, noise_fraction=0.25),
                            temperature_plies=4, rng=np.random.default_rng(3))
    legal = game.legal_actions(data.states)
    np.testing.assert_allclose(data.policies.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(data.policies[~legal] == 0)
    assert set(np.unique(data.values)) <= {-1.0, 0.0, 1.0}
    assert stats.positions == len(data)


def test_cached_evaluator_evaluates_each_state_once_and_returns_the_same_outputs():
    game = OthelloGame(6)
    calls = []

    def evaluate(states):
        calls.append(len(states))
        return uniform_evaluator(game)(states)[0], states[:, 0].astype(np.float32) % 7

    cached = CachedEvaluator(evaluate, capacity=6)
    rng = np.random.default_rng(0)
    states = states_from_positions(random_game(6, rng)[:4])
    batch = np.concatenate([states, states[:2]])  # duplicates inside one batch
    priors, values = cached(batch)
    assert calls == [4]
    np.testing.assert_array_equal(values, np.concatenate([states[:, 0], states[:2, 0]]) % 7)
    np.testing.assert_array_equal(priors, uniform_evaluator(game)(batch)[0])
    cached(states[1:3])
    assert calls == [4]  # all remembered
    cached(states_from_positions(random_game(6, rng)[5:8]))  # 4 + 3 > 6: the memory is reset
    assert calls == [4, 3] and len(cached.index) == 3


def test_search_value_blend_in_value_targets():
    # Length 2: the first mover loses (z = -1). Its 4-simulation search sees the unexpanded reply
    # once (value 0) and the lost end three times: root value -0.75. The second mover's search
    # only ever reaches its win: +1. Blending half and half gives -0.875 and +1.
    game = Countdown(2)
    data, _ = self_play(game, uniform_evaluator_for(game), games=1, concurrent=1,
                        config=SearchConfig(simulations=4), temperature_plies=0,
                        rng=np.random.default_rng(0), search_value_weight=0.5)
    np.testing.assert_allclose(data.values, [-0.875, 1.0])


def test_arena_pairs_openings_with_colours_swapped():
    game = OthelloGame(6)

    def first_legal(states):
        return game.legal_actions(states).argmax(axis=1)

    result = play_match(game, first_legal, first_legal, games=10, opening_plies=3,
                        rng=np.random.default_rng(0))
    assert result.games == 10 and result.a_first.tolist() == [True] * 5 + [False] * 5
    # the same deterministic policy on both sides: each pair's two games are the same game
    # with A on opposite sides, so A's results in a pair cancel
    np.testing.assert_array_equal(result.a_result[:5], -result.a_result[5:])
    assert result.score == 0.5


def test_arena_takes_given_openings_and_records_a_moves():
    game = OthelloGame(6)

    def first_legal(states):
        return game.legal_actions(states).argmax(axis=1)

    def last_legal(states):
        legal = game.legal_actions(states)
        return legal.shape[1] - 1 - legal[:, ::-1].argmax(axis=1)

    openings = game.initial_states(3)
    openings[1:] = game.next_states(openings[1:], first_legal(openings[1:]))
    result = play_match(game, first_legal, last_legal, games=0, opening_plies=0,
                        rng=np.random.default_rng(0), openings=openings, record=True)
    assert result.games == 6
    # replaying each game from its opening with A's recorded moves and B's policy gives back
    # exactly the recorded states and A's result
    by_game = {}
    for g, state, action in result.a_moves:
        by_game.setdefault(g, []).append((state, action))
    for g in range(6):
        state, a_turn = np.concatenate([openings, openings])[g:g + 1].copy(), g < 3
        moves = iter(by_game[g])
        while game.legal_actions(state).any():
            if a_turn:
                recorded, action = next(moves)
                np.testing.assert_array_equal(recorded, state[0])
                assert action == first_legal(state)[0]
                state = game.next_states(state, np.array([action]))
            else:
                state = game.next_states(state, last_legal(state))
            a_turn = not a_turn
        z = game.outcome(state)[0]
        assert result.a_result[g] == (z if a_turn else -z)
        assert next(moves, None) is None


def test_symmetry_averaged_evaluator_is_invariant_and_matches_the_views_by_hand():
    import torch

    from alphazero.evaluators import network_evaluator, symmetric_evaluator
    from othello.az.model import NetConfig, PolicyValueNet
    from othello.rules.symmetry import transform_move, transform_position

    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(size=6, width=32, blocks=1)).eval()
    game = OthelloGame(6)
    positions = [p for p in random_game(6, np.random.default_rng(4))[3:12] if p.legal_moves()]
    averaged = symmetric_evaluator(game, net)
    plain = network_evaluator(game, net)
    priors, values = averaged(states_from_positions(positions))
    # by hand: each of the 8 images through the plain evaluator, priors mapped back move by move
    for pos, prior, value in zip(positions, priors, values, strict=True):
        want_p, want_v = np.zeros(game.num_actions), 0.0
        for k in range(8):
            p_k, v_k = plain(states_from_positions([transform_position(pos, k)]))
            want_p += [p_k[0, transform_move(a, 6, k)] for a in range(game.num_actions)]
            want_v += v_k[0]
        np.testing.assert_allclose(prior, want_p / 8, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(value, want_v / 8, rtol=1e-4, atol=1e-6)
    # and so every image of a position gets the same value and the moved priors
    images = [transform_position(positions[0], k) for k in range(8)]
    p_img, v_img = averaged(states_from_positions(images))
    np.testing.assert_allclose(v_img, values[0], rtol=1e-5)
    for k in range(8):
        moved = [p_img[k, transform_move(a, 6, k)] for a in range(game.num_actions)]
        np.testing.assert_allclose(moved, priors[0], rtol=1e-4, atol=1e-7)
