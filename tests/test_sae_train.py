"""SAE training: the held-out split, the schedule, dead latents, and dictionary recovery."""

import time

import numpy as np
import pytest
import torch

from sae.data import ActivationsError, batches, gather, open_acts, split_rows
from sae.train import TrainConfig, lr_factor, train_sae, update_since_fired


def test_split_is_shuffled_disjoint_and_reproducible():
    s = split_rows(1000, 0.1, seed=3)
    assert len(s.test) == 100 and len(s.train) == 900
    assert len(np.union1d(s.train, s.test)) == 1000
    assert np.array_equal(s.test, split_rows(1000, 0.1, seed=3).test)
    # shuffled before splitting: the held-out rows are spread over the whole range
    assert s.test.min() < 100 and s.test.max() > 900
    assert len(split_rows(1000, 0.5, seed=0, max_test=30).test) == 30


def test_batches_cover_an_epoch_without_repeats():
    acts = np.arange(40, dtype=np.float32).reshape(20, 2)
    rows = np.arange(4, 20)
    it = batches(acts, rows, 4, np.random.default_rng(0))
    seen = np.concatenate([next(it)[:, 0].numpy() / 2 for _ in range(4)])
    assert sorted(seen.astype(int).tolist()) == list(range(4, 20))


def test_gather_keeps_the_order_asked_for():
    acts = np.arange(20, dtype=np.float32).reshape(10, 2)
    rows = np.array([7, 2, 9, 2, 0])  # unsorted, with a repeat
    assert gather(acts, rows)[:, 0].tolist() == [14.0, 4.0, 18.0, 4.0, 0.0]


def test_open_acts_rejects_bad_files(tmp_path):
    with pytest.raises(ActivationsError, match="not found"):
        open_acts(tmp_path / "none.npy")
    np.save(tmp_path / "ints.npy", np.zeros((4, 2), dtype=np.int64))
    with pytest.raises(ActivationsError, match="float"):
        open_acts(tmp_path / "ints.npy")


def test_lr_schedule_hand_values():
    assert lr_factor(0, 100, 0.2) == 1.0
    assert lr_factor(79, 100, 0.2) == 1.0
    assert lr_factor(90, 100, 0.2) == pytest.approx(0.5)
    assert lr_factor(100, 100, 0.2) == 0.0


def test_tokens_since_fired_hand_case():
    since = torch.tensor([0, 5, 100])
    feats = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert update_since_fired(since, feats).tolist() == [2, 0, 102]


def test_dead_window_default_scales_with_the_run():
    assert TrainConfig(steps=150, batch_size=1024).dead_window == 15_360  # a tenth of the run
    assert TrainConfig(steps=10**6, batch_size=4096).dead_window == 10_000_000  # Gao et al.'s cap
    assert TrainConfig(dead_tokens=256).dead_window == 256
    assert TrainConfig(steps=150).to_dict()["dead_window"] == 15_360


def test_dead_latents_are_tracked_in_training(tmp_path):
    np.save(tmp_path / "a.npy", np.random.default_rng(0).standard_normal((512, 8), np.float32))
    acts = open_acts(tmp_path / "a.npy")
    # A huge L1 penalty silences most latents (dead after 256 silent tokens); none without it.
    history = {}
    for l1 in (0.0, 1e4):
        cfg = TrainConfig(arch="relu", n_features=16, hyper={"l1": l1, "warmup": 0.0},
                          steps=40, batch_size=64, dead_tokens=256, lr=1e-2)
        history[l1] = train_sae(cfg, acts, split_rows(512, 0.1, 0), progress=False,
                                log_every=10)[1]
    assert history[1e4][0]["dead_fraction"] == 0.0
    assert history[1e4][-1]["dead_fraction"] >= 0.75
    assert history[0.0][-1]["dead_fraction"] == 0.0


def synthetic(n: int, d: int, atoms: int, active: int, noise: float, seed: int):
    """Sparse non-negative combinations of a random unit dictionary plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    dictionary = rng.standard_normal((atoms, d))
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    codes = np.zeros((n, atoms))
    idx = np.argsort(rng.random((n, atoms)), axis=1)[:, :active]
    np.put_along_axis(codes, idx, rng.uniform(0.5, 1.5, (n, active)), axis=1)
    x = codes @ dictionary + noise * rng.standard_normal((n, d))
    return x.astype(np.float32), dictionary


def mean_best_cosine(true: np.ndarray, learned: np.ndarray) -> float:
    a = true / np.linalg.norm(true, axis=1, keepdims=True)
    b = learned / np.linalg.norm(learned, axis=1, keepdims=True)
    return float((a @ b.T).max(axis=1).mean())


def test_topk_recovers_a_synthetic_dictionary(tmp_path):
    """64 unit atoms in 32 dimensions, 3 active per sample (values U[0.5, 1.5]) plus noise of
    std 0.02 per dimension. The threshold 0.9 is far above chance: the same score for a random
    decoder is about 0.5 (checked below), and a learned row at cosine 0.9 explains 81% of its
    atom's direction. A correct TopK SAE (k = 3, 64 latents) reaches 0.98 here (0.95 at a third
    of the learning rate)."""
    x, dictionary = synthetic(20_000, 32, 64, 3, 0.02, seed=0)
    np.save(tmp_path / "syn.npy", x)
    acts = open_acts(tmp_path / "syn.npy")
    cfg = TrainConfig(arch="topk", n_features=64, hyper={"k": 3}, steps=1500, batch_size=256,
                      lr=3e-3, dead_tokens=20_000)
    start = time.perf_counter()
    model, _ = train_sae(cfg, acts, split_rows(len(x), 0.05, 0), progress=False)
    seconds = time.perf_counter() - start
    chance = mean_best_cosine(dictionary, np.random.default_rng(1).standard_normal((64, 32)))
    score = mean_best_cosine(dictionary, model.W_dec.detach().numpy())
    assert chance < 0.6
    assert score > 0.9, f"mean best cosine {score:.3f} (chance {chance:.3f}, {seconds:.0f} s)"
    xt = torch.from_numpy(x[:2000])
    with torch.no_grad():
        fvu = (xt - model(xt)).pow(2).sum() / (xt - xt.mean(0)).pow(2).sum()
    assert float(fvu) < 0.1  # about 0.075; predicting the mean gives 1
