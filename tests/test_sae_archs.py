"""A new SAE architecture is one class: BatchTopK (Bussmann et al. 2024) defined here, registered,
and trained through the generic trainer and through train_sae.py's grid, untouched."""

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import sae
from common.config import at_least, knob
from sae.archs import ARCHS, SAE, LossParts, register, sq_error
from sae.data import open_acts, split_rows
from sae.train import TrainConfig, train_sae
from tests.test_sae_train import synthetic


@dataclass(frozen=True)
class BatchTopKConfig:
    k: int = knob(4, "BatchTopK: mean active latents per input", check=at_least(1))


class BatchTopKSAE(SAE):
    """The k * B largest pre-activations of a batch of B rows (ReLU'd), over the whole batch."""

    arch = "batchtopk"
    title = "BatchTopK"
    Config = BatchTopKConfig
    grid = {"k": (4,)}
    subtract_dec_bias = True

    def initialise(self, generator, sample):
        self.init_weights(generator, dec_norm=1.0, dec_bias=sample.mean(0))

    def activation(self, pre):
        values, idx = pre.flatten().topk(self.hp.k * pre.shape[0])
        return torch.zeros(pre.numel()).scatter_(0, idx, torch.relu(values)).view_as(pre)

    def loss(self, xs, progress, dead):
        f = self.encode_scaled(xs)
        mse = sq_error(xs, self.decode_scaled(f))
        return LossParts(mse, f, {"mse": mse.item()})

    @torch.no_grad()
    def after_step(self):
        self.dec_weight /= self.dec_weight.norm(dim=1, keepdim=True)


@pytest.fixture
def batchtopk():
    register(BatchTopKSAE)
    yield BatchTopKSAE
    del ARCHS["batchtopk"]


def test_batchtopk_trains_through_the_generic_trainer(tmp_path, batchtopk):
    x, _ = synthetic(8000, 32, 64, 3, 0.02, seed=0)
    np.save(tmp_path / "syn.npy", x)
    acts = open_acts(tmp_path / "syn.npy")
    cfg = TrainConfig(arch="batchtopk", n_features=64, hyper={"k": 3}, steps=600,
                      batch_size=256, lr=3e-3)
    model, history = train_sae(cfg, acts, split_rows(len(x), 0.05, 0), progress=False)
    assert isinstance(model, BatchTopKSAE) and cfg.name == "batchtopk_f64_k3"
    xt = torch.from_numpy(x[:512])
    with torch.no_grad():
        f = model.encode(xt)
        fvu = float((xt - model(xt)).pow(2).sum() / (xt - xt.mean(0)).pow(2).sum())
    # exactly k * B latents over the batch, but not k in every row (per-row TopK would be)
    assert int((f > 0).sum()) == 3 * 512
    assert len(set((f > 0).sum(dim=1).tolist())) > 1
    assert fvu < 0.15, f"FVU {fvu:.3f}"  # about 0.08; the mean predictor scores 1
    model.save(tmp_path / "b")
    loaded = sae.load(tmp_path / "b")
    assert isinstance(loaded, BatchTopKSAE) and loaded.hp.k == 3
    torch.testing.assert_close(loaded(xt), model(xt))


def test_batchtopk_trains_through_the_grid_cli(tmp_path, batchtopk):
    from train_sae import main

    x, _ = synthetic(2000, 16, 24, 2, 0.02, seed=1)
    np.save(tmp_path / "x.npy", x)
    assert main(["--acts", str(tmp_path / "x.npy"), "--arch", "batchtopk", "topk",
                 "--features", "32", "--k", "2", "4", "--steps", "60", "--batch-size", "128",
                 "--out", str(tmp_path / "out"), "--results", str(tmp_path / "res"),
                 "--no-progress"]) == 0
    for k in (2, 4):
        metrics = json.loads((tmp_path / "out" / f"batchtopk_f32_k{k}" / "metrics.json")
                             .read_text())
        assert metrics["config"]["sparsity"] == {"k": k}
        # the held-out rows are encoded as one batch: k latents per row on average
        assert metrics["reconstruction"]["l0"] == pytest.approx(k)
    rows = json.loads((tmp_path / "res" / "summary.json").read_text())["rows"]
    assert sorted(r["name"] for r in rows) == ["batchtopk_f32_k2", "batchtopk_f32_k4",
                                               "topk_f32_k2", "topk_f32_k4"]
    assert {r["label"] for r in rows} >= {"BatchTopK k=2", "TopK k=4"}
