"""Static JSON for the feature browser (vis/index.html): one index of SAEs, and per SAE a small
summary (arrays over features, for sorting and search) plus shards of full feature records.

Everything is computed on a seeded random subset of the activation rows, streamed in chunks so a
4096-feature SAE never needs an [N, F] matrix in memory:
- pass 1: firing frequency, mean activation when firing, maximum, top-k rows;
- pass 2: a histogram of the non-zero activations on [0, max] and, per quantile band of that
  histogram, one example row drawn uniformly among the rows in the band;
- board concepts (`othello.interp.concepts.best_concepts`) on at most `concept_rows` rows;
- policy effect: the decoder direction scaled by the mean activation added to the stream of
  `effect_rows` random positions, and the feature's own contribution removed from its top-k
  positions; reported as the mean change of the legal-move probabilities and of the value;
- the most similar features by decoder cosine.
Boards are written in absolute colours ('X' black, 'O' white, '.' empty; a1 first, row by row),
the convention of `othello.rules.board.render`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from common.io import atomic_write_bytes, code_version, write_json
from othello.interp.concepts import best_concepts, property_labels
from othello.rules.board import move_name
from sae.data import gather
from sae.evaluate import Dataset, properties, subset
from sae.metrics import legal_log_policy
from sae.models import SAE


@dataclass
class VisConfig:
    rows: int = 100_000
    top_k: int = 8
    quantiles: int = 4
    bins: int = 24
    concept_rows: int = 10_000
    effect_rows: int = 64
    neighbours: int = 6
    shard_size: int = 256
    chunk: int = 8192
    seed: int = 0


def _r(x: float, digits: int = 4) -> float:
    return round(float(x), digits)


@torch.no_grad()
def activation_stats(sae: SAE, acts: np.ndarray, rows: np.ndarray, cfg: VisConfig,
                     progress: bool = False) -> dict[str, np.ndarray]:
    """Frequency, mean when firing, max, top-k (values, rows), histogram and quantile samples."""
    f = sae.n_features
    count = torch.zeros(f, dtype=torch.float64)
    total = torch.zeros(f, dtype=torch.float64)
    top_v = torch.full((f, cfg.top_k), -1.0)
    top_i = torch.full((f, cfg.top_k), -1, dtype=torch.long)
    starts = range(0, len(rows), cfg.chunk)
    for start in tqdm(starts, desc="vis pass 1", disable=not progress):
        part = rows[start:start + cfg.chunk]
        a = sae.encode(gather(acts, part))
        count += (a > 0).sum(0).double()
        total += a.sum(0).double()
        k = min(cfg.top_k, a.shape[0])
        v, i = a.topk(k, dim=0)
        cand_v = torch.cat([top_v, v.T], dim=1)
        cand_i = torch.cat([top_i, torch.from_numpy(part)[i.T]], dim=1)
        top_v, pick = cand_v.topk(cfg.top_k, dim=1)
        top_i = cand_i.gather(1, pick)
    top_i = torch.where(top_v > 0, top_i, torch.tensor(-1))  # only rows where it fires
    top_v = top_v.clamp_min(0)
    vmax = top_v[:, 0]
    scale = torch.where(vmax > 0, cfg.bins / vmax.clamp_min(1e-12), torch.zeros_like(vmax))
    hist = torch.zeros(f, cfg.bins, dtype=torch.float64)
    offsets = torch.arange(f) * cfg.bins
    for start in tqdm(starts, desc="vis pass 2", disable=not progress):
        a = sae.encode(gather(acts, rows[start:start + cfg.chunk]))
        on = a > 0
        b = (a * scale).long().clamp(0, cfg.bins - 1) + offsets
        hist.view(-1).index_add_(0, b[on], torch.ones(int(on.sum()), dtype=torch.float64))
    # quantile band edges (activation values) from the histogram's cumulative counts
    cum = hist.cumsum(1) / hist.sum(1, keepdim=True).clamp_min(1)
    q = torch.arange(1, cfg.quantiles, dtype=torch.float64) / cfg.quantiles
    edge_bins = torch.searchsorted(cum.contiguous(), q.expand(f, -1).contiguous()) + 1
    edges = (edge_bins.float() / scale.clamp_min(1e-12)[:, None])  # [F, Q-1]
    gen = torch.Generator().manual_seed(cfg.seed)
    best_key = torch.full((f, cfg.quantiles), -1.0)
    best_row = torch.full((f, cfg.quantiles), -1, dtype=torch.long)
    best_val = torch.zeros(f, cfg.quantiles)
    for start in tqdm(starts, desc="vis pass 3", disable=not progress):
        part = rows[start:start + cfg.chunk]
        a = sae.encode(gather(acts, part))
        band = torch.zeros(a.shape, dtype=torch.int8)
        for e in range(cfg.quantiles - 1):
            band += a >= edges[:, e]
        band.masked_fill_(a <= 0, -1)
        key = torch.rand(a.shape, generator=gen)
        for qi in range(cfg.quantiles):
            kq = key.masked_fill(band != qi, -1.0)
            kmax, arg = kq.max(0)
            better = kmax > best_key[:, qi]
            best_key[:, qi] = torch.where(better, kmax, best_key[:, qi])
            best_row[:, qi] = torch.where(better, torch.from_numpy(part)[arg], best_row[:, qi])
            best_val[:, qi] = torch.where(better, a[arg, torch.arange(f)], best_val[:, qi])
    n = len(rows)
    return {"freq": (count / n).numpy(), "mean": (total / count.clamp_min(1)).numpy(),
            "max": vmax.numpy(), "top_v": top_v.numpy(), "top_i": top_i.numpy(),
            "hist": hist.numpy(), "q_row": best_row.numpy(), "q_val": best_val.numpy()}


def legal_probs(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """The policy as probabilities over the legal moves (0 elsewhere)."""
    return legal_log_policy(logits, legal).exp() * legal


@torch.no_grad()
def policy_effects(sae: SAE, data: Dataset, base_rows: np.ndarray, stats: dict,
                   batch: int = 64) -> dict[str, np.ndarray]:
    """Mean change of legal-move probabilities [F, moves] and of the value [F] when the feature's
    decoder direction (times its mean activation) is added to `base_rows`, and when its own
    contribution is removed from its top-k rows."""
    net, block = data.net, data.block
    w = sae.W_dec  # [F, d], original units
    f = w.shape[0]
    x0 = gather(data.acts, base_rows)
    legal0 = torch.from_numpy(np.asarray(data.rows("legal", base_rows)))
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
        x = gather(data.acts, flat)
        legal = torch.from_numpy(np.asarray(data.rows("legal", flat)))
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


def decoder_neighbours(sae: SAE, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids [F, count] and cosines of the most similar other features by decoder direction."""
    with torch.no_grad():
        w = sae.W_dec
        w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)
        cos = w @ w.T
        cos.fill_diagonal_(-2.0)
        v, i = cos.topk(min(count, w.shape[0] - 1), dim=1)
    return i.numpy(), v.numpy()


def board_string(board: np.ndarray, black_to_move: bool) -> str:
    """Side-to-move board (1 mine, -1 theirs) in absolute colours: 'X' black, 'O' white."""
    me, them = ("X", "O") if black_to_move else ("O", "X")
    return "".join(me if v == 1 else them if v == -1 else "." for v in board)


class Examples:
    """Board facts of dataset rows as the page's example records."""

    def __init__(self, data: Dataset, rows: np.ndarray):
        rows = np.unique(rows[rows >= 0])
        self.index = {int(r): i for i, r in enumerate(rows)}
        self.boards = data.rows("boards", rows)
        self.legal = data.rows("legal", rows)
        self.last = data.rows("last_move", rows)
        self.black = data.rows("black_to_move", rows)

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


def feature_records(sae: SAE, data: Dataset, cfg: VisConfig, progress: bool = False) -> list[dict]:
    """One record per feature (array position == feature id) with everything the page shows."""
    rows = subset(np.arange(data.acts.shape[0]), cfg.rows, cfg.seed)
    stats = activation_stats(sae, data.acts, rows, cfg, progress)
    concept_rows = subset(rows, cfg.concept_rows, cfg.seed)
    feats = torch.cat([sae.encode(gather(data.acts, concept_rows[s:s + cfg.chunk]))
                       for s in range(0, len(concept_rows), cfg.chunk)])
    props = properties(data, concept_rows)
    size = data.net.config.size
    labels = property_labels(props, size)
    col, f1, thr = best_concepts(feats, props)
    del feats
    effect_rows = subset(rows, cfg.effect_rows, cfg.seed + 1)
    eff = policy_effects(sae, data, effect_rows, stats)
    nb_i, nb_v = decoder_neighbours(sae, cfg.neighbours)
    ex = Examples(data, np.concatenate([stats["top_i"].ravel(), stats["q_row"].ravel()]))
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


def _dump(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def write_sae(records: list[dict], out: Path, shard_size: int) -> dict:
    """summary.json (per-feature arrays) and shard_NNN.json files; returns byte counts."""
    out.mkdir(parents=True, exist_ok=True)
    summary = {"n_features": len(records), "shard_size": shard_size,
               "n_shards": math.ceil(len(records) / shard_size),
               "freq": [r["freq"] for r in records], "mean_act": [r["mean_act"] for r in records],
               "concept": [r["concept"]["label"] for r in records],
               "f1": [r["concept"]["f1"] for r in records]}
    sizes = {"summary.json": len(_dump(summary))}
    atomic_write_bytes(out / "summary.json", _dump(summary))
    for s in range(summary["n_shards"]):
        part = records[s * shard_size:(s + 1) * shard_size]
        blob = _dump({"start": s * shard_size, "features": part})
        name = f"shard_{s:03d}.json"
        atomic_write_bytes(out / name, blob)
        sizes[name] = len(blob)
    return sizes


def sae_entry(sae_dir: Path, dataset: str, sizes: dict) -> dict:
    """The index row of one SAE: architecture, width, sparsity setting, metrics, file sizes."""
    meta = json.loads((sae_dir / "meta.json").read_text())
    metrics_path = sae_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    cfg = meta.get("config", {})
    arch = cfg.get("arch", meta.get("sae", {}).get("arch", "?"))
    return {"id": f"{dataset}/{sae_dir.name}", "dataset": dataset, "name": sae_dir.name,
            "arch": arch, "n_features": cfg.get("n_features"),
            "sparsity": {"k": cfg.get("k")} if arch == "topk" else {"l1": cfg.get("l1")},
            "metrics": {k: metrics[k] for k in ("reconstruction", "splice", "concepts")
                        if k in metrics},
            "bytes": sum(sizes.values()), "largest_shard": max(sizes.values())}


def write_index(out: Path, entries: list[dict], config: VisConfig) -> None:
    """index.json (merged with SAEs already there) and meta.json."""
    path = out / "index.json"
    old = json.loads(path.read_text())["saes"] if path.is_file() else []
    ids = {e["id"] for e in entries}
    saes = sorted([e for e in old if e["id"] not in ids] + entries, key=lambda e: e["id"])
    write_json(path, {"saes": saes})
    write_json(out / "meta.json", {"config": asdict(config), "seed": config.seed,
                                   "code_version": code_version()})
