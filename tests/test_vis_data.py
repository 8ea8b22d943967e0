"""Feature-browser data: the JSON written by vis/generate_vis_data.py against brute force."""

import json

import numpy as np
import pytest
import torch

from othello.interp.dataset import open_dataset
from tests.vis_helpers import PROMOTED, make_sae_run
from vis.export import pack_positions, unpack_positions
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
    return {"root": root, "acts": acts, "data": data, "net": net, "folder": folder, "sae": sae,
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
            assert f["top"] == [] and f["bands"] == [] and f["edges"] == [] and f["weakest"] == []
            assert f["mean_act"] == 0 and f["maps"] is None
            continue
        assert f["mean_act"] == pytest.approx(acts[on, j].mean(), rel=1e-3)
        expect = np.argsort(-acts[:, j], kind="stable")[:5]
        assert [t[0] for t in f["top"]] == list(expect)
        values = [t[1] for t in f["top"]]
        assert values == sorted(values, reverse=True)
        assert values[0] == pytest.approx(acts[:, j].max(), rel=1e-3)
        # weakest firing rows: the smallest activations above zero, smallest first
        firing = np.flatnonzero(on)
        weakest = firing[np.argsort(acts[firing, j], kind="stable")[:5]]
        assert [w[0] for w in f["weakest"]] == list(weakest)
        # deciles: 10 bands whose edges split the firing rows into tenths (to a fine bin), and
        # 5 real rows per band with the activation they claim, inside their band
        assert len(f["bands"]) == 10 and len(f["edges"]) == 11 and f["edges"][0] == 0
        assert f["edges"][-1] == pytest.approx(acts[:, j].max(), rel=1e-3)
        fine = acts[:, j].max() / 240  # the histogram the edges are read from
        v = acts[on, j]
        for q, band in enumerate(f["bands"]):
            lo, hi = f["edges"][q], f["edges"][q + 1]
            near = ((np.abs(v - lo) < fine) | (np.abs(v - hi) < fine)).mean()
            share = ((v >= lo) & (v < hi)).mean() if q < 9 else (v >= lo).mean()
            assert abs(share - 0.1) <= near + 1e-9, (j, q)  # a tenth, up to rows at the edges
            if ((v >= lo + 1e-4) & (v < hi - 1e-4)).sum() >= 5:
                assert len(band) == 5
            for r, a in band:
                assert a == pytest.approx(acts[r, j], rel=1e-3, abs=1e-3)
                assert lo - 1e-3 <= a <= hi + 1e-3
            assert len({r for r, _ in band}) == len(band)


def test_example_boards_are_absolute_colours_with_facts(vis):
    data = vis["data"]
    table = unpack_positions((vis["root"] / "data" / "acts" / "positions.bin").read_bytes())
    at = {r: i for i, r in enumerate(table["row"])}
    f = vis["features"][0]
    used = {r for r, _ in f["top"] + f["weakest"]} | {
        r for b in f["bands"] for r, _ in b}
    assert used <= set(at)
    for row in sorted(used)[:20]:
        i = at[row]
        board = data.boards(np.array([row]))[0]
        black = bool(data.black_to_move(np.array([row]))[0])
        mine = "X" if black else "O"
        assert table["black"][i] == int(black)
        assert [c == mine for c in table["board"][i]] == list(board == 1)
        assert [c == "." for c in table["board"][i]] == list(board == 0)
        assert table["last"][i] == int(data.last_move(np.array([row]))[0])


def test_policy_and_value_effects_have_the_built_in_signs(vis):
    f0, f2 = vis["features"][0], vis["features"][2]
    add = np.array(f0["effect"]["add"]["policy_e4"]) / 1e4
    assert add.argmax() == PROMOTED and add[PROMOTED] > 0.01
    assert np.array(f0["effect"]["remove"]["policy_e4"])[PROMOTED] < 0  # removing it hurts c2
    assert f2["effect"]["add"]["value"] > 0 and f2["effect"]["remove"]["value"] < 0
    assert abs(sum(add)) < 1e-3  # probability moves between moves, none is created
    dead = vis["features"][3]["effect"]["remove"]
    assert dead["policy_e4"] == [0] * 37 and dead["value"] == 0


def test_decoder_neighbours_and_concepts(vis):
    f = vis["features"]
    assert f[0]["similar"][0] == [1, 1.0]
    assert f[1]["similar"][0][0] == 0
    assert len(f[0]["similar"]) == 3
    assert f[3]["concepts"] == [] and vis["summary"]["concept"][3] == "none"  # never fires
    for x in f[:3]:
        assert 0 < x["concepts"][1]["f1"] <= x["concepts"][0]["f1"] <= 1
        assert x["concepts"][0]["label"] == vis["summary"]["concept"][x["id"]]


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
    # with the 4-feature SAE of the same grid (relu, l1=1, block 2): a family of two widths
    assert main(["--sae", str(folder), str(vis["folder"]), "--out", str(root / "wide"),
                 "--no-progress"]) == 0
    shard = json.loads((root / "wide" / "acts" / folder.name / "shard_000.json").read_text())
    with torch.no_grad():
        acts = sae.encode(x).numpy()
    small = json.loads((root / "wide" / "acts" / "relu_f4_l1_1" / "shard_000.json").read_text())
    return {"sae": sae, "x": x, "acts": acts, "features": shard["features"], "data": data,
            "net": vis["net"], "small": small["features"], "small_sae": vis["sae"],
            "out": root / "wide" / "acts", "name": folder.name}


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
            assert f["top"] == [] and f["effect"]["remove"]["policy_e4"] == [0] * 37
            continue
        assert f["mean_act"] == pytest.approx(a[on].mean(), rel=1e-3)
        assert f["max_act"] == pytest.approx(a.max(), rel=1e-4)
        bins = np.minimum((a[on] * (24 / a.max())).astype(int), 23)
        assert f["hist"]["counts"] == np.bincount(bins, minlength=24).tolist()
        top = np.argsort(-a, kind="stable")[:24]
        top = top[a[top] > 0]
        assert [t[0] for t in f["top"]] == top.tolist()
        unsorted += list(top) != sorted(top)
        # added: mean activation times the decoder row, on the 64 effect rows
        with torch.no_grad():
            lg, v = net.forward_from(x[effect_rows] + f["effect"]["scale"] * w[j], 2)
        add = (_legal_probs(lg, legal[effect_rows]) - clean_p[effect_rows]).mean(0)
        np.testing.assert_allclose(np.array(f["effect"]["add"]["policy_e4"]) / 1e4, add, atol=2e-4)
        assert f["effect"]["add"]["value"] == pytest.approx(
            float((v - clean_v[effect_rows]).mean()), abs=2e-4)
        # removed: the feature's own contribution, from each of its top rows, that row's legal mask
        with torch.no_grad():
            lg, v = net.forward_from(x[top] - torch.from_numpy(a[top])[:, None] * w[j], 2)
        rem = (_legal_probs(lg, legal[top]) - clean_p[top]).mean(0)
        np.testing.assert_allclose(np.array(f["effect"]["remove"]["policy_e4"]) / 1e4, rem,
                                   atol=2e-4,
                                   err_msg=f"feature {j}")
        assert f["effect"]["remove"]["value"] == pytest.approx(
            float((v - clean_v[top]).mean()), abs=2e-4)
    assert unsorted >= 10  # the top rows of most features are not in row order
    # decoder neighbours
    wn = w.numpy() / np.linalg.norm(w.numpy(), axis=1, keepdims=True)
    cos = wn @ wn.T
    np.fill_diagonal(cos, -2)
    for j, f in enumerate(features):
        ids = [s[0] for s in f["similar"]]
        assert ids == np.argsort(-cos[j], kind="stable")[:6].tolist()
        np.testing.assert_allclose([s[1] for s in f["similar"]], cos[j][ids], atol=1e-3)


def test_square_maps_concepts_and_coactivation_match_brute_force(wide):
    from othello.interp.concepts import THRESHOLDS, property_labels

    acts, data, features = wide["acts"], wide["data"], wide["features"]
    summary = json.loads((wide["out"] / wide["name"] / "summary.json").read_text())
    boards, legal, flipped = data.boards(), data.legal()[:, :36], data.flipped()
    value = data.value()
    fires = acts > 0  # all 1200 rows are the concept rows (concept_rows > 1200)
    np.testing.assert_array_equal(summary["base"]["mine"], np.rint(1000 * (boards == 1).mean(0)))
    props = np.concatenate([boards == 1, boards == -1, boards == 0, legal, flipped,
                            (value > 0)[:, None], (value < 0)[:, None]], axis=1)
    labels = property_labels({k: np.zeros((1, 36)) for k in ("mine", "theirs", "empty", "legal",
                                                              "flipped")}, 6)
    labels += ["mover wins (net value > 0)", "mover loses (net value < 0)"]
    inter = fires.T.astype(float) @ fires.astype(float)
    n = fires.sum(0)
    for j, f in enumerate(features):
        if not fires[:, j].any():
            assert f["maps"] is None and f["concepts"] == [] and f["coact"] == []
            continue
        on = fires[:, j]
        for name, table in (("mine", boards == 1), ("theirs", boards == -1), ("legal", legal)):
            np.testing.assert_array_equal(f["maps"][name], np.rint(1000 * table[on].mean(0)))
        # best F1 over t of every property; the two best, with their precision and recall
        best = np.zeros((props.shape[1], 3))
        for t in THRESHOLDS:
            fire = acts[:, j] > t * acts[:, j].max()
            tp = (fire[:, None] & props).sum(0)
            f1 = 2 * tp / np.maximum(fire.sum() + props.sum(0), 1)
            better = f1 > best[:, 0] + 1e-12
            best[better] = np.stack([f1, tp / max(fire.sum(), 1), tp / np.maximum(props.sum(0), 1)],
                                    axis=1)[better]
        order = np.argsort(-best[:, 0], kind="stable")[:2]
        got = f["concepts"]
        assert [c["f1"] for c in got] == pytest.approx(best[order, 0], abs=1e-4)
        assert got[0]["label"] == labels[order[0]] or best[order[0], 0] == best[order[1], 0]
        for c in got:
            k = labels.index(c["label"])
            assert [c["f1"], c["precision"], c["recall"]] == pytest.approx(best[k], abs=1e-4)
        # co-activation: Jaccard overlap of the firing rows, the closest first
        jac = inter[j] / np.maximum(n[j] + n - inter[j], 1)
        jac[j] = -1
        got_ids = [c[0] for c in f["coact"]]
        np.testing.assert_allclose([c[1] for c in f["coact"]], jac[got_ids], atol=1e-3)
        assert [c[1] for c in f["coact"]] == pytest.approx(np.sort(jac)[::-1][:len(got_ids)],
                                                          abs=1e-3)
    assert sum(bool(f["coact"]) for f in features) >= 20


def test_families_link_the_widths_of_one_grid(wide):
    big, small = wide["sae"], wide["small_sae"]
    index = json.loads((wide["out"].parent / "index.json").read_text())
    fam = {e["id"]: e["family"] for e in index["saes"]}
    assert fam == {"acts/relu_f4_l1_1": [f"acts/{wide['name']}"],
                   f"acts/{wide['name']}": ["acts/relu_f4_l1_1"]}
    wb = big.W_dec.detach().numpy()
    ws = small.W_dec.detach().numpy()
    cos = (ws / np.linalg.norm(ws, axis=1, keepdims=True)) @ (
        wb / np.linalg.norm(wb, axis=1, keepdims=True)).T
    for j, f in enumerate(wide["small"]):
        (matches,) = f["family"]
        assert [m[0] for m in matches] == np.argsort(-cos[j])[:3].tolist()
    (matches,) = wide["features"][5]["family"]  # small features 0 and 1 share a direction: a tie
    assert [m[1] for m in matches] == pytest.approx(np.sort(cos[:, 5])[::-1][:3], abs=1e-3)
    assert cos[[m[0] for m in matches], 5] == pytest.approx([m[1] for m in matches], abs=1e-3)


def test_example_best_moves_are_perfect_play():
    from othello.interp.vis import positions_table
    from othello.rules import naive
    from tests.othello_helpers import moves_to, to_grid

    rng = np.random.default_rng(3)
    positions = [moves_to(6, e, rng)[0] for e in (3, 4, 5, 6, 7, 8, 9, 4, 6)]

    class Rows:  # the dataset accessors positions_table reads
        size = 6

        def boards(self, rows):
            return np.array([[1 if p.me >> s & 1 else -1 if p.opp >> s & 1 else 0
                              for s in range(36)] for p in np.array(positions)[rows]])

        def black_to_move(self, rows):
            return np.array([p.black_to_move for p in positions])[rows]

        def last_move(self, rows):
            return np.full(len(rows), -1)
    table = positions_table(Rows(), np.array([8, 0, 1, 2, 3, 4, 5, 6, 7, -1]), max_empties=6)
    assert table["row"] == list(range(9))
    for i, pos in enumerate(positions):
        board = table["board"][i]
        assert board.count("X") == pos.black.bit_count() and table["black"][i] == pos.black_to_move
        if pos.empties() > 6:
            assert table["best"][i] is None and table["value"][i] is None
            continue
        values = {m: -naive.minimax_margin(*to_grid(pos.play(m))) for m in pos.legal_moves()}
        top = max(values.values())
        assert table["value"][i] == top
        assert table["best"][i] == sorted(m for m, v in values.items() if v == top)
    assert sum(b is not None for b in table["best"]) == 6


def test_weights_for_the_page_round_trip(wide):
    desc = json.loads((wide["out"] / "net.json").read_text())
    blob = np.fromfile(wide["out"] / "net.bin", dtype="<f4")
    for name, t in wide["net"].state_dict().items():
        got = blob[desc["tensors"][name]["offset"]:][:t.numel()].reshape(t.shape)
        np.testing.assert_array_equal(got, t.numpy())
    enc = json.loads((wide["out"] / wide["name"] / "summary.json").read_text())["encoder"]
    assert enc["arch"] == "relu" and enc["layer"] == 2 and enc["n_features"] == 24
    blob = np.fromfile(wide["out"] / wide["name"] / "encoder.bin", dtype="<f4")
    w = blob[enc["tensors"]["enc_weight"]["offset"]:][:32 * 24].reshape(32, 24)
    np.testing.assert_array_equal(w, wide["sae"].enc_weight.detach().numpy())


def test_packed_positions_round_trip_with_passes_and_odd_sizes():
    """positions.bin keeps every column exactly, including a pass as the best move (move n*n,
    one bit past the board) and boards whose squares do not fill whole bytes (5x5)."""
    table = {"size": 5, "max_empties": 4, "row": [2, 7, 900000],
             "board": ["X" * 12 + "O" * 12 + ".", "." * 25, "XO." * 8 + "O"],
             "black": [1, 0, 1], "last": [24, -1, 0],
             "best": [[25], None, [0, 3, 24]], "value": [-7, None, 25]}
    blob = pack_positions(table)
    assert len(blob) == 16 + 3 * (4 + 7 + 3 + 4)  # header, row, 7 board bytes, 3, 26 bits
    assert unpack_positions(blob) == table
    # 4x4: the pass (move 16) needs a byte of its own past the board's 16 bits
    four = {"size": 4, "max_empties": 4, "row": [0], "board": ["XO.." * 4], "black": [0],
            "last": [3], "best": [[16]], "value": [-2]}
    assert len(pack_positions(four)) == 16 + 4 + 4 + 3 + 3
    assert unpack_positions(pack_positions(four)) == four
    with pytest.raises(ValueError, match="does not hold"):
        unpack_positions(blob[:-1])
    with pytest.raises(ValueError, match="ascending"):
        pack_positions({**table, "row": [7, 2, 900000]})
