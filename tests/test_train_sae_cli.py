"""train_sae.py end to end on tiny inputs: a bare .npy, a collected dataset, bad values."""

import json

import numpy as np
import pytest
import torch

import sae
from othello.az.model import NetConfig, PolicyValueNet
from othello.interp.activations import collect_dataset
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
    model = sae.load(tmp_path / "out" / "topk_f16_k4" / "sae.pt")
    assert model.W_dec.shape == (16, 12)
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert summary["rows"][0]["fvu"] == metrics["reconstruction"]["fvu"]
    assert (tmp_path / "res" / "fvu_vs_l0.png").stat().st_size > 1000
    stamp = (tmp_path / "out" / "topk_f16_k4" / "sae.pt").stat().st_mtime_ns
    assert main(argv) == 0  # resumes: the finished SAE is not retrained
    assert (tmp_path / "out" / "topk_f16_k4" / "sae.pt").stat().st_mtime_ns == stamp


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
