"""Board-concept scores of Karvonen et al. 2024 ("Measuring Progress in Dictionary Learning for
Interpretability with Board Game Models"), for SAE features or raw neurons.

A feature *fires* on a position when its activation exceeds t times its maximum activation
(maximum over the rows used to pick features), for t in {0, 0.1, ..., 1.0}. The published
variants, as their code computes them (adamkarvonen/SAE_BoardGameEval: `best_f1_average` in
f1_analysis.py, `f1_score_per_square` in eval_board_reconstruction.py):
- `coverage`: for every binary property (e.g. "square c3 is mine"), the best F1 of any single
  feature as a classifier of it; summed over the group's properties and divided by their number,
  properties that never occur included (they score 0: the four centre squares are never legal or
  empty, corners never flipped); maximised over t.
- `reconstruction`: on a selection half of the rows, keep every (feature, property) pair where
  the feature fired at least `min_fires` times with precision >= `min_precision`; on the other half
  predict a property wherever any kept feature fires; the score is the pooled (micro) F1 over all
  properties of the group and all rows of that half, where a square predicted both correctly (one
  class) and wrongly (another class, e.g. both "mine" and "theirs") counts as a false positive and
  not as a true positive; maximised over t.
Variants kept for comparison (what this module reported before):
- `coverage_occurring`: the same average over the properties that occur at least once;
- `reconstruction_per_class`: the pooled F1 with every (square, class) prediction counted on its
  own (their `f1_score_per_class`).
Groups: "board" (mine + theirs, the paper's headline: empty left out), and each of mine, theirs,
empty, legal (squares, not the pass) and flipped (discs flipped by the last move) on its own.
"""

from __future__ import annotations

import numpy as np
import torch

THRESHOLDS = tuple(round(0.1 * i, 1) for i in range(11))
GROUPS = {"board": ("mine", "theirs"), "mine": ("mine",), "theirs": ("theirs",),
          "empty": ("empty",), "legal": ("legal",), "flipped": ("flipped",)}


def board_properties(boards: np.ndarray, legal: np.ndarray,
                     flipped: np.ndarray) -> dict[str, np.ndarray]:
    """bool [N, S] per property from boards (1 mine, -1 theirs, 0 empty) [N, S], legal masks
    [N, S(+1)] (a trailing pass column is dropped) and flipped-disc masks [N, S]."""
    s = boards.shape[1]
    return {"mine": boards == 1, "theirs": boards == -1, "empty": boards == 0,
            "legal": np.asarray(legal[:, :s], dtype=bool),
            "flipped": np.asarray(flipped, dtype=bool)}


def neuron_features(x: torch.Tensor) -> torch.Tensor:
    """Raw-neuron baseline: each stream dimension read in both signs, ReLU([x, -x])."""
    return torch.relu(torch.cat([x, -x], dim=1))


def _fire(feats: torch.Tensor, maxes: torch.Tensor, t: float) -> torch.Tensor:
    return (feats > t * maxes).float()


def _f1(tp: torch.Tensor, predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
    denom = predicted + actual
    return torch.where(denom > 0, 2 * tp / denom.clamp_min(1e-12), 0.0)


def concept_scores(feats: torch.Tensor, props: dict[str, np.ndarray], seed: int = 0,
                   min_precision: float = 0.95, min_fires: int = 10,
                   thresholds: tuple[float, ...] = THRESHOLDS,
                   groups: dict[str, tuple[str, ...]] = GROUPS) -> dict[str, dict[str, float]]:
    """Coverage and board reconstruction per group, each maximised over t (with its best t):
    `coverage` and `reconstruction` as Karvonen et al.'s code computes them, and the variants
    `coverage_occurring` and `reconstruction_per_class` (see the module docstring)."""
    names = [g for g in groups if all(p in props for p in groups[g])]
    cols, start = {}, 0
    for p, arr in props.items():
        cols[p] = slice(start, start + arr.shape[1])
        start += arr.shape[1]
    table = torch.from_numpy(np.concatenate([props[p] for p in props], axis=1)).float()
    feats = feats.float()
    n = feats.shape[0]
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    sel, ev = perm[: n // 2], perm[n // 2:]
    maxes, maxes_sel = feats.max(dim=0).values, feats[sel].max(dim=0).values
    positives = table.sum(0)
    keys = ("coverage", "coverage_occurring", "reconstruction", "reconstruction_per_class")
    out = {g: {k: v for key in keys for k, v in ((key, 0.0), (f"{key}_t", 0.0))} for g in names}
    for t in thresholds:
        fire = _fire(feats, maxes, t)
        best = _f1(fire.T @ table, fire.sum(0)[:, None], positives[None]).max(dim=0).values
        fire_sel = _fire(feats[sel], maxes_sel, t)
        tp_sel, n_sel = fire_sel.T @ table[sel], fire_sel.sum(0)[:, None]
        keep = (n_sel >= min_fires) & (tp_sel >= min_precision * n_sel)
        predicted = (_fire(feats[ev], maxes_sel, t) @ keep.float()) > 0
        for g in names:
            idx = torch.cat([torch.arange(cols[p].start, cols[p].stop) for p in groups[g]])
            occurring = idx[positives[idx] > 0]
            scores = {
                "coverage": float(best[idx].sum()) / len(idx),
                "coverage_occurring": float(best[occurring].mean()) if len(occurring) else 0.0,
                **_reconstruction(predicted[:, idx], table[ev][:, idx] > 0, len(groups[g]))}
            for key, value in scores.items():
                if value > out[g][key]:
                    out[g][key], out[g][f"{key}_t"] = value, t
    return out


def _reconstruction(pred: torch.Tensor, truth: torch.Tensor, classes: int) -> dict[str, float]:
    """Pooled F1 of predicted vs true properties [R, classes * S] (class-major columns): per
    class (every column counts), and per square as Karvonen et al.: a square with one true and
    one false positive class counts as a false positive only (its true positive is dropped)."""
    tp, fp, fn = (pred & truth), (pred & ~truth), (~pred & truth)
    n_tp, n_fp, n_fn = (float(x.sum()) for x in (tp, fp, fn))
    squares = truth.shape[1] // classes
    tp_sq = tp.reshape(len(tp), classes, squares).sum(1)
    fp_sq = fp.reshape(len(fp), classes, squares).sum(1)
    both = float(((tp_sq == 1) & (fp_sq == 1)).sum())

    def f1(tp: float, fp: float, fn: float) -> float:
        return 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
    return {"reconstruction": f1(n_tp - both, n_fp, n_fn),
            "reconstruction_per_class": f1(n_tp, n_fp, n_fn)}


def property_labels(props: dict[str, np.ndarray], size: int) -> list[str]:
    """Readable names of the columns of the concatenated properties: 'c4 mine', 'legal e5'."""
    def square(i: int) -> str:
        row, col = divmod(i, size)
        return f"{chr(ord('a') + col)}{row + 1}"
    return [f"legal {square(i)}" if p == "legal" else f"{square(i)} {p}"
            for p, arr in props.items() for i in range(arr.shape[1])]


def top_concepts(feats: torch.Tensor, props: dict[str, np.ndarray], count: int = 2,
                 thresholds: tuple[float, ...] = THRESHOLDS) -> dict[str, np.ndarray]:
    """For every feature, the `count` properties it classifies best (columns of the concatenated
    properties, best first), each with its best F1 over t (firing as in `concept_scores`) and the
    precision, recall and t of that F1: arrays [F, count] under col, f1, precision, recall, t."""
    table = torch.from_numpy(np.concatenate(list(props.values()), axis=1)).float()
    feats = feats.float()
    maxes = feats.max(dim=0).values
    positives = table.sum(0)
    shape = (feats.shape[1], table.shape[1])
    best = {k: torch.zeros(shape) for k in ("precision", "recall", "t")}
    best_f1 = torch.full(shape, -1.0)
    for t in thresholds:
        fire = _fire(feats, maxes, t)
        tp, fired = fire.T @ table, fire.sum(0)[:, None]
        f1 = _f1(tp, fired, positives[None])
        better = f1 > best_f1
        best_f1 = torch.where(better, f1, best_f1)
        for key, value in (("precision", tp / fired.clamp_min(1)),
                           ("recall", tp / positives.clamp_min(1)[None]),
                           ("t", torch.full(shape, t))):
            best[key] = torch.where(better, value, best[key])
    f1, col = best_f1.clamp_min(0).topk(min(count, shape[1]), dim=1)
    return {"col": col.numpy(), "f1": f1.numpy(),
            **{k: v.gather(1, col).numpy() for k, v in best.items()}}
