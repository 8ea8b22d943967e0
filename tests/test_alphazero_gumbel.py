"""The Gumbel root (sequential halving, completed-Q targets, signs through passes) and
playout-cap randomisation in self-play."""

import hashlib
from dataclasses import replace

import numpy as np
import pytest

from alphazero.evaluators import uniform_evaluator
from alphazero.gumbel import completed_q, halving_schedule, improved_policy
from alphazero.mcts import SearchConfig, search
from alphazero.selfplay import self_play
from othello.az.evaluation import label_endgame
from othello.az.game import OthelloGame
from othello.rules.batch import states_from_positions
from othello.rules.board import Position
from othello.rules.solver import Solver
from tests.othello_helpers import from_diagram, random_game

GUMBEL = SearchConfig(root_search="gumbel")


@pytest.mark.parametrize("m, n, slots, keep", [
    # 2 phases of 16 / (2 * 4) = 2 visits for 4 actions, then the other 8 to the best 2
    (4, 16, [0, 1, 2, 3] * 2 + [0, 1] * 4, {0: 4, 8: 2}),
    # 10 // 8 = 1 visit each, the last phase takes the 6 left
    (4, 10, [0, 1, 2, 3] + [0, 1] * 3, {0: 4, 4: 2}),
    # 3 actions: 8 // 6 = 1 visit each, 5 left round-robin over the best 2
    (3, 8, [0, 1, 2, 0, 1, 0, 1, 0], {0: 3, 3: 2}),
    # 16 actions, 16 simulations: one visit each, the budget ends in phase 1
    (16, 16, list(range(16)), {0: 16}),
    (1, 5, [0] * 5, {0: 1}),
    (2, 5, [0, 1, 0, 1, 0], {0: 2}),
])
def test_sequential_halving_schedule(m, n, slots, keep):
    got_slots, got_keep = halving_schedule(m, n)
    assert got_slots.tolist() == slots
    assert {k: int(v) for k, v in enumerate(got_keep) if v} == keep


def test_sequential_halving_visits_per_rank_with_a_big_budget():
    # 8 actions, 50 simulations, 3 phases: 50 // 24 = 2 visits x 8, 50 // 12 = 4 visits x 4,
    # then the 18 left to the last 2: ranks get 2 + 4 + 9, 2 + 4, or 2
    slots, keep = halving_schedule(8, 50)
    assert np.bincount(slots).tolist() == [15, 15, 6, 6, 2, 2, 2, 2]
    assert {k: int(v) for k, v in enumerate(keep) if v} == {0: 8, 16: 4, 32: 2}


def test_gumbel_search_spends_the_schedule_at_the_root():
    # the start position has 4 legal moves; 16 simulations over m = 4: two get 6, two get 2
    game = OthelloGame(6)
    result = search(game, uniform_evaluator(game), game.initial_states(3),
                    replace(GUMBEL, simulations=16, gumbel_actions=4, noise_fraction=0.25),
                    np.random.default_rng(0))
    assert np.sort(result.visits, axis=1)[:, -4:].tolist() == [[2, 2, 6, 6]] * 3
    assert all(result.visits[i, a] == 6 for i, a in enumerate(result.action))
    # sampled Gumbel noise: the three roots do not all spend their budget alike
    assert len({tuple(v) for v in result.visits}) > 1


def test_completed_q_and_improved_policy_by_hand():
    prior = np.array([[0.5, 0.3, 0.2, 0.0]])
    visits = np.array([[2.0, 1.0, 0.0, 0.0]])
    value_sum = np.array([[1.0, -0.5, 0.0, 0.0]])
    legal = np.array([[True, True, True, False]])
    # q = 0.5 and -0.5 for the visited; v_mix = (0.2 + 3 * (0.5 * 0.5 + 0.3 * -0.5) / 0.8) / 4
    v_mix = (0.2 + 3 * 0.125) / 4
    np.testing.assert_allclose(completed_q(prior, visits, value_sum, np.array([0.2]))[0, :3],
                               [0.5, -0.5, v_mix])
    # sigma = (50 + max N = 2) * 1 * (q + 1) / 2
    z = np.log([0.5, 0.3, 0.2]) + 52 * (np.array([0.5, -0.5, v_mix]) + 1) / 2
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    got = improved_policy(prior, visits, value_sum, np.array([0.2]), legal, GUMBEL)
    np.testing.assert_allclose(got[0], [*expected, 0.0], rtol=1e-6)


def test_the_rule_below_the_root_follows_the_improved_policy():
    # a Gumbel forest from non-uniform priors and values; each walk forced through every root
    # action takes, at the node below, argmax(pi' - n / (1 + N)) with pi' from improved_policy
    from alphazero import tree_kernels

    game = OthelloGame(6)
    result = search(game, fixed_evaluator(game), game.initial_states(8),
                    replace(GUMBEL, simulations=40, gumbel_actions=4, noise_fraction=0.25),
                    np.random.default_rng(0), keep_forest=True)
    f = result.forest
    b, nodes = f.child.shape[:2]
    checked = 0
    for root_action in np.nonzero(f.legal[0, 0])[0]:  # the 4 moves of the start position
        path_node, path_action = np.zeros((b, nodes), np.int64), np.zeros((b, nodes), np.int64)
        depth, fresh = np.zeros(b, np.int64), np.zeros(b, bool)
        tree_kernels.gumbel_walk(f.visits, f.value_sum, f.prior, f.legal, f.node_value, f.child,
                                 f.terminal, 50.0, 1.0, np.full(b, root_action), path_node,
                                 path_action, depth, np.zeros(b, np.float32), fresh)
        for t in np.nonzero(depth >= 2)[0]:
            node = path_node[t, 1]
            visits = f.visits[t, node][None]
            pi = improved_policy(f.prior[t, node][None], visits, f.value_sum[t, node][None],
                                 f.node_value[t, node][None], f.legal[t, node][None], GUMBEL)
            score = np.where(f.legal[t, node], pi[0] - visits[0] / (1 + visits.sum()), -np.inf)
            assert path_action[t, 1] == score.argmax()
            checked += 1
    assert checked >= 20


class OneMove:
    """One move from the root to a terminal state whose outcome (for the side to move there,
    the opponent) is `outcomes[a]`."""

    num_symmetries = 1

    def __init__(self, outcomes):
        self.outcomes = np.asarray(outcomes, dtype=np.float32)
        self.num_actions = len(outcomes)

    def initial_states(self, n):
        return np.zeros((n, 1), dtype=np.int64)

    def legal_actions(self, states):
        return np.repeat(states == 0, self.num_actions, axis=1)

    def next_states(self, states, actions):
        return actions[:, None] + 1

    def outcome(self, states):
        return self.outcomes[states[:, 0] - 1]


def test_gumbel_target_on_a_one_move_tree_by_hand():
    # the opponent wins after action 0, loses after 1, draws after 2: Q = -1, +1, 0 for the root.
    # 6 simulations over m = 3: one visit each, then the best two by sigma(Q), 1 and 2, get 3
    # more (1, 2, 1): visits 1, 3, 2, and the move is 1
    game = OneMove([1.0, -1.0, 0.0])
    result = search(game, uniform_evaluator(game), game.initial_states(1),
                    replace(GUMBEL, simulations=6), np.random.default_rng(0))
    assert result.visits[0].tolist() == [1, 3, 2] and result.action.tolist() == [1]
    z = 53 * (np.array([-1.0, 1.0, 0.0]) + 1) / 2  # equal priors; sigma with max N = 3
    np.testing.assert_allclose(result.policy[0], np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
                               rtol=1e-5)
    np.testing.assert_allclose(result.value, [(-1 + 3 - 0) / 6])


def exact_evaluator(size):
    """Uniform priors and the solver's exact result as the value (4x4: instant)."""
    solver = Solver(size)
    game = OthelloGame(size)

    def evaluate(states):
        legal = game.legal_actions(states).astype(np.float32)
        values = [np.sign(solver.solve(Position(size, int(s[0]), int(s[1]), True))[0])
                  for s in states]
        return legal / legal.sum(axis=1, keepdims=True), np.array(values, dtype=np.float32)
    return evaluate


def endgames_with_passes(count, rng):
    """4x4 positions whose move choice matters and whose next two plies include a pass."""
    solver, out = Solver(4), []
    while len(out) < count:
        for pos in random_game(4, rng):
            if pos.is_over() or pos.empties() > 8 or pos.legal_mask().bit_count() < 2:
                continue
            labels = label_endgame(solver, pos)
            passes = any(not c.is_over() and not c.legal_mask()
                         for m in pos.legal_moves() for c in
                         [pos.play(m), *(pos.play(m).play(r) for r in pos.play(m).legal_moves())])
            if passes and len(set(labels.values())) > 1:
                out.append((pos, labels))
    return out


def test_gumbel_with_an_exact_evaluator_plays_winning_moves_through_passes():
    game = OthelloGame(4)
    evaluate = exact_evaluator(4)
    cases = endgames_with_passes(12, np.random.default_rng(1))
    roots = states_from_positions([pos for pos, _ in cases])
    result = search(game, evaluate, roots, replace(GUMBEL, simulations=24),
                    np.random.default_rng(0))
    for (pos, labels), action in zip(cases, result.action, strict=True):
        assert labels[int(action)] == max(labels.values()), pos
    # the improved policy puts most of its mass on moves that keep the result
    best = np.array([[labels.get(a, -2) == max(labels.values()) for a in range(game.num_actions)]
                     for _, labels in cases])
    assert (result.policy * best).sum(axis=1).min() > 0.9


def test_gumbel_search_on_a_forced_pass():
    game = OthelloGame(4)
    pos = from_diagram("""
    O O O O
    O O O O
    O O X .
    O O O .
    """, True)
    result = search(game, uniform_evaluator(game), states_from_positions([pos]),
                    replace(GUMBEL, simulations=10), np.random.default_rng(0))
    assert result.action.tolist() == [16] and result.visits[0, 16] == 10
    np.testing.assert_allclose(result.policy[0, 16], 1.0)
    assert result.value[0] < -0.5  # Black is lost whatever it does


def fixed_evaluator(game, seed=0):
    """Non-uniform priors and values from integer arithmetic only (exact on any machine), so the
    fingerprints below do not depend on the BLAS or the CPU."""
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 5, size=(3 * game.squares, game.num_actions))
    v = rng.integers(-4, 5, size=3 * game.squares)

    def evaluate(states):
        x = game.encode(states).reshape(len(states), -1).astype(np.int64)
        weights = game.legal_actions(states) * (1 + (x @ w) % 5)
        return ((weights / weights.sum(axis=1, keepdims=True)).astype(np.float32),
                np.clip((x @ v) / 64, -0.9, 0.9).astype(np.float32))
    return evaluate


def fingerprint(data):
    h = hashlib.sha256()
    for a in (data.states, data.policies, data.values):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


# Recorded from the self-play code before Gumbel and playout caps were added (commit d27c9bd):
# the default knobs must keep producing exactly these examples.
BEFORE = {4: (65, "313566038c1f402d"), 6: (194, "38c1bd3c751cdfc3")}


@pytest.mark.parametrize("size", [4, 6])
def test_default_self_play_is_unchanged_bit_for_bit(size):
    game = OthelloGame(size)
    cfg = SearchConfig(simulations=12, noise_fraction=0.25)
    runs = [self_play(game, fixed_evaluator(game), 6, 4, cfg, 3, np.random.default_rng(5),
                      **extra)[0]
            for extra in ({}, {"full_share": 1.0, "cheap": replace(cfg, simulations=2)})]
    for data in runs:
        assert (len(data), fingerprint(data)) == BEFORE[size]


def test_playout_cap_records_exactly_the_full_search_moves(monkeypatch):
    import alphazero.selfplay as selfplay_module

    game = OthelloGame(4)
    full = SearchConfig(simulations=12, noise_fraction=0.25)
    cheap = SearchConfig(simulations=3)
    searched = []  # (config, roots, policy targets) of every search self-play ran

    def spy(game_, evaluate, roots, config, rng, keep_forest=False):
        result = search(game_, evaluate, roots, config, rng, keep_forest)
        searched.append((config, roots.copy(), result.policy.copy()))
        return result

    monkeypatch.setattr(selfplay_module, "search", spy)
    data, stats = self_play(game, fixed_evaluator(game), 8, 4, full, 2, np.random.default_rng(2),
                            full_share=0.4, cheap=cheap)
    recorded = [(r, p) for c, roots, pol in searched if c is full
                for r, p in zip(roots, pol, strict=True)]
    cheap_moves = sum(len(roots) for c, roots, _ in searched if c is cheap)
    assert cheap_moves > 0 and len(recorded) > 0
    assert len(data) == len(recorded) == stats.positions
    assert stats.moves == len(data) + cheap_moves
    # every example is a full-search root with that search's policy (as multisets: examples
    # come out game by game)
    key = [(s.tobytes(), p.astype(np.float32).tobytes()) for s, p in recorded]
    got = [(s.tobytes(), p.tobytes()) for s, p in zip(data.states, data.policies, strict=True)]
    assert sorted(key) == sorted(got)
    assert set(np.unique(data.values)) <= {-1.0, 0.0, 1.0}


def test_playout_cap_value_targets_follow_the_ply_not_the_record():
    # Countdown-like game where the last mover wins: with moves skipped, the targets of the
    # recorded positions must still alternate by ply parity
    from tests.test_alphazero_search import Countdown, uniform_evaluator_for

    game = Countdown(5)
    data, stats = self_play(game, uniform_evaluator_for(game), 20, 4, SearchConfig(simulations=2),
                            0, np.random.default_rng(0), full_share=0.5,
                            cheap=SearchConfig(simulations=1))
    # a state k (plies left) is won by its side to move iff k is odd
    expected = np.where(data.states[:, 0] % 2 == 1, 1.0, -1.0)
    np.testing.assert_array_equal(data.values, expected)
    assert 0 < len(data) < stats.moves == 100


def test_gumbel_self_play_targets_are_the_improved_policy():
    game = OthelloGame(4)
    cfg = replace(GUMBEL, simulations=8, noise_fraction=0.25)
    data, stats = self_play(game, uniform_evaluator(game), 4, 4, cfg, 4, np.random.default_rng(3))
    legal = game.legal_actions(data.states)
    np.testing.assert_allclose(data.policies.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(data.policies[~legal] == 0)
    # not visit shares: an improved policy is not a multiple of 1/8 everywhere
    assert not np.allclose(data.policies * 8, np.round(data.policies * 8))
    assert stats.positions == len(data) == stats.moves
