"""Board-concept scores of Karvonen et al. 2024 ("Measuring Progress in Dictionary Learning for
Interpretability with Board Game Models"), for SAE features or raw neurons.

A feature *fires* on a position when its activation exceeds t times its maximum activation
(maximum over the rows used to pick features), for t in {0, 0.1, ..., 1.0}.
- Coverage: for every binary property (e.g. "square c3 is mine"), the best F1 of any single
  feature as a classifier of it; averaged over the properties of a group that occur at least once;
  maximised over t.
- Board reconstruction: on a selection half of the rows, keep every (feature, property) pair where
  the feature fired at least `min_fires` times with precision >= `min_precision`; on the other half
  predict a property wherever any kept feature fires; the score is the pooled (micro) F1 over all
  properties of the group and all rows of that half; maximised over t.
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
    """Coverage and board reconstruction per group (with the best t for each)."""
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
    out = {g: {"coverage": 0.0, "coverage_t": 0.0, "reconstruction": 0.0,
               "reconstruction_t": 0.0} for g in names}
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
            cov = float(best[occurring].mean()) if len(occurring) else 0.0
            truth = table[ev][:, idx] > 0
            pred = predicted[:, idx]
            tp = float((pred & truth).sum())
            rec = float(_f1(torch.tensor(tp), pred.sum().float(), truth.sum().float()))
            if cov > out[g]["coverage"]:
                out[g]["coverage"], out[g]["coverage_t"] = cov, t
            if rec > out[g]["reconstruction"]:
                out[g]["reconstruction"], out[g]["reconstruction_t"] = rec, t
    return out


def property_labels(props: dict[str, np.ndarray], size: int) -> list[str]:
    """Readable names of the columns of the concatenated properties: 'c4 mine', 'legal e5'."""
    def square(i: int) -> str:
        row, col = divmod(i, size)
        return f"{chr(ord('a') + col)}{row + 1}"
    return [f"legal {square(i)}" if p == "legal" else f"{square(i)} {p}"
            for p, arr in props.items() for i in range(arr.shape[1])]


def best_concepts(feats: torch.Tensor, props: dict[str, np.ndarray],
                  thresholds: tuple[float, ...] = THRESHOLDS) -> tuple[np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """For every feature, the property it classifies best (column of the concatenated
    properties), that F1 and its threshold t, firing as in `concept_scores`."""
    table = torch.from_numpy(np.concatenate(list(props.values()), axis=1)).float()
    feats = feats.float()
    maxes = feats.max(dim=0).values
    positives = table.sum(0)
    best_f1 = torch.full((feats.shape[1],), -1.0)
    best_col = torch.zeros(feats.shape[1], dtype=torch.long)
    best_t = torch.zeros(feats.shape[1])
    for t in thresholds:
        fire = _fire(feats, maxes, t)
        f1, col = _f1(fire.T @ table, fire.sum(0)[:, None], positives[None]).max(dim=1)
        better = f1 > best_f1
        best_f1, best_col = torch.where(better, f1, best_f1), torch.where(better, col, best_col)
        best_t = torch.where(better, torch.tensor(t), best_t)
    return best_col.numpy(), best_f1.clamp_min(0).numpy(), best_t.numpy()
