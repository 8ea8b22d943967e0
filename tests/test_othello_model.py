"""The policy-value network: shapes, residual-stream access, splicing, and checkpoints."""

import numpy as np
import pytest
import torch

from common.io import CheckpointError
from othello.az.model import NetConfig, PolicyValueNet, load_model, save_model
from othello.rules.board import Position
from othello.rules.encoding import encode_batch
from tests.othello_helpers import random_game


def _planes(n: int = 16, size: int = 6) -> torch.Tensor:
    rng = np.random.default_rng(0)
    positions = [Position.start(size)]
    while len(positions) < n:
        positions.extend(random_game(size, rng)[: n - len(positions)])
    return torch.from_numpy(encode_batch(positions)[0])


def test_shapes_and_value_range():
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(size=6, width=32, blocks=3)).eval()
    logits, value = net(_planes())
    assert logits.shape == (16, 37) and value.shape == (16,)
    assert torch.all(value.abs() <= 1)
    assert net.residual_stream(_planes()).shape == (16, 4, 32)


def test_splicing_the_stream_back_in_changes_nothing():
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(width=64, blocks=4)).eval()
    planes = _planes()
    logits, value = net(planes)
    streams = net.residual_stream(planes)
    for k in range(5):
        lk, vk = net.forward_from(streams[:, k], k)
        torch.testing.assert_close(lk, logits)
        torch.testing.assert_close(vk, value)
    # A different stream does change the output: the splice point is live.
    lz, _ = net.forward_from(torch.zeros_like(streams[:, 2]), 2)
    assert (lz - logits).abs().max() > 1e-3


def test_output_does_not_depend_on_the_rest_of_the_batch():
    torch.manual_seed(1)
    net = PolicyValueNet(NetConfig(width=32, blocks=2)).train()  # LayerNorm: no batch statistics
    planes = _planes()
    batch_logits, _ = net(planes)
    single_logits, _ = net(planes[3:4])
    torch.testing.assert_close(single_logits[0], batch_logits[3])


def test_bad_input_shape_is_a_clear_error():
    net = PolicyValueNet(NetConfig(width=8, blocks=1))
    with pytest.raises(ValueError, match=r"\[B, 3, 6, 6\]"):
        net(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match="block must be"):
        net.forward_from(torch.zeros(2, 8), 2)


def test_checkpoint_round_trip_and_corrupt_files(tmp_path):
    torch.manual_seed(2)
    net = PolicyValueNet(NetConfig(size=8, width=16, blocks=2)).eval()
    save_model(tmp_path / "net.pt", net, note="x")
    loaded, ckpt = load_model(tmp_path / "net.pt")
    assert loaded.config == net.config and ckpt["note"] == "x"
    planes = torch.zeros(1, 3, 8, 8)
    torch.testing.assert_close(loaded(planes)[0], net(planes)[0])
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "junk.pt")
    bad = {"config": {"size": 6, "width": 16, "blocks": 2}, "model": net.state_dict()}
    torch.save(bad, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="not a network checkpoint"):
        load_model(tmp_path / "mismatch.pt")
