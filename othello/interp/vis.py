"""What the feature browser (vis/index.html) shows of every feature of an SAE trained on an Othello
activation dataset (vis/generate_vis_data.py writes it out with vis/export.py).

Everything is computed on a seeded random subset of the activation rows:
- the feature statistics of `sae.features` (frequency, mean, max, histogram, top-k rows, one row
  per quantile band) and its decoder neighbours;
- board concepts (`othello.interp.concepts.best_concepts`) on at most `concept_rows` rows;
- policy effect: the decoder direction scaled by the mean activation added to the stream of
  `effect_rows` random positions, and the feature's own contribution removed from its top-k
  positions; reported as the mean change of the legal-move probabilities and of the value.
Boards are written in absolute colours ('X' black, 'O' white, '.' empty; a1 first, row by row),
the convention of `othello.rules.board.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from common.config import at_least, knob
from othello.interp.concepts import best_concepts, property_labels
from othello.interp.dataset import ActivationDataset
from othello.interp.sae_metrics import properties
from othello.interp.splice import legal_probs
from othello.rules.board import move_name
from sae.archs import SAE
from sae.data import gather
from sae.evaluate import subset
from sae.features import activation_stats, decoder_neighbours


@dataclass(frozen=True)
class VisConfig:
    """What the browser data holds per feature, and on how many rows it is computed."""

    rows: int = knob(100_000, "activation rows sampled for the statistics", check=at_least(1))
    top_k: int = knob(8, "top-activating boards per feature", check=at_least(1))
    quantiles: int = knob(4, "quantile bands with one example board each", check=at_least(1))
    bins: int = knob(24, "histogram bins", check=at_least(1))
    concept_rows: int = knob(10_000, "rows for the best board concept", check=at_least(2))
    effect_rows: int = knob(64, "positions the decoder direction is added to",
                            check=at_least(1))
    neighbours: int = knob(6, "most similar features by decoder cosine", check=at_least(1))
    shard_size: int = knob(256, "features per shard file", check=at_least(1))
    chunk: int = knob(8192, "rows encoded at a time", check=at_least(1))
    seed: int = knob(0, "seed of the row samples", check=at_least(0))


DEFAULT = VisConfig()
QUICK = replace(DEFAULT, rows=20_000)


def _r(x: float, digits: int = 4) -> float:
    return round(float(x), digits)


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


class Examples:
    """Board facts of dataset rows as the page's example records."""

    def __init__(self, ds: ActivationDataset, rows: np.ndarray):
        rows = np.unique(rows[rows >= 0])
        self.index = {int(r): i for i, r in enumerate(rows)}
        self.boards = ds.boards(rows)
        self.legal = ds.legal(rows)
        self.last = ds.last_move(rows)
        self.black = ds.black_to_move(rows)

    def record(self, row: int, act: float) -> dict:
        i = self.index[int(row)]
        board = board_string(self.boards[i], self.black[i])
        return {"row": int(row), "act": _r(act), "board": board,
                "black_to_move": bool(self.black[i]),
                "legal": [int(s) for s in np.nonzero(self.legal[i])[0]],
                "last_move": int(self.last[i])}


def _moves(delta: np.ndarray, size: int, sign: int, count: int = 3) -> list[dict]:
    order = np.argsort(-sign * delta)[:count]
    return [{"move": int(m), "name": move_name(int(m), size), "delta": _r(delta[m])}
            for m in order if sign * delta[m] > 5e-4]


RECORD_BYTES = 1000  # about one example board record held in memory (dict, board string, lists)


def records_bytes(n_features: int, d: int, moves: int, cfg: VisConfig) -> int:
    """About the memory `feature_records` needs: the example records and top-k tables of every
    feature, a 64-feature batch of top-k rows through the network, the concept features."""
    examples = n_features * (cfg.top_k + cfg.quantiles)
    return (examples * (RECORD_BYTES + 16) + 64 * cfg.top_k * 4 * (3 * d + 4 * moves)
            + 4 * n_features * (cfg.concept_rows + 2 * cfg.chunk))


def feature_records(sae: SAE, ds: ActivationDataset, layer: int, cfg: VisConfig,
                    progress: bool = False) -> list[dict]:
    """One record per feature (array position == feature id) with everything the page shows."""
    acts = ds.acts(layer)
    if acts.shape[1] != sae.d:
        raise ValueError(f"the SAE reads {sae.d}-wide activations, but {ds.acts_path(layer)} is "
                         f"{acts.shape[1]} wide (an SAE trained on another layer or network?)")
    rows = subset(np.arange(acts.shape[0]), cfg.rows, cfg.seed)
    stats = activation_stats(sae, acts, rows, top_k=cfg.top_k, quantiles=cfg.quantiles,
                             bins=cfg.bins, chunk=cfg.chunk, seed=cfg.seed, progress=progress)
    concept_rows = subset(rows, cfg.concept_rows, cfg.seed)
    feats = torch.cat([sae.encode(gather(acts, concept_rows[s:s + cfg.chunk]))
                       for s in range(0, len(concept_rows), cfg.chunk)])
    props = properties(ds, concept_rows)
    size = ds.size
    labels = property_labels(props, size)
    col, f1, thr = best_concepts(feats, props)
    del feats
    effect_rows = subset(rows, cfg.effect_rows, cfg.seed + 1)
    eff = policy_effects(sae, ds, layer, effect_rows, stats)
    nb_i, nb_v = decoder_neighbours(sae, cfg.neighbours)
    ex = Examples(ds, np.concatenate([stats["top_i"].ravel(), stats["q_row"].ravel()]))
    out = []
    for j in range(sae.n_features):
        top = [ex.record(r, v) for r, v in zip(stats["top_i"][j], stats["top_v"][j], strict=True)
               if r >= 0]
        quant = [dict(ex.record(r, v), band=q) for q, (r, v)
                 in enumerate(zip(stats["q_row"][j], stats["q_val"][j], strict=True)) if r >= 0]
        add_p, rem_p = eff["add_p"][j], eff["rem_p"][j]
        out.append({
            "id": j, "freq": _r(stats["freq"][j], 6), "mean_act": _r(stats["mean"][j]),
            "max_act": _r(stats["max"][j]),
            "hist": {"max": _r(stats["max"][j]), "counts": [int(c) for c in stats["hist"][j]]},
            "top": top, "quantiles": quant,
            "effect": {"scale": _r(stats["mean"][j]),
                       "add": {"policy": [_r(x) for x in add_p], "value": _r(eff["add_v"][j]),
                               "promotes": _moves(add_p, size, 1),
                               "suppresses": _moves(add_p, size, -1)},
                       "remove": {"policy": [_r(x) for x in rem_p], "value": _r(eff["rem_v"][j]),
                                  "promotes": _moves(rem_p, size, 1),
                                  "suppresses": _moves(rem_p, size, -1)}},
            "concept": {"label": labels[col[j]] if f1[j] > 0 else "none", "f1": _r(f1[j]),
                        "t": _r(thr[j], 1)},
            "similar": [{"id": int(i), "cos": _r(c)} for i, c in zip(nb_i[j], nb_v[j],
                                                                      strict=True)],
        })
    return out
