"""SAEs saved by the project load in SAELens (`sae_lens.SAE.load_from_disk`) with the same
latents and reconstructions. Needs the `interop` extra, which `make test` (and so CI) installs."""

import os

import numpy as np
import pytest
import torch

import sae
from sae.data import split_rows
from sae.train import TrainConfig, train_sae

if os.environ.get("CI"):  # CI installs the extra: a missing sae_lens there is a failure
    import sae_lens
else:
    sae_lens = pytest.importorskip(
        "sae_lens", reason="sae-lens is not installed here (pip install -e '.[interop]')")


@pytest.mark.parametrize("arch,hyper", [("relu", {"l1": 1.0}), ("topk", {"k": 4})])
def test_sae_lens_loads_a_trained_project_sae(tmp_path, arch, hyper):
    # activations far from unit norm and off-centre, so both the scale and b_dec matter
    rng = np.random.default_rng(0)
    x = (7.0 * rng.standard_normal((800, 12)) + 3.0).astype(np.float32)
    cfg = TrainConfig(arch=arch, n_features=32, hyper=hyper, steps=40, batch_size=64)
    model, _ = train_sae(cfg, x, split_rows(len(x), 0.1, seed=0), progress=False)
    assert abs(float(model.scale) - 1.0) > 0.5
    model.save(tmp_path / "s")

    theirs = sae_lens.SAE.load_from_disk(tmp_path / "s")
    ours = sae.load(tmp_path / "s")
    assert theirs.cfg.architecture() == {"relu": "standard", "topk": "topk"}[arch]
    assert (theirs.cfg.d_in, theirs.cfg.d_sae) == (12, 32)
    xt = torch.from_numpy(x[:200])
    with torch.no_grad():
        f_theirs, f_ours, f_trained = theirs.encode(xt), ours.encode(xt), model.encode(xt)
        torch.testing.assert_close(f_theirs, f_ours, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(f_ours, f_trained, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(theirs.decode(f_theirs), ours.decode(f_ours),
                                   atol=1e-4, rtol=1e-5)
    assert int((f_theirs > 0).sum()) > 0
