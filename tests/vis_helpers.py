"""A tiny collected activation set and a hand-made 4-feature SAE for the feature-browser tests."""

import json
from pathlib import Path

import torch

from othello.az.model import NetConfig, PolicyValueNet
from othello.interp.activations import collect_dataset
from sae.archs.relu import ReluSAE

PROMOTED = 8  # c2: feature 0 writes the policy head's (centred) row of this move


def centred(v: torch.Tensor) -> torch.Tensor:
    return v - v.mean()


def make_sae_run(root: Path) -> tuple[Path, ReluSAE, PolicyValueNet]:
    """Activations of a random net (block 2 of 2, so only the heads read the stream) and an SAE
    folder whose features are: 0 = the policy row of PROMOTED, 1 = twice feature 0, 2 = the
    value head's row, 3 = a random direction."""
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(width=32, blocks=2)).eval()
    collect_dataset(net, {"checkpoint": "test"}, root / "acts", 1200, [2], seed=0,
                    progress=False)
    sae = ReluSAE(32, 4, scale=1.0)
    with torch.no_grad():
        u = centred(net.policy_head.weight[PROMOTED])
        dec = torch.stack([u, 2 * u, centred(net.value_head.weight[0]), torch.randn(32)])
        sae.dec_weight.copy_(dec / dec.norm(dim=1, keepdim=True) * 3.0)
        sae.enc_weight.copy_(torch.randn(32, 4, generator=torch.Generator().manual_seed(1)))
        sae.enc_bias.copy_(torch.tensor([0.0, 0.0, 0.0, -1e6]))  # feature 3 never fires
    folder = root / "sae" / "relu_f4_l1_1"
    folder.mkdir(parents=True)
    sae.save(folder)
    meta = {"config": {"arch": "relu", "n_features": 4, "l1": 1.0},
            "data": {"acts": str(root / "acts" / "acts_block2.npy")}}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "metrics.json").write_text(json.dumps({"reconstruction": {"fvu": 0.25, "l0": 1.5}}))
    return folder, sae, net


def make_wide_sae(root: Path, net: PolicyValueNet, acts: torch.Tensor,
                  n_features: int = 24) -> tuple[Path, ReluSAE]:
    """An SAE folder next to make_sae_run's with `n_features` random features whose biases make
    them fire on 2% to 60% of the rows (the last one never fires), for brute-force checks."""
    gen = torch.Generator().manual_seed(2)
    sae = ReluSAE(acts.shape[1], n_features, scale=1.0)
    with torch.no_grad():
        w = torch.randn(acts.shape[1], n_features, generator=gen)
        pre = acts @ w
        q = torch.linspace(0.98, 0.4, n_features)
        bias = -torch.stack([pre[:, j].quantile(q[j]) for j in range(n_features)])
        bias[-1] = -1e6
        dec = torch.randn(n_features, acts.shape[1], generator=gen)
        sae.enc_weight.copy_(w)
        sae.enc_bias.copy_(bias)
        sae.dec_weight.copy_(3.0 * dec / dec.norm(dim=1, keepdim=True) / pre.std())
    folder = root / "sae" / f"relu_f{n_features}_l1_1"
    folder.mkdir(parents=True)
    sae.save(folder)
    meta = {"config": {"arch": "relu", "n_features": n_features, "sparsity": {"l1": 1.0}},
            "data": {"acts": str(root / "acts" / "acts_block2.npy"), "layer": 2}}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder, sae
