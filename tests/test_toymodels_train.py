"""Vectorised training equals per-model training; checkpoints; polygon GIFs."""

import imageio.v2 as imageio
import numpy as np
import pytest
import torch

from toymodels.data import sparse_uniform
from toymodels.tms.inits import kgon_init
from toymodels.tms.model import loss
from toymodels.tms.polygons import convex_hull, write_gif
from toymodels.tms.train import TiedTrainConfig, checkpoint_steps, train_many


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_vectorised_training_equals_per_model(optimizer):
    g = torch.Generator().manual_seed(0)
    W, b = kgon_init(4, 6, 6, noise=0.1, generator=g)
    data = sparse_uniform(500, 6, torch.tensor([0.1, 0.3, 0.5, 0.9]).view(4, 1, 1), g,
                          leading=(4,))
    cfg = TiedTrainConfig(steps=200, lr=1e-2, batch_size=32, optimizer=optimizer, checkpoints=6)
    together = train_many(W, b, data, cfg, seed=5)
    for i in range(4):
        alone = train_many(W[i:i + 1], b[i:i + 1], data[i:i + 1], cfg, seed=5)
        assert torch.allclose(together.W[:, i], alone.W[:, 0], atol=1e-5)
        assert torch.allclose(together.b[:, i], alone.b[:, 0], atol=1e-5)
    assert not torch.allclose(together.W[-1], together.W[0], atol=1e-3)  # it did train
    assert (together.loss[-1] < together.loss[0]).all()
    assert torch.allclose(together.loss[-1], loss(together.W[-1], together.b[-1], data))


def test_checkpoint_steps_log_spaced():
    steps = checkpoint_steps(10000, 6)
    assert steps == [0, 1, 10, 100, 1000, 10000]
    assert checkpoint_steps(3, 10) == [0, 1, 2, 3]


def test_convex_hull_square_with_interior_point():
    pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]])
    hull = convex_hull(pts)
    assert sorted(map(tuple, hull)) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_gif_has_one_frame_per_checkpoint(tmp_path):
    g = torch.Generator().manual_seed(1)
    W, b = kgon_init(1, 6, 6, noise=0.05, generator=g)
    data = sparse_uniform(200, 6, 0.2, g, leading=(1,))
    traj = train_many(W, b, data, TiedTrainConfig(steps=30, batch_size=16, checkpoints=5), seed=0)
    path = tmp_path / "poly.gif"
    count = write_gif(path, traj.W[:, 0], traj.b[:, 0], traj.steps, traj.loss[:, 0])
    frames = imageio.mimread(path)
    assert count == len(traj.steps) == len(frames) == 5
    assert frames[0].shape[-1] in (3, 4) and not np.array_equal(frames[0], frames[-1])
