"""Self-play targets: exact endgames from the oracle (checked on 4x4 against the old pure-Python
solver), margin targets by hand, today's self-play bit for bit with the knobs off, the margin
head (old checkpoints without it load), resume and the CPU budget with the new knobs on."""

import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from alphazero.config import TrainConfig
from alphazero.evaluators import uniform_evaluator
from alphazero.mcts import SearchConfig
from alphazero.replay import ReplayBuffer
from alphazero.selfplay import Examples, self_play
from alphazero.trainer import RunError, Trainer, train_step
from othello.az.adjudicate import EndgameAdjudicator, endgame_adjudicator
from othello.az.config import PRETRAINED
from othello.az.game import OthelloGame
from othello.az.model import NetConfig, PolicyValueNet, load_model, save_model
from othello.rules.board import Position, parse_move
from othello.rules.solver import Solver

SEARCH = SearchConfig(simulations=8, noise_fraction=0.25)


def _position(state) -> Position:
    return Position(4, int(state[0]), int(state[1]), True)


def _split_games(game: OthelloGame, data: Examples) -> list[np.ndarray]:
    """Row indices of each game (one game at a time: each starts at the start position)."""
    starts = np.nonzero((data.states == game.initial_states(1)[0]).all(axis=1))[0]
    return np.split(np.arange(len(data)), starts[1:])


def _plies_apart(a: Position, b: Position) -> bool:
    """Is `b` one ply (a move or a pass) after `a`?"""
    return any((c.me, c.opp) == (b.me, b.opp) for c in map(a.play, a.legal_moves()))


def test_adjudicated_targets_are_the_true_results_on_4x4():
    """Every recorded position of 4x4 games stopped at 6 empties: the stop and the perfect line
    after it get their own exact value, margin and optimal moves; earlier positions get the
    stop's exact result from their own side to move, passes included."""
    game, solver, empties = OthelloGame(4), Solver(4), 6
    data, stats = self_play(game, uniform_evaluator(game), 40, 1, SEARCH, 4,
                            np.random.default_rng(2),
                            adjudicator=EndgameAdjudicator(4, empties, policy_positions=3))
    games = _split_games(game, data)
    assert stats.games == len(games) == 40
    passes_before_stop = line_rows = played_out = 0
    for rows in games:
        line = [_position(data.states[r]) for r in rows]
        for a, b in zip(line, line[1:], strict=False):
            assert _plies_apart(a, b)  # so the ply parity below is each position's side
        stop = next((t for t, p in enumerate(line) if p.empties() <= empties), None)
        if stop is None:  # the game ended before the stop: played out, the final board decides
            last, r = line[-1], rows[-1]
            assert any(c.is_over() and -np.sign(c.margin()) == data.values[r]
                       and -c.margin() / 16 == data.margins[r] for c in map(last.play,
                                                                             last.legal_moves()))
            stop, exact = len(line) - 1, round(data.margins[r] * 16)
            played_out += 1
        else:
            exact = solver.solve(line[stop])[0]
        for t, (pos, r) in enumerate(zip(line, rows, strict=True)):
            side = 1 if (t - stop) % 2 == 0 else -1
            if t < stop:
                assert data.values[r] == side * np.sign(exact)
                assert data.margins[r] == pytest.approx(side * exact / 16)
                passes_before_stop += pos.legal_moves() == [pos.pass_move]
                continue
            if t == stop and pos.empties() > empties:  # the last position of a played-out game
                continue
            truth = solver.solve(pos)[0]  # the stop and the perfect line: their own values
            assert truth == side * exact  # a perfect line keeps the value
            assert data.values[r] == np.sign(truth)
            assert data.margins[r] == pytest.approx(truth / 16)
            children = {m: -solver.solve(pos.play(m))[0] for m in pos.legal_moves()}
            best = {m for m, v in children.items() if v == truth}
            policy = data.policies[r]
            assert set(np.nonzero(policy)[0]) == best
            np.testing.assert_allclose(policy[sorted(best)], 1 / len(best))
            line_rows += 1
        assert len(rows) - stop <= 3  # at most policy_positions positions from the stop on
    assert passes_before_stop > 0, "no pass before a stop: the test would not see a sign slip"
    assert line_rows > 40 and 0 < played_out < 40


def test_adjudicated_games_stop_at_the_first_position_within_the_empties():
    game = OthelloGame(4)
    data, _ = self_play(game, uniform_evaluator(game), 12, 4, SEARCH, 4, np.random.default_rng(0),
                        adjudicator=EndgameAdjudicator(4, 8))  # no line: only searched plies
    empty = 16 - np.bitwise_count(data.states[:, 0] | data.states[:, 1])
    assert empty.min() == 9 and len(data) == 12 * 4  # 12, 11, 10, 9 empties (no pass so early)


BOARD = """
. O M O
O O M M
O M M M
M M M .
"""


def _board(text: str) -> np.ndarray:
    me = opp = 0
    for row, line in enumerate(text.split()[i:i + 4] for i in range(0, 16, 4)):
        for col, c in enumerate(line):
            bit = 1 << (4 * row + col)
            me |= bit if c == "M" else 0
            opp |= bit if c == "O" else 0
    return np.array([[me, opp]], dtype=np.uint64)


class FromBoard(OthelloGame):
    """4x4 Othello whose games start at a given board (M to move)."""

    def __init__(self, board: np.ndarray):
        super().__init__(4)
        self.board = board

    def initial_states(self, n):
        return np.repeat(self.board, n, axis=0)


def test_margin_targets_of_a_finished_game_by_hand():
    # M has a single move, a1 (flips b1, a2, a3, b2: M 14, O 1); O then plays d4 (flips d3, d2):
    # the board ends M 12, O 4, so M's position is worth +8/16 and O's -8/16
    game = FromBoard(_board(BOARD))
    assert _position(game.board[0]).legal_moves() == [parse_move("a1", 4)]
    data, stats = self_play(game, uniform_evaluator(game), 2, 2, SEARCH, 0,
                            np.random.default_rng(0))
    assert stats.games == 2
    np.testing.assert_array_equal(data.values, [1, -1, 1, -1])
    np.testing.assert_array_equal(data.margins, [0.5, -0.5, 0.5, -0.5])


def _digest(data: Examples) -> str:
    h = hashlib.sha256()
    for a in (data.states, data.policies, data.values):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


# sha256 of (states, policies, values) from this exact call at commit d27c9bd, before exact
# endgames and margin targets existed
BEFORE = {4: (82, "988814ab1004ffe94fed2868f5eea25388371d1df79161f730cbdc9bed348093"),
          6: (227, "850ea5de8c0cdb898ba84282c8039a7391a15a967e1bfbbaad816d90b404b957")}


@pytest.mark.parametrize("size", [4, 6])
def test_without_an_adjudicator_self_play_is_todays_bit_for_bit(size):
    game = OthelloGame(size)
    data, _ = self_play(game, uniform_evaluator(game), 7, 3, SEARCH, 4,
                        np.random.default_rng(11), search_value_weight=0.25)
    assert (len(data), _digest(data)) == BEFORE[size]


def test_the_committed_agent_has_no_margin_head_and_loads_as_before():
    net, _ = load_model(PRETRAINED)
    assert not net.config.margin_head and not net.has_margin_head
    assert net.hook_names[-1] == "hook_value"
    with pytest.raises(ValueError, match="no margin head"):
        net.forward_with_margin(torch.zeros(1, 3, 6, 6))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_margin_head_saves_loads_and_reads_the_final_stream(tmp_path, suffix):
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(size=4, width=16, blocks=2, margin_head=True)).eval()
    save_model(tmp_path / f"net{suffix}", net)
    again, _ = load_model(tmp_path / f"net{suffix}")
    planes = torch.from_numpy(OthelloGame(4).encode(OthelloGame(4).initial_states(3)))
    policy, value, margin = again.forward_with_margin(planes)
    (p0, v0), cache = net.run_with_cache(planes)
    torch.testing.assert_close(margin, cache["hook_margin"])
    torch.testing.assert_close(policy, p0)
    torch.testing.assert_close(value, v0)
    stream = cache["ln_final.hook_normalized"]
    torch.testing.assert_close(margin, net.margin_head(stream).squeeze(-1))
    assert "blocks.1.hook_resid_post" in cache  # the SAE stage's hook names are still there


def test_the_margin_loss_trains_the_margin_head_only_when_weighted():
    game = OthelloGame(4)
    states = game.initial_states(8)
    inputs = game.encode(states)
    policies = np.full((8, 17), 1 / 17, np.float32)
    values = np.zeros(8, np.float32)
    margins = np.full(8, 0.5, np.float32)
    moved = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        net = PolicyValueNet(NetConfig(size=4, width=16, blocks=1, margin_head=True))
        before = net.margin_head.weight.detach().clone()
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        losses = [train_step(net, opt, inputs, policies, values, margins, weight)[2]
                  for _ in range(20)]
        moved[weight] = not torch.equal(before, net.margin_head.weight)
        if weight:
            assert losses[-1] < 0.1 * losses[0]  # it learns the margin, not its negative
            assert net.forward_with_margin(torch.from_numpy(inputs))[2].mean().item() == \
                pytest.approx(0.5, abs=0.05)
        else:
            assert losses == [0.0] * 20
    assert moved == {0.0: False, 1.0: True}


def test_replay_keeps_margins_and_reads_old_buffers_without_them():
    buf = ReplayBuffer(5)
    states = np.arange(8, dtype=np.uint64).reshape(4, 2)
    buf.add(Examples(states, np.eye(4, 17, dtype=np.float32), np.ones(4, np.float32),
                     np.array([0.25, -0.5, 0.75, 1.0], np.float32)))
    again = ReplayBuffer.from_state_dict(buf.state_dict())
    np.testing.assert_array_equal(again.data.margins[:4], [0.25, -0.5, 0.75, 1.0])
    old = {k: v for k, v in buf.state_dict().items() if k != "margins"}
    np.testing.assert_array_equal(ReplayBuffer.from_state_dict(old).data.margins, 0)
    *_, margins = again.sample(OthelloGame(4), 6, np.random.default_rng(0))
    assert set(margins.tolist()) <= {0.25, -0.5, 0.75, 1.0}


TARGETS = TrainConfig(iterations=2, games_per_iteration=6, concurrent_games=3, search=SEARCH,
                      replay_capacity=500, batch_size=32, sample_reuse=1.0, snapshots=3, seed=3,
                      exact_empties=6, exact_policy_positions=2, margin_weight=0.5)
NET = NetConfig(size=4, width=16, blocks=2, margin_head=True)


def _trainer(tmp_path, name, config=TARGETS):
    torch.manual_seed(0)
    return Trainer(OthelloGame(4), PolicyValueNet(NET), asdict(NET), config,
                   tmp_path / name, adjudicator=endgame_adjudicator(4)(config)
                   if config.exact_empties else None)


def test_resume_with_exact_endgames_and_margins_reproduces_the_uninterrupted_run(tmp_path):
    straight = _trainer(tmp_path, "straight")
    straight.progress = False
    straight.run()
    first = _trainer(tmp_path, "resumed")
    first.progress = False
    first.run_iteration()  # ... and the process dies here
    resumed = Trainer.resume(OthelloGame(4), PolicyValueNet(NET), tmp_path / "resumed",
                             adjudicator=endgame_adjudicator(4))
    assert resumed.adjudicator is not None and resumed.cpu_seconds > 0
    resumed.progress = False
    resumed.run()
    for key, value in straight.net.state_dict().items():
        torch.testing.assert_close(resumed.net.state_dict()[key], value, rtol=0, atol=0)
    np.testing.assert_array_equal(resumed.buffer.data.margins, straight.buffer.data.margins)
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["margin_loss"] == straight.metrics[1]["margin_loss"]
    empty = 16 - np.bitwise_count(straight.buffer.data.states[:len(straight.buffer)].sum(1))
    assert empty.min() >= 6 - 2 + 1  # stopped at 6 empties, then two perfect-line positions


def test_a_run_needs_an_adjudicator_and_a_margin_head_for_those_knobs(tmp_path):
    with pytest.raises(RunError, match="margin head"):
        Trainer(OthelloGame(4), PolicyValueNet(NetConfig(size=4, width=8, blocks=1)), {},
                TARGETS, tmp_path / "a")
    trainer = Trainer(OthelloGame(4), PolicyValueNet(NET), {}, TARGETS, tmp_path / "b")
    with pytest.raises(RunError, match="adjudicator"):
        trainer.run_iteration()


def test_a_cpu_budget_ends_the_run_and_schedules_the_learning_rate(tmp_path):
    config = TrainConfig(lr=1.0, cpu_budget_s=100.0, iterations=50)
    assert config.lr_at(7, cpu_seconds=0.0) == pytest.approx(1.0)
    assert config.lr_at(1, cpu_seconds=50.0) == pytest.approx(0.05 + 0.95 * 0.5)
    assert config.lr_at(1, cpu_seconds=250.0) == pytest.approx(0.05)
    tiny = TrainConfig(iterations=5, games_per_iteration=2, concurrent_games=2,
                       search=SearchConfig(simulations=2), batch_size=8, sample_reuse=1.0,
                       cpu_budget_s=1e-6, margin_weight=0.5)
    trainer = _trainer(tmp_path, "budget", tiny)
    trainer.progress = False
    metrics = trainer.run()
    assert len(metrics) == 1 and metrics[0]["cpu_seconds"] > 1e-6


def test_random_openings_are_not_recorded_and_targets_keep_their_sides():
    """With --opening-plies 3, 4x4 games start 0-3 random plies in (all four lengths occur, the
    random plies are not recorded), every recorded position has a searched policy over its legal
    moves, and its value and margin targets are the final board's from its own side to move, so
    an opening of odd length cannot flip them."""
    game = OthelloGame(4)
    data, stats = self_play(game, uniform_evaluator(game), 40, 1, SEARCH, 4,
                            np.random.default_rng(4), opening_plies=3)
    line = [_position(s) for s in data.states]
    breaks = [r for r in range(1, len(line)) if not _plies_apart(line[r - 1], line[r])]
    games = np.split(np.arange(len(line)), breaks)
    assert stats.games == len(games) == 40
    assert sorted({12 - line[rows[0]].empties() for rows in games}) == [0, 1, 2, 3]
    legal = game.legal_actions(data.states)
    assert np.allclose(data.policies.sum(axis=1), 1) and not (data.policies[~legal] > 0).any()
    for rows in games:
        last = line[rows[-1]]
        final = next(c for c in map(last.play, last.legal_moves()) if c.is_over())
        for t, r in enumerate(rows):
            side = 1 if (len(rows) - 1 - t) % 2 == 0 else -1
            assert data.values[r] == -side * np.sign(final.margin())
            assert data.margins[r] == pytest.approx(-side * final.margin() / 16)
