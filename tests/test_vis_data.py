"""Feature-browser data: the JSON written by vis/generate_vis_data.py against brute force."""

import json

import numpy as np
import pytest
import torch

from othello.interp.dataset import open_dataset
from tests.vis_helpers import PROMOTED, make_sae_run
from vis.generate_vis_data import main


@pytest.fixture(scope="module")
def vis(tmp_path_factory):
    root = tmp_path_factory.mktemp("vis")
    folder, sae, net = make_sae_run(root)
    assert main(["--sae", str(folder), "--out", str(root / "data"), "--shard-size", "3",
                 "--top-k", "5"]) == 0
    data = open_dataset(root / "acts")
    with torch.no_grad():
        acts = sae.encode(torch.from_numpy(np.array(data.acts()))).numpy()
    shards = [json.loads((root / "data" / "acts" / folder.name / f"shard_00{i}.json").read_text())
              for i in range(2)]
    return {"root": root, "acts": acts, "data": data, "net": net,
            "index": json.loads((root / "data" / "index.json").read_text()),
            "summary": json.loads((root / "data" / "acts" / folder.name / "summary.json")
                                  .read_text()),
            "features": shards[0]["features"] + shards[1]["features"], "starts": [0, 3]}


def test_index_and_shards_hold_every_feature(vis):
    (entry,) = vis["index"]["saes"]
    assert entry["id"] == "acts/relu_f4_l1_1" and entry["arch"] == "relu"
    assert entry["n_features"] == 4 and entry["sparsity"] == {"l1": 1.0}
    assert entry["metrics"]["reconstruction"]["fvu"] == 0.25
    assert [f["id"] for f in vis["features"]] == [0, 1, 2, 3]
    assert vis["summary"]["n_shards"] == 2 and vis["summary"]["n_features"] == 4


def test_frequency_mean_histogram_and_top_boards(vis):
    acts = vis["acts"]
    for j, f in enumerate(vis["features"]):
        on = acts[:, j] > 0
        assert f["freq"] == pytest.approx(on.mean(), abs=1e-6)
        assert vis["summary"]["freq"][j] == f["freq"]
        assert sum(f["hist"]["counts"]) == on.sum()
        if not on.any():
            assert f["top"] == [] and f["quantiles"] == [] and f["mean_act"] == 0
            continue
        assert f["mean_act"] == pytest.approx(acts[on, j].mean(), rel=1e-3)
        expect = np.argsort(-acts[:, j], kind="stable")[:5]
        assert [t["row"] for t in f["top"]] == list(expect)
        values = [t["act"] for t in f["top"]]
        assert values == sorted(values, reverse=True)
        assert values[0] == pytest.approx(acts[:, j].max(), rel=1e-4)
        for q in f["quantiles"]:  # a real row with the activation it claims
            assert q["act"] == pytest.approx(acts[q["row"], j], rel=1e-3, abs=1e-4)
        bands = [q["band"] for q in f["quantiles"]]
        acts_q = [q["act"] for q in f["quantiles"]]
        assert bands == sorted(bands) and acts_q == sorted(acts_q)


def test_example_boards_are_absolute_colours_with_facts(vis):
    data = vis["data"]
    top = vis["features"][0]["top"][0]
    row = top["row"]
    board = data.boards(np.array([row]))[0]
    black = bool(data.black_to_move(np.array([row]))[0])
    mine = "X" if black else "O"
    assert top["black_to_move"] == black
    assert [c == mine for c in top["board"]] == list(board == 1)
    assert [c == "." for c in top["board"]] == list(board == 0)
    legal = data.legal(np.array([row]))[0]
    assert top["legal"] == list(np.nonzero(legal)[0])


def test_policy_and_value_effects_have_the_built_in_signs(vis):
    f0, f2 = vis["features"][0], vis["features"][2]
    add = np.array(f0["effect"]["add"]["policy"])
    assert add.argmax() == PROMOTED and add[PROMOTED] > 0.01
    assert f0["effect"]["add"]["promotes"][0]["move"] == PROMOTED
    assert f0["effect"]["add"]["promotes"][0]["name"] == "c2"
    assert np.array(f0["effect"]["remove"]["policy"])[PROMOTED] < 0  # removing it hurts c2
    assert f2["effect"]["add"]["value"] > 0 and f2["effect"]["remove"]["value"] < 0
    assert abs(sum(add)) < 1e-3  # probability moves between moves, none is created
    dead = vis["features"][3]["effect"]["remove"]
    assert dead["policy"] == [0.0] * 37 and dead["value"] == 0


def test_decoder_neighbours_and_concepts(vis):
    f = vis["features"]
    assert f[0]["similar"][0] == {"id": 1, "cos": 1.0}
    assert f[1]["similar"][0]["id"] == 0
    assert all(0 <= x["cos"] <= 1 + 1e-6 or x["cos"] < 0 for x in f[2]["similar"])
    assert len(f[0]["similar"]) == 3
    assert f[3]["concept"]["f1"] == 0 and f[3]["concept"]["label"] == "none"  # never fires
    for x in f[:3]:
        assert 0 < x["concept"]["f1"] <= 1
        assert x["concept"]["label"] in vis["summary"]["concept"]


@pytest.mark.parametrize("argv,message", [
    (["--rows", "0"], "expected a number >= 1"),
    (["--sae-dir", "/nonexistent/saes"], "no SAEs (*/cfg.json) under /nonexistent/saes"),
])
def test_bad_arguments_are_one_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert message in str(exc.value.code) + capsys.readouterr().err


def test_script_has_help():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "vis/generate_vis_data.py", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--quick" in out and "--rows" in out


@pytest.fixture(scope="module")
def wide(vis):
    """Every panel of a 24-feature SAE on the 1200 rows (top rows in activation order, not row
    order), written as one shard."""
    from tests.vis_helpers import make_wide_sae

    root, data = vis["root"], vis["data"]
    x = torch.from_numpy(np.array(data.acts()))
    folder, sae = make_wide_sae(root, vis["net"], x)
    assert main(["--sae", str(folder), "--out", str(root / "wide"), "--no-progress"]) == 0
    shard = json.loads((root / "wide" / "acts" / folder.name / "shard_000.json").read_text())
    with torch.no_grad():
        acts = sae.encode(x).numpy()
    return {"sae": sae, "x": x, "acts": acts, "features": shard["features"], "data": data,
            "net": vis["net"]}


def _legal_probs(logits: torch.Tensor, legal: np.ndarray) -> np.ndarray:
    z = logits.double().numpy().copy()
    z[~legal] = -np.inf
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def test_every_panel_of_a_realistic_shard_matches_brute_force(wide):
    sae, x, acts, data, net = wide["sae"], wide["x"], wide["acts"], wide["data"], wide["net"]
    features = wide["features"]
    n = len(x)
    legal = data.legal()
    w = sae.W_dec.detach()
    with torch.no_grad():
        clean_logits, clean_v = net.forward_from(x, 2)
    clean_p = _legal_probs(clean_logits, legal)
    effect_rows = np.sort(np.random.default_rng(1).choice(n, 64, replace=False))
    unsorted = 0
    assert len(features) == 24
    for j, f in enumerate(features):
        a = acts[:, j]
        on = a > 0
        assert f["freq"] == pytest.approx(on.mean(), abs=1e-6)
        if not on.any():
            assert f["top"] == [] and f["effect"]["remove"]["policy"] == [0.0] * 37
            continue
        assert f["mean_act"] == pytest.approx(a[on].mean(), rel=1e-3)
        assert f["max_act"] == pytest.approx(a.max(), rel=1e-4)
        bins = np.minimum((a[on] * (24 / a.max())).astype(int), 23)
        assert f["hist"]["counts"] == np.bincount(bins, minlength=24).tolist()
        top = np.argsort(-a, kind="stable")[:8]
        top = top[a[top] > 0]
        assert [t["row"] for t in f["top"]] == top.tolist()
        unsorted += list(top) != sorted(top)
        for t in f["top"]:
            r = t["row"]
            assert t["legal"] == np.flatnonzero(legal[r]).tolist()
            assert t["last_move"] == int(data.last_move(np.array([r]))[0])
        # added: mean activation times the decoder row, on the 64 effect rows
        with torch.no_grad():
            lg, v = net.forward_from(x[effect_rows] + f["effect"]["scale"] * w[j], 2)
        add = (_legal_probs(lg, legal[effect_rows]) - clean_p[effect_rows]).mean(0)
        np.testing.assert_allclose(f["effect"]["add"]["policy"], add, atol=2e-4)
        assert f["effect"]["add"]["value"] == pytest.approx(
            float((v - clean_v[effect_rows]).mean()), abs=2e-4)
        # removed: the feature's own contribution, from each of its top rows, that row's legal mask
        with torch.no_grad():
            lg, v = net.forward_from(x[top] - torch.from_numpy(a[top])[:, None] * w[j], 2)
        rem = (_legal_probs(lg, legal[top]) - clean_p[top]).mean(0)
        np.testing.assert_allclose(f["effect"]["remove"]["policy"], rem, atol=2e-4,
                                   err_msg=f"feature {j}")
        assert f["effect"]["remove"]["value"] == pytest.approx(
            float((v - clean_v[top]).mean()), abs=2e-4)
        for panel, delta in (("add", add), ("remove", rem)):
            for key, sign in (("promotes", 1), ("suppresses", -1)):
                moves = f["effect"][panel][key]
                expect = np.sort(sign * delta)[::-1][:3]
                expect = expect[expect > 5e-4]
                assert len(moves) == pytest.approx(len(expect), abs=1)  # 5e-4 +- rounding
                got = [sign * m["delta"] for m in moves]
                np.testing.assert_allclose(got, expect[:len(got)], atol=2e-4)
                assert all(m["delta"] == f["effect"][panel]["policy"][m["move"]] for m in moves)
    assert unsorted >= 10  # the top rows of most features are not in row order
    # decoder neighbours
    wn = w.numpy() / np.linalg.norm(w.numpy(), axis=1, keepdims=True)
    cos = wn @ wn.T
    np.fill_diagonal(cos, -2)
    for j, f in enumerate(features):
        ids = [s["id"] for s in f["similar"]]
        assert ids == np.argsort(-cos[j], kind="stable")[:6].tolist()
        np.testing.assert_allclose([s["cos"] for s in f["similar"]], cos[j][ids], atol=1e-4)
