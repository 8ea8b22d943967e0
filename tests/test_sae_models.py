"""SAE architectures: original-unit interface, saved scaling, losses and constraints."""

import json

import numpy as np
import pytest
import torch

import sae
from common.io import CheckpointError, save_checkpoint
from sae.archs.relu import ReluSAE
from sae.archs.topk import TopKSAE, geometric_median, topk_relu
from sae.data import split_rows
from sae.train import TrainConfig, train_sae


def _random_sae(arch: str, scale: float, **hyper):
    model = sae.build(arch, 6, 10, scale, **hyper)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return model


@pytest.mark.parametrize("arch,hyper", [("relu", {"l1": 2.0}), ("topk", {"k": 3})])
def test_encode_decode_work_in_original_units(arch, hyper):
    model = _random_sae(arch, 4.0, **hyper)
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    xs = 4.0 * x
    pre = (xs - model.dec_bias if arch == "topk" else xs) @ model.enc_weight + model.enc_bias
    f = torch.relu(pre) if arch == "relu" else topk_relu(pre, 3)
    torch.testing.assert_close(model.encode(x), f)
    expected = (f @ model.dec_weight + model.dec_bias) / 4.0
    torch.testing.assert_close(model(x), expected)
    # The exposed decoder is in original units: x_hat = f W_dec + b_dec.
    torch.testing.assert_close(model.encode(x) @ model.W_dec + model.b_dec, expected)
    assert model.W_dec.shape == (10, 6)


def test_topk_relu_hand_case():
    out = topk_relu(torch.tensor([[3.0, -1.0, 2.0, 5.0], [-1.0, -2.0, -3.0, -4.0]]), 2)
    torch.testing.assert_close(out, torch.tensor([[3.0, 0, 0, 5.0], [0, 0, 0, 0]]))


def test_relu_loss_hand_case():
    model = ReluSAE(2, 2, l1=3.0, warmup=0.5)
    with torch.no_grad():
        model.enc_weight.copy_(torch.eye(2))
        model.enc_bias.zero_()
        model.dec_weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 0.5]]))
        model.dec_bias.zero_()
    xs = torch.tensor([[1.0, 2.0]])  # f = [1, 2]; x_hat = [2, 1]; error^2 = 1 + 1
    # sparsity = 1 * ||row0|| + 2 * ||row1|| = 2 + 1 = 3; lambda at progress 0.25 = 3 * 0.5
    out = model.loss(xs, progress=0.25, dead=torch.zeros(2, dtype=torch.bool))
    assert out.parts["mse"] == pytest.approx(2.0)
    assert out.parts["l1"] == pytest.approx(3.0)
    assert out.loss.item() == pytest.approx(2.0 + 1.5 * 3.0)
    full = model.loss(xs, progress=0.9, dead=torch.zeros(2, dtype=torch.bool))
    assert full.loss.item() == pytest.approx(2.0 + 3.0 * 3.0)


def test_topk_auxk_and_decoder_constraint():
    torch.manual_seed(0)
    model = TopKSAE(8, 16, k=2, k_aux=4)
    model.init_weights(torch.Generator().manual_seed(0), dec_norm=1.0)
    xs = torch.randn(32, 8)
    none_dead = model.loss(xs, 0.5, torch.zeros(16, dtype=torch.bool))
    assert "aux" not in none_dead.parts
    all_dead = model.loss(xs, 0.5, torch.ones(16, dtype=torch.bool))
    assert all_dead.parts["aux"] > 0
    assert all_dead.loss.item() == pytest.approx(all_dead.parts["nmse"]
                                                 + all_dead.parts["aux"] / 32)
    all_dead.loss.backward()
    model.before_step()  # gradient has no component along each decoder row
    radial = (model.dec_weight.grad * model.dec_weight).sum(dim=1)
    assert radial.abs().max() < 1e-5
    assert model.dec_weight.grad.grad_fn is None  # no autograd history kept (it leaked memory)
    with torch.no_grad():
        model.dec_weight.mul_(3.0)
    model.after_step()
    torch.testing.assert_close(model.dec_weight.norm(dim=1), torch.ones(16))


def _hand_topk() -> TopKSAE:
    """d = 2, four unit decoder rows w0 = (1, 0), w1 = (0, 1), w2 = (0.6, 0.8), w3 = (0.8, -0.6);
    tied encoder, zero biases, k = 1, k_aux = 1; the data variance is set to 2."""
    model = TopKSAE(2, 4, k=1, k_aux=1)
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, -0.6]])
    with torch.no_grad():
        model.dec_weight.copy_(w)
        model.enc_weight.copy_(w.T)
        model.enc_bias.zero_()
        model.dec_bias.zero_()
        model.data_var.fill_(2.0)
    return model


def test_auxk_hand_case():
    """x_a = (3, 1): pre-activations (3, 1, 2.6, 1.8), TopK keeps w0 -> x_hat (3, 0), residual
    e_a = (0, 1). x_b = (0, 2): pre (0, 2, 1.6, -1.2), keeps w1 -> x_hat = x, e_b = (0, 0).
    Main term: squared errors (1 + 0) / 2 = 0.5 over the data variance 2 -> 0.25.
    Latents 2 and 3 dead: the largest dead pre-activation is w2's in both rows (2.6, 1.6), so
    e_hat_a = 2.6 w2 = (1.56, 2.08), e_hat_b = 1.6 w2 = (0.96, 1.28); squared errors 3.6 and 2.56,
    mean 3.08; the residual's batch variance: mean (0, 0.5), deviations 0.25 each -> 0.25;
    AuxK = 3.08 / 0.25 = 12.32; total = 0.25 + 12.32 / 32 = 0.635.
    Wrong variants give: live latents instead of dead (w0, w1: errors 10 and 4) 28; no
    normalisation 3.08; no coefficient 12.57; main term over the batch variance 2.5: 0.2."""
    model = _hand_topk()
    xs = torch.tensor([[3.0, 1.0], [0.0, 2.0]])
    dead = torch.tensor([False, False, True, True])
    out = model.loss(xs, 0.5, dead)
    assert out.parts["mse"] == pytest.approx(0.5)
    assert out.parts["nmse"] == pytest.approx(0.25)
    assert out.parts["aux_mse"] == pytest.approx(3.08)
    assert out.parts["aux"] == pytest.approx(12.32)
    assert out.loss.item() == pytest.approx(0.635)
    assert "aux" not in model.loss(xs, 0.5, torch.zeros(4, dtype=torch.bool)).parts
    # the AuxK gradient reaches the dead latents only, and not through x_hat (detached residual)
    out_aux, _ = model.aux_loss(model.pre_scaled(xs), (xs - model(xs)).detach(), dead)
    out_aux.backward()
    assert model.dec_weight.grad[:2].abs().max() == 0
    assert model.dec_weight.grad[2].abs().max() > 0
    # no live latent is ever used, however large its pre-activation
    wide = TopKSAE(2, 4, k=1, k_aux=4)
    wide.load_state_dict(model.state_dict())
    _, sq = wide.aux_loss(model.pre_scaled(xs).detach(), torch.zeros(2, 2), dead)
    # k_aux = 4 > 2 dead latents: both dead ones, never the live w0 / w1; ReLU'd:
    # e_hat_a = 2.6 w2 + 1.8 w3 = (3.0, 1.0), e_hat_b = 1.6 w2 + 0 w3 = (0.96, 1.28)
    assert float(sq.detach()) == pytest.approx((9 + 1 + 0.9216 + 1.6384) / 2)


def test_topk_initialisation_geometric_median_and_variance():
    # the Fermat point of a triangle with all angles < 120 degrees: for this equilateral one,
    # its centre
    tri = torch.tensor([[0.0, 0.0], [2.0, 0.0], [1.0, 3 ** 0.5]])
    torch.testing.assert_close(geometric_median(tri), torch.tensor([1.0, 3 ** -0.5]),
                               atol=1e-4, rtol=0)
    # robust: 5% far outliers move the mean by 50, the geometric median by well under 1
    gen = torch.Generator().manual_seed(0)
    bulk = torch.randn(950, 8, generator=gen)
    sample = torch.cat([bulk, torch.full((50, 8), 1000.0)])
    model = TopKSAE(8, 16, k=2)
    model.initialise(gen, sample)
    assert float(model.dec_bias.detach().norm()) < 1.0 and float(sample.mean(0).norm()) > 100
    torch.testing.assert_close(model.dec_bias, geometric_median(sample))
    expected_var = float((sample - sample.mean(0)).pow(2).sum(1).mean())
    assert float(model.data_var) == pytest.approx(expected_var, rel=1e-5)


def test_save_load_round_trip_and_bad_files(tmp_path):
    model = _random_sae("topk", 2.5, k=4, k_aux=5)
    model.save(tmp_path / "s", note="x")
    cfg = json.loads((tmp_path / "s" / "cfg.json").read_text())
    assert (cfg["architecture"], cfg["d_in"], cfg["d_sae"], cfg["k"]) == ("topk", 6, 10, 4)
    assert cfg["apply_b_dec_to_input"] and cfg["normalize_activations"] == "none"
    assert cfg["othello_interp"]["note"] == "x"
    x = torch.randn(3, 6)
    for path in (tmp_path / "s", tmp_path / "s" / "cfg.json"):
        loaded = sae.load(path)
        assert isinstance(loaded, TopKSAE) and (loaded.k, loaded.k_aux) == (4, 5)
        assert float(loaded.scale) == 2.5 and not loaded.training
        torch.testing.assert_close(loaded.encode(x), model.encode(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(loaded(x), model(x), atol=1e-5, rtol=1e-5)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError):
        sae.load(tmp_path / "junk.pt")
    (tmp_path / "s" / "sae_weights.safetensors").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="safetensors"):
        sae.load(tmp_path / "s")
    torch.save({"config": {"arch": "nope", "d": 2, "n_features": 2, "scale": 1.0},
                "model": {}}, tmp_path / "arch.pt")
    with pytest.raises(CheckpointError, match="unknown SAE architecture"):
        sae.load(tmp_path / "arch.pt")


@pytest.mark.parametrize("arch,hyper,bias_in", [("relu", {"l1": 1.0}, False),
                                                ("topk", {"k": 3}, True)])
def test_saved_weights_are_in_original_units(tmp_path, arch, hyper, bias_in):
    """The file's W_enc / b_enc / W_dec / b_dec give the SAE's latents and reconstruction by
    SAELens's formulas (relu(x @ W_enc + b_enc), or TopK of (x - b_dec) @ W_enc + b_enc), with
    no knowledge of the scale: what `sae_lens` computes from the same file."""
    from safetensors.torch import load_file

    model = _random_sae(arch, 3.0, **hyper)
    model.save(tmp_path / "s")
    w = load_file(tmp_path / "s" / "sae_weights.safetensors")
    x = torch.randn(5, 6)
    pre = (x - w["b_dec"] * bias_in) @ w["W_enc"] + w["b_enc"]
    f = model.activation(pre)
    torch.testing.assert_close(f, model.encode(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(f @ w["W_dec"] + w["b_dec"], model(x), atol=1e-5, rtol=1e-5)


def test_old_sae_pt_checkpoints_still_load(tmp_path):
    """SAEs saved before the SAELens layout (a torch checkpoint `sae.pt`) keep loading, from
    the file or its folder."""
    model = _random_sae("relu", 2.0, l1=1.0)
    save_checkpoint(tmp_path / "old" / "sae.pt", {"kind": "sae", "config": model.config(),
                                                 "model": model.state_dict()})
    assert sae.saved(tmp_path / "old") and not sae.saved(tmp_path)
    x = torch.randn(4, 6)
    for path in (tmp_path / "old", tmp_path / "old" / "sae.pt"):
        torch.testing.assert_close(sae.load(path).encode(x), model.encode(x))
    from scripts.convert_checkpoints import main

    assert main([str(tmp_path)]) == 0  # converts every */sae.pt under the folder
    assert (tmp_path / "old" / "cfg.json").is_file()
    torch.testing.assert_close(sae.load(tmp_path / "old" / "cfg.json").encode(x), model.encode(x),
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("arch,hyper", [("relu", {"l1": 1.0}), ("topk", {"k": 3})])
def test_training_does_not_depend_on_the_units_of_the_activations(tmp_path, arch, hyper):
    """The scale is fitted and stored: activations x 10 give the same features and a decoder
    x 10, so consumers see the same SAE in whatever units they hold."""
    x = np.random.default_rng(0).standard_normal((600, 8)).astype(np.float32)
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", 10 * x)
    cfg = TrainConfig(arch=arch, n_features=16, hyper=hyper, steps=30, batch_size=64)
    split = split_rows(600, 0.2, seed=0)
    a, _ = train_sae(cfg, np.load(tmp_path / "a.npy", mmap_mode="r"), split, progress=False)
    b, _ = train_sae(cfg, np.load(tmp_path / "b.npy", mmap_mode="r"), split, progress=False)
    xt = torch.from_numpy(x[:50])
    assert float(b.scale) == pytest.approx(float(a.scale) / 10, rel=1e-5)
    torch.testing.assert_close(b.encode(10 * xt), a.encode(xt), atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(b.W_dec, 10 * a.W_dec, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(b(10 * xt), 10 * a(xt), atol=1e-2, rtol=1e-3)
