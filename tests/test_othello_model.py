"""The policy-value network: shapes, residual-stream access, splicing, and checkpoints."""

import numpy as np
import pytest
import torch

from common.io import CheckpointError
from othello.az.model import NetConfig, PolicyValueNet, hook_name, load_model, save_model
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


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_checkpoint_round_trip_and_corrupt_files(tmp_path, suffix):
    torch.manual_seed(2)
    net = PolicyValueNet(NetConfig(size=8, width=16, blocks=2)).eval()
    save_model(tmp_path / f"net{suffix}", net, note="x")
    loaded, ckpt = load_model(tmp_path / f"net{suffix}")
    assert loaded.config == net.config and ckpt["note"] == "x"
    planes = torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(loaded(planes)[0], net(planes)[0], rtol=0, atol=0)
    (tmp_path / f"junk{suffix}").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_model(tmp_path / f"junk{suffix}")
    bad = {"config": {"size": 6, "width": 16, "blocks": 2}, "model": net.state_dict()}
    torch.save(bad, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="not a network checkpoint"):
        load_model(tmp_path / "mismatch.pt")


def test_the_committed_agent_loads_from_its_pickle_and_a_safetensors_copy(tmp_path):
    from othello.az.agent import PRETRAINED

    net, ckpt = load_model(PRETRAINED)
    save_model(tmp_path / "agent.safetensors", net, iteration=ckpt["iteration"])
    twin, meta = load_model(tmp_path / "agent.safetensors")
    assert twin.config == net.config and meta["iteration"] == ckpt["iteration"]
    planes = _planes()
    torch.testing.assert_close(twin(planes), net(planes), rtol=0, atol=0)
    assert b"pickle" not in (tmp_path / "agent.safetensors").read_bytes()[:200]
    committed, _ = load_model(PRETRAINED.with_suffix(".safetensors"))  # the committed twin
    for name, tensor in net.state_dict().items():
        assert torch.equal(committed.state_dict()[name], tensor), name


def test_run_with_cache_names_and_values_match_the_residual_stream():
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(width=16, blocks=4)).eval()
    planes = _planes()
    (policy, value), cache = net.run_with_cache(planes)
    assert list(cache) == net.hook_names
    assert "blocks.2.hook_resid_post" in cache and "blocks.4.hook_resid_pre" not in cache
    stream = net.residual_stream(planes)
    torch.testing.assert_close(cache["blocks.2.hook_resid_post"], stream[:, 3])
    torch.testing.assert_close(cache["hook_embed"], stream[:, 0])
    for k in range(5):
        torch.testing.assert_close(cache[hook_name(k)], stream[:, k])
    torch.testing.assert_close(cache["blocks.1.hook_resid_pre"], stream[:, 1])
    torch.testing.assert_close(cache["blocks.1.hook_resid_pre"] + cache["blocks.1.hook_mlp_out"],
                               cache["blocks.1.hook_resid_post"])
    torch.testing.assert_close(cache["hook_policy"], policy)
    torch.testing.assert_close((policy, value), net(planes))
    assert list(net.run_with_cache(planes, names=["hook_value"])[1]) == ["hook_value"]
    with pytest.raises(ValueError, match="unknown hook point"):
        net.run_with_cache(planes, names=["blocks.9.hook_resid_post"])


def test_a_hook_patch_equals_forward_from_the_patched_stream():
    torch.manual_seed(1)
    net = PolicyValueNet(NetConfig(width=16, blocks=3)).eval()
    planes = _planes()
    direction = torch.randn(16)
    seen = []

    def patch(x, hook):
        seen.append(hook.name)
        return x + 3.0 * direction

    patched = net.run_with_hooks(planes, fwd_hooks=[("blocks.1.hook_resid_post", patch)])
    stream = net.residual_stream(planes)[:, 2] + 3.0 * direction
    torch.testing.assert_close(patched, net.forward_from(stream, 2))
    assert seen == ["blocks.1.hook_resid_post"]
    assert not torch.allclose(patched[0], net(planes)[0])
    # a hook that returns None only reads
    same = net.run_with_hooks(planes, fwd_hooks=[("hook_embed", lambda x, hook: None)])
    torch.testing.assert_close(same, net(planes))
