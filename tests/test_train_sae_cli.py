"""train_sae.py end to end on tiny inputs: a bare .npy, a collected dataset, bad values."""

import json

import numpy as np
import pytest
import torch

import sae
from othello.az.model import NetConfig, PolicyValueNet
from othello.interp.activations import collect_dataset
from othello.interp.dataset import open_dataset
from sae.data import split_rows
from train_sae import main


def test_bare_array_trains_resumes_and_loads(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((800, 4)) @ rng.standard_normal((4, 12))).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    argv = ["--acts", str(tmp_path / "x.npy"), "--arch", "topk", "--features", "16", "--k", "4",
            "--steps", "300", "--batch-size", "64", "--out", str(tmp_path / "out"),
            "--results", str(tmp_path / "res"), "--no-progress"]
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "out" / "topk_f16_k4" / "metrics.json").read_text())
    assert metrics["reconstruction"]["l0"] == pytest.approx(4.0)
    assert metrics["reconstruction"]["fvu"] < 0.2  # rank-4 data, 4 active latents
    assert "splice" not in metrics  # no network behind a bare array
    model = sae.load(tmp_path / "out" / "topk_f16_k4")
    assert model.W_dec.shape == (16, 12)
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert summary["rows"][0]["fvu"] == metrics["reconstruction"]["fvu"]
    assert (tmp_path / "res" / "fvu_vs_l0.png").stat().st_size > 1000
    weights = tmp_path / "out" / "topk_f16_k4" / "sae_weights.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert main(argv) == 0  # resumes: the finished SAE is not retrained
    assert weights.stat().st_mtime_ns == stamp


def test_collected_dataset_gets_splice_and_concept_metrics(tmp_path):
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(width=32, blocks=3)).eval()
    collect_dataset(net, {"checkpoint": "test"}, tmp_path / "acts", 1500, [2], seed=0,
                    progress=False)
    assert main(["--acts", str(tmp_path / "acts"), "--arch", "relu", "--features", "64",
                 "--l1", "1", "--steps", "40", "--batch-size", "128", "--holdout", "0.3",
                 "--out", str(tmp_path / "out"), "--results", str(tmp_path / "res"),
                 "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "out" / "relu_f64_l1_1" / "metrics.json").read_text())
    assert 0 <= metrics["splice"]["policy_kl_sae"] < metrics["splice"]["policy_kl_zero"]
    assert 0 < metrics["concepts"]["board"]["coverage"] <= 1
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert 0 < summary["neuron_baseline"]["board"]["coverage"] <= 1
    assert (tmp_path / "res" / "coverage_vs_l0.png").is_file()
    # the numbers themselves, recomputed by brute force on the same held-out rows
    ds = open_dataset(tmp_path / "acts")
    test = split_rows(1500, 0.3, seed=0, max_test=50_000).test  # all 450 used (< 10,000)
    x = torch.from_numpy(np.asarray(ds.acts()[test]))
    model = sae.load(tmp_path / "out" / "relu_f64_l1_1")
    boards, legal = ds.boards(test), ds.legal(test)
    with torch.no_grad():
        feats = model.encode(x).numpy()
        clean_logits, clean_v = net.forward_from(x, 2)
        sae_logits, sae_v = net.forward_from(model(x), 2)
    truth = np.concatenate([boards == 1, boards == -1], axis=1)  # the "board" group
    xn = x.numpy()
    for name, f in (("sae", feats), ("neurons", np.maximum(np.concatenate([xn, -xn], 1), 0))):
        expect = {"coverage": 0.0, "coverage_occurring": 0.0}
        for t in np.round(np.arange(11) * 0.1, 1):
            fire = (f > t * f.max(0)).astype(float)
            tp = fire.T @ truth
            denom = fire.sum(0)[:, None] + truth.sum(0)[None]
            best = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0).max(0)
            expect["coverage"] = max(expect["coverage"], best.mean())  # over all 72
            occurs = truth.any(0)
            expect["coverage_occurring"] = max(expect["coverage_occurring"], best[occurs].mean())
        got = (metrics["concepts"] if name == "sae" else summary["neuron_baseline"])["board"]
        for key, value in expect.items():
            assert got[key] == pytest.approx(value, abs=1e-5), (name, key)
    # splicing: KL(clean || spliced) over each row's own legal moves, and the value change
    legal_t = torch.from_numpy(legal)
    logp = clean_logits.masked_fill(~legal_t, -torch.inf).log_softmax(-1)
    logq = sae_logits.masked_fill(~legal_t, -torch.inf).log_softmax(-1)
    kl = torch.where(legal_t, logp.exp() * (logp - logq), 0.0).sum(-1).mean()
    assert metrics["splice"]["policy_kl_sae"] == pytest.approx(float(kl), rel=1e-4)
    assert metrics["splice"]["value_mse_sae"] == pytest.approx(
        float((sae_v - clean_v).pow(2).mean()), rel=1e-4)
    assert metrics["splice"]["policy_kl_clean"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("argv,message", [
    (["--features", "0"], "expected a number >= 1"),
    (["--holdout", "1"], "--holdout: must be strictly between 0 and 1"),
    (["--arch", "gated"], "invalid choice"),
])
def test_bad_values_are_one_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_missing_activations_say_what_to_do(tmp_path, capsys):
    assert main(["--acts", str(tmp_path / "none.npy")]) == 2
    assert "activations file not found" in capsys.readouterr().err


def test_quick_collects_once_per_checkpoint(tmp_path, monkeypatch, capsys):
    import train_sae
    from othello.az.model import save_model

    monkeypatch.setattr(train_sae, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(train_sae, "QUICK_POSITIONS", 1500)
    torch.manual_seed(0)
    ckpt = tmp_path / "net.pt"
    save_model(ckpt, PolicyValueNet(NetConfig(width=16, blocks=3)))
    argv = ["--quick", "--checkpoint", str(ckpt), "--arch", "topk", "--features", "32", "--k", "4",
            "--steps", "10", "--batch-size", "64", "--no-progress"]
    assert main(argv) == 0
    assert "collecting 1500 positions" in capsys.readouterr().out
    meta = json.loads((tmp_path / "runs" / "activations" / "net-quick" / "meta.json").read_text())
    assert meta["count"] == 1500 and meta["blocks"] == [2]
    assert (tmp_path / "runs" / "sae" / "net-quick" / "results" / "summary.json").is_file()
    assert main(argv) == 0  # same checkpoint: reuses the activations
    assert "collecting" not in capsys.readouterr().out
    torch.manual_seed(1)
    save_model(ckpt, PolicyValueNet(NetConfig(width=16, blocks=3)))  # a new agent, same path
    assert main(argv) == 0
    assert "collecting" in capsys.readouterr().out


def test_a_diverged_sae_is_refused_not_saved(tmp_path, capsys):
    x = np.random.default_rng(0).standard_normal((400, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    argv = ["--acts", str(tmp_path / "x.npy"), "--arch", "relu", "--features", "16", "--l1", "1",
            "--steps", "30", "--batch-size", "32", "--lr", "1e30", "--out", str(tmp_path / "out"),
            "--results", str(tmp_path / "res"), "--no-progress"]
    assert main(argv) == 2
    assert "diverged" in capsys.readouterr().err
    assert not list((tmp_path / "out").rglob("sae.pt"))  # nothing a rerun could reuse
