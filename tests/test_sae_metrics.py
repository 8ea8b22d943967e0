"""SAE metrics on cases with hand-computed answers."""

import math

import numpy as np
import pytest
import torch

from othello.az.model import NetConfig, PolicyValueNet
from othello.interp.concepts import board_properties, concept_scores, neuron_features
from othello.interp.splice import NetworkSplice, policy_kl
from sae.metrics import loss_recovered, reconstruction_metrics, splice_metrics

X = torch.tensor([[1.0, 0.0], [3.0, 2.0]])
X_HAT = torch.tensor([[1.0, 1.0], [2.0, 2.0]])
F = torch.tensor([[1.0, 0.0, 0.0], [2.0, 0.0, 1.0]])


def test_reconstruction_metrics_hand_case():
    m = reconstruction_metrics([(X, X_HAT, F)], dense_threshold=0.6)
    # squared error 1 + 1 = 2 over 4 entries; sum ||x||^2 = 14; mean [2, 1], sum ||x-mean||^2 = 4
    assert m["mse"] == pytest.approx(0.5)
    assert m["nmse"] == pytest.approx(2 / 14)
    assert m["fvu"] == pytest.approx(0.5)
    assert m["l0"] == pytest.approx(1.5)
    assert m["dead_fraction"] == pytest.approx(1 / 3)  # feature 1 never fires
    assert m["dense_fraction"] == pytest.approx(1 / 3)  # only feature 0 fires on > 60%
    assert reconstruction_metrics([(X, X_HAT, F)])["dense_fraction"] == pytest.approx(2 / 3)
    # Accumulating over batches gives the same numbers (the mean is global, not per batch).
    split = reconstruction_metrics([(X[:1], X_HAT[:1], F[:1]), (X[1:], X_HAT[1:], F[1:])],
                                   dense_threshold=0.6)
    assert split == pytest.approx(m)


def test_policy_kl_is_over_legal_moves_only():
    p = torch.tensor([[0.0, 0.0, 5.0]])
    q = torch.tensor([[0.0, math.log(3.0), -2.0]])
    legal = torch.tensor([[True, True, False]])
    # p = (1/2, 1/2), q = (1/4, 3/4) on the legal moves
    expected = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    assert float(policy_kl(p, q, legal)) == pytest.approx(expected, rel=1e-5)
    assert float(policy_kl(p, p, legal)) == pytest.approx(0.0, abs=1e-7)


def test_loss_recovered_hand_cases():
    assert loss_recovered(0.25, 1.0) == pytest.approx(0.75)
    assert loss_recovered(2.0, 4.0, 1.0) == pytest.approx(2 / 3)
    assert math.isnan(loss_recovered(0.1, 0.0))


def test_splice_metrics_limits():
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(width=16, blocks=3)).eval()
    x = torch.randn(64, 16)
    legal = torch.rand(64, 37) < 0.3
    legal[:, 0] = True
    mean = x.mean(0)
    rows = np.arange(64)
    splice = NetworkSplice(net, 1, x.numpy(), lambda r: legal.numpy()[r])
    perfect = splice_metrics(splice, [(x, x.clone(), rows)], mean)
    assert perfect["policy_kl_sae"] == pytest.approx(0.0, abs=1e-6)
    assert perfect["policy_kl_recovered_vs_zero"] == pytest.approx(1.0)
    assert perfect["value_mse_recovered_vs_mean"] == pytest.approx(1.0)
    zero = splice_metrics(splice, [(x, torch.zeros_like(x), rows)], mean)
    assert zero["policy_kl_zero"] > 0.01
    assert zero["policy_kl_recovered_vs_zero"] == pytest.approx(0.0, abs=1e-6)
    averaged = splice_metrics(splice, [(x, mean.expand_as(x), rows)], mean)
    assert averaged["value_mse_recovered_vs_mean"] == pytest.approx(0.0, abs=1e-6)


def test_coverage_hand_case():
    # property p = rows {0, 1}; q = rows {2, 3}; r never true (left out of the average)
    props = {"a": np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=bool)}
    feats = torch.tensor([[1.0, 0.5], [0.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    # t in 0..0.4: feature 0 fires {0} (F1 for p 2/3), feature 1 fires {0,1,2} (p: 0.8, q: 0.4)
    # -> mean (0.8 + 0.4) / 2 = 0.6. t >= 0.5: feature 1 fires {1,2}: p 2/3 (feature 0), q 0.5.
    out = concept_scores(feats, props, groups={"a": ("a",)})
    assert out["a"]["coverage_occurring"] == pytest.approx(0.6)
    assert out["a"]["coverage_occurring_t"] == 0.0
    # Karvonen et al. divide by every property, r included (F1 0): t = 0: (0.8 + 0.4 + 0) / 3;
    # t = 0.5: (2/3 + 0.5) / 3 = 0.389 -> 0.4 at t = 0
    assert out["a"]["coverage"] == pytest.approx(0.4)
    assert out["a"]["coverage_t"] == 0.0


def test_reconstruction_counts_a_square_with_a_true_and_a_false_positive_as_false():
    """One square, classes mine / theirs (every row one of them). Feature A fires exactly on the
    mine rows, B on the theirs rows, except on five held-out mine rows where B fires too: there
    the square is predicted mine (true) and theirs (false). Held-out: TP = 30 (every row's true
    class), FP = 5, FN = 0 -> per class F1 = 60 / 65; per square (Karvonen et al.) those five
    squares are false positives only: TP = 25, FP = 5, FN = 0 -> F1 = 50 / 55."""
    n = 60
    mine = np.arange(n) % 2 == 0
    ev = np.random.default_rng(0).permutation(n)[n // 2:]
    sel = np.setdiff1d(np.arange(n), ev)
    assert mine[sel].sum() >= 10 and (~mine[sel]).sum() >= 10  # both kept as precise
    both = ev[mine[ev]][:5]
    a = mine.astype(np.float32)
    b = (~mine).astype(np.float32)
    b[both] = 1.0
    props = {"mine": mine[:, None], "theirs": ~mine[:, None]}
    out = concept_scores(torch.from_numpy(np.stack([a, b], 1)), props,
                         groups={"board": ("mine", "theirs")})
    assert out["board"]["reconstruction_per_class"] == pytest.approx(60 / 65)
    assert out["board"]["reconstruction"] == pytest.approx(50 / 55)
    # one class per square: nothing to adjust, both variants agree
    single = concept_scores(torch.from_numpy(np.stack([a, b], 1)), props,
                            groups={"theirs": ("theirs",)})["theirs"]
    assert single["reconstruction"] == single["reconstruction_per_class"] < 1


def test_board_reconstruction_selects_precise_features():
    rng = np.random.default_rng(0)
    p = rng.random(400) < 0.4
    props = {"a": np.stack([p, ~p], axis=1)}
    exact = torch.from_numpy(p.astype(np.float32))
    # fires on every p row and on every second non-p row: precision about 0.57, never kept
    loose = torch.from_numpy((p | (np.arange(400) % 2 == 0)).astype(np.float32))
    out = concept_scores(torch.stack([exact, loose], 1), props, groups={"a": ("a",)})
    # `exact` predicts column 0 perfectly; nothing precise predicts column 1 (all misses):
    # pooled F1 = 2 TP / (2 TP + FN) with TP = positives of column 0, FN = those of column 1.
    ev = np.random.default_rng(0).permutation(400)[200:]
    tp, fn = p[ev].sum(), (~p[ev]).sum()
    assert out["a"]["reconstruction"] == pytest.approx(2 * tp / (2 * tp + fn))
    only_loose = concept_scores(loose[:, None], props, groups={"a": ("a",)})
    assert only_loose["a"]["reconstruction"] == 0.0
    rare = torch.zeros(400)
    rare[np.flatnonzero(p)[:6]] = 1.0  # precise but fires fewer than 10 times
    assert concept_scores(rare[:, None], props, groups={"a": ("a",)})["a"]["reconstruction"] == 0


def test_board_properties_and_neuron_features():
    boards = np.array([[1, -1, 0, 0]], dtype=np.int8)
    legal = np.array([[False, False, True, False, False]])
    flipped = np.array([[False, True, False, False]])
    props = board_properties(boards, legal, flipped)
    assert props["mine"].tolist() == [[True, False, False, False]]
    assert props["theirs"].tolist() == [[False, True, False, False]]
    assert props["empty"].tolist() == [[False, False, True, True]]
    assert props["legal"].shape == (1, 4) and props["legal"][0, 2]
    torch.testing.assert_close(neuron_features(torch.tensor([[2.0, -3.0]])),
                               torch.tensor([[2.0, 0.0, 0.0, 3.0]]))
