"""--device: cpu is the default and what every other test uses; `auto` picks cuda when present;
`cuda` without a GPU is a one-line error. The paths that move tensors (search evaluator, training
step, activation collection, SAE training, batched LLC) are run on cuda when a GPU is present and
compared with the CPU."""

import argparse

import numpy as np
import pytest
import torch

from common.config import add_run_flags
from common.device import DeviceError, module_device, resolve_device

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device here: the CPU tests cover "
                                "the same code; this runs where torch sees a GPU")


def test_cpu_is_the_default_and_auto_follows_the_machine():
    p = argparse.ArgumentParser()
    add_run_flags(p, device=True)
    assert p.parse_args([]).device == "cpu"
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if HAS_CUDA else "cpu")
    assert module_device(torch.nn.Linear(2, 2)) == torch.device("cpu")


@pytest.mark.skipif(HAS_CUDA, reason="a GPU is present: cuda is accepted here")
def test_cuda_without_a_gpu_is_a_one_line_error():
    with pytest.raises(DeviceError, match="--device cuda, but torch sees no CUDA device"):
        resolve_device("cuda")


@needs_cuda
def test_network_paths_on_cuda_match_the_cpu():
    from alphazero.evaluators import network_evaluator
    from alphazero.trainer import train_step
    from othello.az.game import OthelloGame
    from othello.az.model import NetConfig, PolicyValueNet

    torch.manual_seed(0)
    game, net = OthelloGame(6), PolicyValueNet(NetConfig(width=32, blocks=2)).eval()
    gpu = PolicyValueNet(net.config).eval()
    gpu.load_state_dict(net.state_dict())
    gpu = gpu.cuda()
    states = game.initial_states(4)
    p_cpu, v_cpu = network_evaluator(game, net)(states)
    p_gpu, v_gpu = network_evaluator(game, gpu)(states)
    np.testing.assert_allclose(p_gpu, p_cpu, atol=1e-5)
    np.testing.assert_allclose(v_gpu, v_cpu, atol=1e-5)
    inputs = game.encode(states)
    policies = np.full((4, 37), 1 / 37, np.float32)
    values = np.zeros(4, np.float32)
    losses = [train_step(m, torch.optim.SGD(m.parameters(), lr=0.1), inputs, policies, values)
              for m in (net.train(), gpu.train())]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)


@needs_cuda
def test_sae_training_and_llc_on_cuda_match_the_cpu():
    from sae.data import split_rows
    from sae.train import TrainConfig, train_sae
    from toymodels.tms.llc import SGLDConfig, llc_batched

    x = np.random.default_rng(0).standard_normal((512, 8)).astype(np.float32)
    cfg = TrainConfig(arch="topk", n_features=16, hyper={"k": 3}, steps=20, batch_size=64)
    split = split_rows(512, 0.1, seed=0)
    a, _ = train_sae(cfg, x, split, progress=False)
    b, _ = train_sae(cfg, x, split, progress=False, device="cuda")
    assert module_device(b) == torch.device("cpu")  # handed back where evaluation reads it
    xt = torch.from_numpy(x[:64])
    torch.testing.assert_close(b.encode(xt), a.encode(xt), atol=1e-3, rtol=1e-3)
    W, bias = torch.randn(2, 5) * 0.3, torch.zeros(5)
    data = torch.rand(256, 5)
    sgld = SGLDConfig(draws=50, burnin=0, chains=2, batch_size=64)
    on_cpu = llc_batched(W, bias, data, sgld)
    on_gpu = llc_batched(W.cuda(), bias.cuda(), data.cuda(), sgld)
    torch.testing.assert_close(on_gpu.mean, on_cpu.mean, atol=1e-2, rtol=1e-3)
