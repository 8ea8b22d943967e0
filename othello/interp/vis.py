"""What the feature browser (vis/index.html) shows of every feature of an SAE trained on an Othello
activation dataset (vis/generate_vis_data.py writes it out with vis/export.py).

Everything is computed on a seeded random subset of the activation rows:
- the feature statistics of `sae.features` (frequency, mean, max, histogram, top-k rows, example
  rows from every quantile band of the firing activations, the weakest firing rows) and its
  neighbours by decoder cosine;
- on at most `concept_rows` rows: the two board concepts it classifies best
  (`othello.interp.concepts.top_concepts`, with precision and recall), square maps
  (P(square mine / theirs / legal | feature fires) and their base rates), and its co-activation
  neighbours (Jaccard overlap of the rows it fires on);
- policy effect: the decoder direction scaled by the mean activation added to the stream of
  `effect_rows` random positions, and the feature's own contribution removed from its top-k
  positions; reported as the mean change of the legal-move probabilities and of the value;
- its family: the closest decoder directions in the other widths of the same grid (computed by
  the caller, which sees every SAE).
Examples are (dataset row, activation) pairs; `positions_table` holds the boards of those rows
once per dataset, in absolute colours ('X' black, 'O' white, '.' empty; a1 first, row by row, the
convention of `othello.rules.board.render`), with perfect-play best moves where the oracle is
cheap (few empty squares).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from tqdm import tqdm

from common.config import at_least, knob, probability
from othello.interp.concepts import property_labels, top_concepts
from othello.interp.dataset import ActivationDataset
from othello.interp.sae_metrics import properties
from othello.interp.splice import legal_probs
from othello.rules.board import Position
from othello.rules.oracle import Oracle
from sae.archs import SAE
from sae.data import gather
from sae.evaluate import subset
from sae.features import activation_stats, coactivation_neighbours, decoder_neighbours


@dataclass(frozen=True)
class VisConfig:
    """What the browser data holds per feature, and on how many rows it is computed."""

    rows: int = knob(100_000, "activation rows sampled for the statistics", check=at_least(1))
    top_k: int = knob(24, "top-activating boards per feature", check=at_least(1))
    quantiles: int = knob(10, "quantile bands of the firing activations (10: deciles)",
                          check=at_least(1))
    per_band: int = knob(5, "example boards per quantile band", check=at_least(1))
    weakest: int = knob(5, "weakest firing boards per feature", check=at_least(1))
    bins: int = knob(24, "histogram bins", check=at_least(1))
    concept_rows: int = knob(10_000, "rows for concepts, square maps and co-activation",
                             check=at_least(2))
    effect_rows: int = knob(64, "positions the decoder direction is added to",
                            check=at_least(1))
    neighbours: int = knob(6, "neighbours by decoder cosine and by co-activation",
                           check=at_least(1))
    family: int = knob(3, "closest features in each other width of the grid",
                       check=at_least(1))
    oracle_empties: int = knob(12, "perfect-play best moves for examples with at most this many "
                                   "empty squares (0: none)", check=at_least(0))
    dense: float = knob(0.2, "firing frequency above which the page calls a feature dense",
                        check=probability)
    unexplained: float = knob(0.3, "best concept F1 below which a live feature is unexplained",
                              check=probability)
    shard_size: int = knob(256, "features per shard file", check=at_least(1))
    chunk: int = knob(8192, "rows encoded at a time", check=at_least(1))
    seed: int = knob(0, "seed of the row samples", check=at_least(0))


DEFAULT = VisConfig()
QUICK = replace(DEFAULT, rows=20_000)


def _r(x: float, digits: int = 4) -> float:
    return round(float(x), digits) + 0.0  # + 0.0: no "-0.0" in the JSON


@torch.no_grad()
def policy_effects(sae: SAE, ds: ActivationDataset, layer: int, base_rows: np.ndarray,
                   stats: dict, batch: int = 64) -> dict[str, np.ndarray]:
    """Mean change of legal-move probabilities [F, moves] and of the value [F] when the feature's
    decoder direction (times its mean activation) is added to `base_rows`, and when its own
    contribution is removed from its top-k rows."""
    net, block, acts = ds.net, layer, ds.acts(layer)
    w = sae.W_dec  # [F, d], original units
    f = w.shape[0]
    x0 = gather(acts, base_rows)
    legal0 = torch.from_numpy(ds.legal(base_rows))
    p0_logits, v0 = net.forward_from(x0, block)
    p0 = legal_probs(p0_logits, legal0)
    scale = torch.from_numpy(stats["mean"]).float()
    moves = p0.shape[1]
    add_p, add_v = torch.zeros(f, moves), torch.zeros(f)
    for s in range(0, f, batch):
        idx = torch.arange(s, min(f, s + batch))
        x = x0[None] + (scale[idx, None] * w[idx])[:, None]  # [b, R, d]
        logits, v = net.forward_from(x.reshape(-1, x0.shape[1]), block)
        p = legal_probs(logits, legal0.repeat(len(idx), 1)).reshape(len(idx), -1, moves)
        add_p[idx] = (p - p0[None]).mean(1)
        add_v[idx] = (v.reshape(len(idx), -1) - v0[None]).mean(1)
    top_i = stats["top_i"]
    rem_p, rem_v = torch.zeros(f, moves), torch.zeros(f)
    live = np.nonzero(top_i[:, 0] >= 0)[0]
    for s in range(0, len(live), batch):
        feats = live[s:s + batch]
        rows = top_i[feats]  # [b, k] (-1 where a feature fired on fewer rows)
        ok = rows >= 0
        flat = np.where(ok, rows, rows[:, :1]).reshape(-1)
        x = gather(acts, flat)
        legal = torch.from_numpy(ds.legal(flat))
        fi = torch.from_numpy(np.repeat(feats, rows.shape[1]))
        a = sae.encode(x)[torch.arange(len(flat)), fi]
        logits_c, v_c = net.forward_from(x, block)
        logits_r, v_r = net.forward_from(x - a[:, None] * w[fi], block)
        dp = (legal_probs(logits_r, legal) - legal_probs(logits_c, legal)).reshape(*rows.shape, -1)
        dv = (v_r - v_c).reshape(rows.shape)
        m = torch.from_numpy(ok).float()
        rem_p[feats] = (dp * m[..., None]).sum(1) / m.sum(1, keepdim=True)
        rem_v[feats] = (dv * m).sum(1) / m.sum(1)
    return {"add_p": add_p.numpy(), "add_v": add_v.numpy(),
            "rem_p": rem_p.numpy(), "rem_v": rem_v.numpy()}


def board_string(board: np.ndarray, black_to_move: bool) -> str:
    """Side-to-move board (1 mine, -1 theirs) in absolute colours: 'X' black, 'O' white."""
    me, them = ("X", "O") if black_to_move else ("O", "X")
    return "".join(me if v == 1 else them if v == -1 else "." for v in board)


def _position(board: np.ndarray, black_to_move: bool, size: int) -> Position:
    bits = 1 << np.arange(board.shape[0], dtype=object)
    return Position(size, int(bits[board == 1].sum()), int(bits[board == -1].sum()),
                    bool(black_to_move))


def positions_table(ds: ActivationDataset, rows: np.ndarray, max_empties: int,
                    progress: bool = False) -> dict[str, list]:
    """The example boards of a dataset, once for every SAE that shows them: per row its board in
    absolute colours, side to move, last move, and for boards with at most `max_empties` empty
    squares the perfect-play best moves and their value (the oracle's final disc margin for the
    side to move; null above the threshold). Legal moves are not stored: the page derives them
    with the rules (and the browser test checks them against the dataset)."""
    rows = np.unique(rows[rows >= 0])
    boards, black, last = ds.boards(rows), ds.black_to_move(rows), ds.last_move(rows)
    best: list = [None] * len(rows)
    value: list = [None] * len(rows)
    solve = np.nonzero((boards == 0).sum(1) <= max_empties)[0]
    if len(solve):
        with Oracle(ds.size, cache_path=None) as oracle:
            for i in tqdm(solve, desc="oracle best moves", disable=not progress):
                moves = oracle.move_values(_position(boards[i], black[i], ds.size))
                if moves:
                    top = max(moves.values())
                    best[i], value[i] = sorted(m for m, v in moves.items() if v == top), top
    return {"row": rows.tolist(), "board": [board_string(b, k) for b, k in zip(boards, black,
                                                                             strict=True)],
            "black": [int(k) for k in black], "last": [int(m) for m in last],
            "best": best, "value": value}


def value_properties(ds: ActivationDataset, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Whole-position properties from the network's value: the side to move wins / loses."""
    v = ds.value(rows)
    return {"wins": (v > 0)[:, None], "loses": (v < 0)[:, None]}


VALUE_LABELS = {"wins": "mover wins (net value > 0)", "loses": "mover loses (net value < 0)"}


def square_maps(fires: torch.Tensor, props: dict[str, np.ndarray],
                names: tuple[str, ...] = ("mine", "theirs", "legal")) -> dict[str, np.ndarray]:
    """P(property of each square | feature fires) [F, S] per property name, and its base rate
    [S] over all rows (under "<name>_base"); NaN rows for features that never fire."""
    b = fires.double()
    n = b.sum(0)[:, None]
    out = {}
    for name in names:
        table = torch.from_numpy(props[name].astype(np.float64))
        out[name] = torch.where(n > 0, (b.T @ table) / n.clamp_min(1), torch.nan).numpy()
        out[f"{name}_base"] = table.mean(0).numpy()
    return out


def _permille(p: np.ndarray) -> list[int]:
    return [int(x) for x in np.rint(1000 * p)]


def _examples(rows: np.ndarray, values: np.ndarray) -> list[list]:
    """[[row, activation], ...]: pairs, not objects, to keep the grid's data small."""
    return [[int(r), _r(v, 3)] for r, v in zip(rows, values, strict=True) if r >= 0]


def _e4(delta: np.ndarray) -> list[int]:
    """Probability changes as integers in units of 1e-4 (0.01 percentage points)."""
    return [int(x) for x in np.rint(1e4 * delta)]


def _pairs(ids: np.ndarray, values: np.ndarray, keep=lambda v: True) -> list[list]:
    return [[int(i), _r(v, 3)] for i, v in zip(ids, values, strict=True) if keep(v)]


RECORD_BYTES = 1000  # about one example board record held in memory (dict, board string, lists)


def records_bytes(n_features: int, d: int, moves: int, cfg: VisConfig) -> int:
    """About the memory `feature_records` needs: the example records and top-k tables of every
    feature, a 64-feature batch of top-k rows through the network, the concept features."""
    examples = n_features * (cfg.top_k + cfg.quantiles)
    return (examples * (RECORD_BYTES + 16) + 64 * cfg.top_k * 4 * (3 * d + 4 * moves)
            + 4 * n_features * (cfg.concept_rows + 2 * cfg.chunk))


def feature_records(sae: SAE, ds: ActivationDataset, layer: int, cfg: VisConfig,
                    family: list[tuple[str, np.ndarray, np.ndarray]] = (),
                    progress: bool = False) -> tuple[list[dict], dict, np.ndarray]:
    """One record per feature (array position == feature id) with everything the page shows;
    the SAE-wide base rates of the square maps; and every dataset row an example refers to.
    `family` holds (other SAE id, ids [F, c], cosines [F, c]) of the closest features in other
    widths of the grid; a record lists their [id, cosine] pairs in that order (the index entry's
    `family`). Examples, neighbours and family matches are [id or row, value] pairs."""
    acts = ds.acts(layer)
    if acts.shape[1] != sae.d:
        raise ValueError(f"the SAE reads {sae.d}-wide activations, but {ds.acts_path(layer)} is "
                         f"{acts.shape[1]} wide (an SAE trained on another layer or network?)")
    rows = subset(np.arange(acts.shape[0]), cfg.rows, cfg.seed)
    stats = activation_stats(sae, acts, rows, top_k=cfg.top_k, quantiles=cfg.quantiles,
                             per_band=cfg.per_band, weakest=cfg.weakest, bins=cfg.bins,
                             chunk=cfg.chunk, seed=cfg.seed, progress=progress)
    concept_rows = subset(rows, cfg.concept_rows, cfg.seed)
    feats = torch.cat([sae.encode(gather(acts, concept_rows[s:s + cfg.chunk]))
                       for s in range(0, len(concept_rows), cfg.chunk)])
    props = {**properties(ds, concept_rows), **value_properties(ds, concept_rows)}
    size = ds.size
    board_props = {k: v for k, v in props.items() if k not in VALUE_LABELS}
    labels = property_labels(board_props, size) + [VALUE_LABELS[k] for k in VALUE_LABELS]
    concepts = top_concepts(feats, props, count=2)
    maps = square_maps(feats > 0, props)
    co_i, co_v = coactivation_neighbours(feats > 0, cfg.neighbours)
    del feats
    effect_rows = subset(rows, cfg.effect_rows, cfg.seed + 1)
    eff = policy_effects(sae, ds, layer, effect_rows, stats)
    nb_i, nb_v = decoder_neighbours(sae, cfg.neighbours)
    out = []
    for j in range(sae.n_features):
        add_p, rem_p = eff["add_p"][j], eff["rem_p"][j]
        edges = stats["edges"][j]
        fired = not np.isnan(maps["mine"][j, 0])
        out.append({
            "id": j, "freq": _r(stats["freq"][j], 6), "mean_act": _r(stats["mean"][j]),
            "max_act": _r(stats["max"][j]),
            "hist": {"max": _r(stats["max"][j]), "counts": [int(c) for c in stats["hist"][j]]},
            "top": _examples(stats["top_i"][j], stats["top_v"][j]),
            # band q holds activations in [edges[q], edges[q + 1]): lists, not objects (the
            # keys alone would cost about 20 MB over the default grid)
            "edges": [_r(e, 3) for e in edges] if stats["top_i"][j, 0] >= 0 else [],
            "bands": [_examples(stats["band_i"][j, q], stats["band_v"][j, q])
                      for q in range(cfg.quantiles)] if stats["top_i"][j, 0] >= 0 else [],
            "weakest": _examples(stats["weak_i"][j], stats["weak_v"][j]),
            "maps": {k: _permille(maps[k][j]) for k in ("mine", "theirs", "legal")}
            if fired else None,
            "effect": {"scale": _r(stats["mean"][j]),
                       "add": {"policy_e4": _e4(add_p), "value": _r(eff["add_v"][j])},
                       "remove": {"policy_e4": _e4(rem_p), "value": _r(eff["rem_v"][j])}},
            "concepts": [{"label": labels[concepts["col"][j, c]], "f1": _r(concepts["f1"][j, c]),
                          "precision": _r(concepts["precision"][j, c]),
                          "recall": _r(concepts["recall"][j, c]),
                          "t": _r(concepts["t"][j, c], 1)}
                         for c in range(concepts["col"].shape[1]) if concepts["f1"][j, c] > 0],
            "similar": _pairs(nb_i[j], nb_v[j]),
            "coact": _pairs(co_i[j], co_v[j], lambda v: v > 0),
            "family": [_pairs(ids[j], cos[j]) for _, ids, cos in family],
        })
    base = {k: _permille(maps[f"{k}_base"]) for k in ("mine", "theirs", "legal")}
    used = np.concatenate([stats["top_i"].ravel(), stats["band_i"].ravel(),
                           stats["weak_i"].ravel()])
    return out, base, np.unique(used[used >= 0])
