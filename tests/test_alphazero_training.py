"""The AlphaZero loop: augmentation, training steps, resume, the CLI and the trained player."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

import train_alphazero
from alphazero.mcts import SearchConfig
from alphazero.replay import ReplayBuffer
from alphazero.selfplay import Examples
from alphazero.trainer import SNAPSHOTS, TrainConfig, Trainer, snapshot_iterations
from common.io import load_checkpoint
from othello.az.game import OthelloGame
from othello.az.model import NetConfig, PolicyValueNet, load_model
from othello.play import human_game
from othello.players.match import play_game, replay
from othello.players.registry import PlayerSpecError, make_player
from othello.rules.batch import states_from_positions
from othello.rules.board import Position
from othello.rules.symmetry import transform_move, transform_position
from tests.othello_helpers import random_game

TINY = TrainConfig(iterations=2, games_per_iteration=6, concurrent_games=3,
                   search=SearchConfig(simulations=4, noise_fraction=0.25), replay_capacity=500,
                   batch_size=32, sample_reuse=1.0, snapshots=3, seed=3)


def test_symmetry_augmentation_moves_policy_mass_with_the_board():
    game = OthelloGame(6)
    rng = np.random.default_rng(0)
    positions = random_game(6, rng)[1:20]
    states = states_from_positions(positions)
    # a policy target with all its mass on one legal move per position
    moves = [p.legal_moves()[0] for p in positions]
    policies = np.zeros((len(positions), 37), np.float32)
    policies[np.arange(len(positions)), moves] = 1.0
    syms = rng.integers(8, size=len(positions))
    planes, pol = game.symmetrize(game.encode(states), policies, syms)
    for i, (pos, move, k) in enumerate(zip(positions, moves, syms, strict=True)):
        image = transform_position(pos, int(k))
        np.testing.assert_array_equal(planes[i], game.encode(states_from_positions([image]))[0])
        assert pol[i].argmax() == transform_move(move, 6, int(k))
        assert game.legal_actions(states_from_positions([image]))[0][pol[i].argmax()]


def test_replay_buffer_ring_and_round_trip():
    buf = ReplayBuffer(5)
    states = np.arange(14, dtype=np.uint64).reshape(7, 2)
    buf.add(Examples(states, np.eye(7, 37, dtype=np.float32), np.arange(7, dtype=np.float32)))
    assert len(buf) == 5 and sorted(buf.data.values.tolist()) == [2, 3, 4, 5, 6]
    again = ReplayBuffer.from_state_dict(buf.state_dict())
    np.testing.assert_array_equal(again.data.states, buf.data.states)
    assert again.data.states.dtype == np.uint64 and again.next == buf.next


def _trainer(tmp_path, name, config=TINY):
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(size=4, width=16, blocks=2))
    return Trainer(OthelloGame(4), net, {"size": 4, "width": 16, "blocks": 2}, config,
                   tmp_path / name)


# the Gumbel root and playout-cap randomisation draw from the run's generator too
GUMBEL_CAPPED = replace(TINY, search=replace(TINY.search, root_search="gumbel"),
                        full_search_share=0.5, cheap_simulations=2)


@pytest.mark.parametrize("config", [TINY, GUMBEL_CAPPED], ids=["puct", "gumbel-capped"])
def test_resume_after_an_interruption_reproduces_the_uninterrupted_run(tmp_path, config):
    straight = _trainer(tmp_path, "straight", config)
    straight.run()
    first = _trainer(tmp_path, "resumed", config)
    first.run_iteration()  # ... and the process dies here
    net = PolicyValueNet(NetConfig(size=4, width=16, blocks=2))
    resumed = Trainer.resume(OthelloGame(4), net, tmp_path / "resumed")
    assert resumed.iteration == 1 and len(resumed.buffer) == len(first.buffer)
    resumed.run()
    for key, value in straight.net.state_dict().items():
        torch.testing.assert_close(resumed.net.state_dict()[key], value, rtol=0, atol=0)
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["iteration"] for x in lines] == [1, 2]
    assert json.loads(lines[1])["policy_loss"] == straight.metrics[1]["policy_loss"]
    snaps = sorted(p.name for p in (tmp_path / "resumed" / SNAPSHOTS).iterdir())
    assert snaps == ["iter_0000.pt", "iter_0001.pt", "iter_0002.pt"]


def test_resume_restores_a_snapshot_lost_between_it_and_the_checkpoint(tmp_path):
    first = _trainer(tmp_path, "run")
    first.run_iteration()
    lost = tmp_path / "run" / SNAPSHOTS / "iter_0001.pt"
    want = load_checkpoint(lost)["model"]
    lost.unlink()  # as if the process died right after writing checkpoint.pt
    Trainer.resume(OthelloGame(4), PolicyValueNet(NetConfig(size=4, width=16, blocks=2)),
                   tmp_path / "run")
    for key, value in load_checkpoint(lost)["model"].items():
        torch.testing.assert_close(value, want[key], rtol=0, atol=0)


def test_snapshot_iterations_are_log_spaced():
    snaps = sorted(snapshot_iterations(90, 12))
    assert snaps[:3] == [0, 1, 2] and snaps[-1] == 90 and 11 <= len(snaps) <= 13
    ratios = [b / a for a, b in zip(snaps[2:], snaps[3:], strict=False)]
    assert max(ratios) <= 2.0 and min(ratios) > 1.2  # geometric, not linear, spacing
    assert snapshot_iterations(2, 3) == {0, 1, 2}


def test_quick_training_makes_a_checkpoint_that_plays_legal_games(tmp_path):
    results = tmp_path / "results"
    code = train_alphazero.main(["--quick", "--out", str(tmp_path / "q"),
                                 "--results", str(results), "--endgames", "2", "--no-progress"])
    assert code == 0
    assert (results / "losses.png").stat().st_size > 0
    summary = json.loads((results / "summary.json").read_text())
    assert summary["final"]["iteration"] == 3
    assert summary["eval_search"] == {"simulations": 16, "c_puct": 1.5, "dirichlet_alpha": 0.5,
                                      "noise_fraction": 0.0, "root_search": "puct",
                                      "gumbel_actions": 16, "c_visit": 50.0,
                                      "c_scale": 1.0}  # the run's search, without noise
    metrics = [json.loads(x) for x in (tmp_path / "q" / "metrics.jsonl").read_text().splitlines()]
    assert metrics[0]["policy_loss"] > metrics[-1]["policy_loss"]  # it learns something
    assert [m["selfplay_games"] for m in metrics] == [48, 48, 48]
    assert [m["replay_size"] for m in metrics] == list(np.cumsum(
        [m["selfplay_positions"] for m in metrics]))  # nothing overwritten yet (capacity 10 000)
    assert metrics[0]["lr"] > metrics[1]["lr"] > metrics[2]["lr"]  # cosine decay
    assert {"score_vs_random", "endgame_perfect"} <= set(metrics[-1])  # evaluated at the end
    net, _ = load_model(tmp_path / "q" / "checkpoint.pt")
    assert net.config.size == 6
    # Learning, not drifting targets: on the same examples (the final replay buffer, no
    # augmentation), the trained network fits both targets better than its initial weights.
    initial, _ = load_model(tmp_path / "q" / "checkpoints" / "iter_0000.pt")
    buffer = ReplayBuffer.from_state_dict({k: v.numpy() if torch.is_tensor(v) else v for k, v in
                                           load_checkpoint(tmp_path / "q" / "checkpoint.pt")[
                                               "replay"].items()})
    inputs, policies, values, _ = (torch.from_numpy(x) for x in buffer.sample(
        OthelloGame(6), 2048, np.random.default_rng(0), augment=False))
    with torch.no_grad():
        losses = {}
        for label, model in (("initial", initial), ("trained", net)):
            logits, value = model(inputs)
            losses[label] = (-(policies * logits.log_softmax(1)).sum(1).mean().item(),
                             ((value - values) ** 2).mean().item())
    assert losses["trained"][0] < losses["initial"][0] - 0.5, losses  # policy cross-entropy
    assert losses["trained"][1] < 0.8 * losses["initial"][1], losses  # value MSE
    player = make_player(f"alphazero:{tmp_path / 'q' / 'checkpoint.pt'}:8", 6)
    rng = np.random.default_rng(0)
    for _ in range(2):
        record = play_game(player, make_player("random", 6), 6, rng, opening_plies=2)
        assert replay(record).is_over()  # replay checks every move's legality and the score
    # the agent also plays a human in the terminal (it moves first when the human is White)
    lines, answers = [], iter(["zz9", "quit"])
    human_game(f"alphazero:{tmp_path / 'q' / 'checkpoint.pt'}:8", 6, human_black=False, seed=0,
               read=lambda prompt: next(answers), write=lines.append)
    assert any("last move" in line for line in lines)
    # the same run again without --resume is refused, and work is not overwritten
    assert train_alphazero.main(["--quick", "--out", str(tmp_path / "q")]) == 2
    # resuming uses the saved network shape, whatever the flags say; a finished run just reports
    assert train_alphazero.main(["--out", str(tmp_path / "q"), "--resume",
                                 "--net-width", "32", "--endgames", "0", "--results",
                                 str(tmp_path / "again")]) == 0
    assert json.loads((tmp_path / "again" / "summary.json").read_text())["final"] == \
        summary["final"]
    assert train_alphazero.main(["--out", str(tmp_path / "none"), "--resume"]) == 2


def test_arena_gate_keeps_the_old_network_when_the_new_one_loses(tmp_path):
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(size=4, width=16, blocks=2))
    config = TrainConfig(**{**TINY.__dict__, "iterations": 1, "gate_games": 2,
                            "gate_threshold": 1.0})
    before = {k: v.clone() for k, v in net.state_dict().items()}
    trainer = Trainer(OthelloGame(4), net, {"size": 4, "width": 16, "blocks": 2}, config,
                      tmp_path / "gated")
    metrics = trainer.run_iteration()
    assert 0.0 <= metrics["gate_score"] <= 1.0
    assert metrics["gate_accepted"] == (metrics["gate_score"] >= 1.0)
    same = all(torch.equal(before[k], v) for k, v in trainer.net.state_dict().items())
    assert same != metrics["gate_accepted"]  # kept the old weights exactly when rejected


def test_the_same_seed_gives_the_same_run(tmp_path):
    tiny = ["--quick", "--iterations", "1", "--games-per-iteration", "4", "--concurrent-games",
            "4", "--simulations", "2", "--eval-games", "0", "--endgames", "0", "--net-width",
            "16", "--net-blocks", "1", "--no-progress"]
    for run in ("a", "b"):
        assert train_alphazero.main([*tiny, "--out", str(tmp_path / run)]) == 0
    for name in ("checkpoints/iter_0000.pt", "checkpoint.pt"):
        a, _ = load_model(tmp_path / "a" / name)
        b, _ = load_model(tmp_path / "b" / name)
        for key, value in a.state_dict().items():
            assert torch.equal(value, b.state_dict()[key]), (name, key)


def test_alphazero_player_spec_errors(tmp_path):
    with pytest.raises(PlayerSpecError, match="no network checkpoint"):
        make_player(f"alphazero:{tmp_path / 'missing.pt'}", 6)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(PlayerSpecError):
        make_player(f"alphazero:{tmp_path / 'junk.pt'}", 6)
    with pytest.raises(PlayerSpecError, match="simulations"):
        make_player(f"alphazero:{tmp_path / 'junk.pt'}:0", 6)


def test_alphazero_player_on_a_forced_pass():
    torch.manual_seed(0)
    from othello.az.agent import AlphaZeroPlayer
    player = AlphaZeroPlayer(PolicyValueNet(NetConfig(size=4, width=8, blocks=1)),
                             SearchConfig(simulations=4))
    pos = Position.from_colors(4, black=0b0100_0000_0000, white=0xFFFF & ~0b1100_1000_0000_0000
                               & ~0b0100_0000_0000, black_to_move=True)
    assert pos.legal_moves() == [16]
    assert player.choose(pos, np.random.default_rng(0)) == 16


def test_search_flags_reach_self_play_and_evaluation():
    """One search config: --simulations and --c-puct set self-play and the evaluations alike
    (evaluations without root noise); --eval-simulations only changes the evaluations."""
    from common.config import config_from_args

    def parse(argv):
        args = train_alphazero.build_parser().parse_args(argv)
        return config_from_args(args, train_alphazero.RunConfig,
                                train_alphazero.QUICK if args.quick else train_alphazero.DEFAULT)[0]

    config = parse(["--c-puct", "2.5", "--simulations", "7"])
    assert config.train.search == SearchConfig(simulations=7, c_puct=2.5, noise_fraction=0.25)
    assert config.eval_search() == SearchConfig(simulations=7, c_puct=2.5, noise_fraction=0.0)
    assert config.train.eval_search() == config.eval_search()  # the arena gate searches alike
    quick = parse(["--quick", "--eval-simulations", "30"])
    assert quick.train.search.simulations == 16 and quick.eval_search().simulations == 30
    assert SearchConfig().simulations == train_alphazero.DEFAULT.eval_search().simulations


def test_only_the_default_run_publishes_the_agent(tmp_path, monkeypatch, capsys):
    from tests.bad_inputs import results_hash

    monkeypatch.setattr(train_alphazero, "RUNS", tmp_path)  # the default run folder
    monkeypatch.setattr("othello.az.evaluation.endgame_set", lambda *a, **k: None)
    monkeypatch.setenv("ALLOW_DIRTY_RESULTS", "1")
    before = results_hash()
    tiny = ["--size", "4", "--net-width", "8", "--net-blocks", "1", "--iterations", "1",
            "--games-per-iteration", "4", "--concurrent-games", "4", "--simulations", "4",
            "--eval-games", "0", "--batch-size", "16", "--no-progress"]
    assert train_alphazero.main(tiny) == 0  # typed settings: results beside the run
    assert train_alphazero.main(["--resume", "--no-progress"]) == 0  # no flags, but not default
    assert "trained with other settings" in capsys.readouterr().out
    assert (tmp_path / "default" / "results" / "summary.json").is_file()
    assert results_hash() == before
