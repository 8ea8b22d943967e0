"""Activation collection: distinct positions, consistent board facts, and the stored arrays."""

import numpy as np
import pytest
import torch

from alphazero.mcts import SearchConfig
from common.io import load_checkpoint
from othello.az.model import NetConfig, PolicyValueNet
from othello.collect_activations import main as collect_main
from othello.interp import activations
from othello.interp.activations import (
    SOURCES,
    Sample,
    collect_dataset,
    collect_positions,
    samples_to_arrays,
)
from othello.rules.board import Position
from othello.rules.encoding import legal_mask


def _net(width: int = 16) -> PolicyValueNet:
    torch.manual_seed(0)
    return PolicyValueNet(NetConfig(width=width, blocks=3)).eval()


def test_positions_are_distinct_playable_and_from_every_source():
    samples = collect_positions(_net(), 600, np.random.default_rng(0), progress=False)
    assert len(samples) == 600
    keys = {(s.pos.me, s.pos.opp) for s in samples}
    assert len(keys) == 600
    assert not any(s.pos.is_over() for s in samples)
    counts = np.bincount([s.source for s in samples], minlength=len(SOURCES))
    # 30% from inside MCTS searches, the remaining 420 split 60 / 15 / 20 / 5
    assert counts[SOURCES.index("search")] == 180
    assert counts[SOURCES.index("selfplay")] == 252 and counts[SOURCES.index("greedy")] == 84
    assert counts[SOURCES.index("random")] == 63 and counts[SOURCES.index("alphabeta:2")] == 21


def test_a_deterministic_policy_leaves_its_share_to_the_other_sources():
    # At temperature 1e-4 the self-play games repeat themselves (69 positions here): a round
    # that adds nothing ends that source, and the classic-player games fill the rest.
    samples = collect_positions(_net(), 400, np.random.default_rng(0), temperature=1e-4,
                                progress=False, search_share=0.0)
    assert len(samples) == 400
    counts = np.bincount([s.source for s in samples], minlength=len(SOURCES))
    assert 0 < counts[SOURCES.index("selfplay")] < 120  # 240 at temperature 1
    assert counts[SOURCES.index("random")] > 100


def test_search_positions_come_with_the_move_that_reached_them():
    samples = activations.positions_from_search(_net(), 300, np.random.default_rng(2), games=8,
                                                search_config=SearchConfig(simulations=16))
    assert len(samples) == 300 and len({(s.pos.me, s.pos.opp) for s in samples}) == 300
    for s in samples:
        pos, move = s.pos, s.last_move
        assert s.source == SOURCES.index("search") and not pos.is_over()
        if move == 36:  # a pass: the previous side to move had no move
            parent = Position(6, pos.opp, pos.me, not pos.black_to_move)
        else:  # undo the move: it added a disc for the mover and flipped `flipped`
            parent = Position(6, pos.opp & ~(1 << move) & ~s.flipped, pos.me | s.flipped,
                              not pos.black_to_move)
        assert move in parent.legal_moves() and parent.play(move) == pos


def test_board_facts_match_the_rules():
    samples = collect_positions(_net(), 300, np.random.default_rng(1), progress=False)
    arrays = samples_to_arrays(samples)
    size = 6
    for i, s in enumerate(samples):
        board = arrays["boards"][i]
        assert (board == 1).sum() == s.pos.me.bit_count()
        assert (board == -1).sum() == s.pos.opp.bit_count()
        assert np.array_equal(arrays["legal"][i], legal_mask(s.pos))
        last = int(arrays["last_move"][i])
        if 0 <= last < size * size:
            # the opponent just played there and flipped discs that are now theirs
            assert board[last] == -1 and arrays["flipped"][i].sum() >= 1
            assert np.all(board[arrays["flipped"][i]] == -1)
        else:
            assert not arrays["flipped"][i].any()
    assert arrays["last_move"][[s.pos == Position.start(6) for s in samples]].tolist() == [-1]


def test_search_hook_positions_are_kept(monkeypatch):
    start = Position.start(6)
    child = start.play(start.legal_moves()[0])
    hooked = [Sample(child, start.legal_moves()[0], 1 << 14, SOURCES.index("search"))]
    monkeypatch.setattr(activations, "positions_from_search", lambda net, count, rng: hooked)
    samples = collect_positions(_net(), 50, np.random.default_rng(0), progress=False)
    assert samples[0] == hooked[0]
    assert sum(s.source == SOURCES.index("search") for s in samples) == 1


def boards_to_planes(boards: np.ndarray, size: int) -> np.ndarray:
    """float32 planes from the stored int8 boards: an encoding independent of the library's."""
    planes = np.stack([boards == 1, boards == -1, boards == 0], axis=1).astype(np.float32)
    return planes.reshape(len(boards), 3, size, size)


def test_dataset_files_hold_the_network_outputs(tmp_path):
    net = _net(width=24)
    meta = collect_dataset(net, {"checkpoint": "test"}, tmp_path, 200, [1, 3], seed=0,
                           progress=False)
    assert meta["count"] == 200 and meta["blocks"] == [1, 3] and len(meta["net_sha256"]) == 64
    boards = np.load(tmp_path / "boards.npy")
    planes = torch.from_numpy(boards_to_planes(boards, 6))
    streams = net.residual_stream(planes).detach()
    for k in (1, 3):
        acts = np.load(tmp_path / f"acts_block{k}.npy", mmap_mode="r")
        assert acts.dtype == np.float32 and acts.shape == (200, 24)
        np.testing.assert_allclose(acts, streams[:, k].numpy(), atol=1e-5)
    logits, value = net(planes)
    np.testing.assert_allclose(np.load(tmp_path / "policy_logits.npy"), logits.detach().numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "value.npy"), value.detach().numpy(), atol=1e-5)
    assert load_checkpoint(tmp_path / "net.pt", required=("config", "model"))


def test_cli_errors_are_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        collect_main(["--checkpoint", str(tmp_path / "none.pt")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: checkpoint not found") and "\n" not in err
    with pytest.raises(SystemExit):
        collect_main(["--checkpoint", "random", "--layers", "9"])
    assert "--layers must be in 0..4" in capsys.readouterr().err


def test_a_short_collection_warns(tmp_path, monkeypatch, capsys):
    real = activations.collect_positions
    monkeypatch.setattr(activations, "collect_positions",  # as if every source ran dry early
                        lambda net, count, rng, **kw: real(net, count // 2, rng, **kw))
    meta = collect_dataset(_net(width=8), {"checkpoint": "test"}, tmp_path / "ds", 200, [1],
                           seed=0, progress=False)
    assert meta["count"] == 100
    assert "only 100 distinct positions of the 200" in capsys.readouterr().err
