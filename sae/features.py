"""Statistics of SAE features over rows of an `[N, d]` array, streamed in chunks so a 4096-feature
SAE never needs an [N, F] matrix in memory (used by the feature browser's data):
- pass 1: firing frequency, mean activation when firing, maximum, top-k rows, and the weakest
  firing rows (smallest activations above zero);
- pass 2: a histogram of the non-zero activations on [0, max] (`bins` bins for display, counted
  on a grid ten times finer so the quantile edges are sharper);
- pass 3: per quantile band of the firing activations (deciles by default), `per_band` example
  rows drawn uniformly among the rows in the band;
and, given a matrix of firing indicators, co-activation neighbours (Jaccard overlap), plus the
most similar features by decoder cosine, inside one SAE or across two (feature families).
Work per chunk is over the non-zero entries only, so its cost follows L0, not the width.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from sae.archs import SAE
from sae.data import gather

FINE = 10  # histogram sub-bins per display bin, for the quantile edges


def best_per_group(group: torch.Tensor, key: torch.Tensor, count: int) -> torch.Tensor:
    """Indices of the `count` entries with the largest `key` within each value of `group`
    (ties: earlier entries first), grouped by increasing group."""
    order = torch.argsort(key, descending=True, stable=True)
    order = order[torch.argsort(group[order], stable=True)]
    g = group[order]
    rank = torch.arange(len(g)) - torch.searchsorted(g, g)
    return order[rank < count]


class _Keep:
    """Running per-group selection of (row, value) pairs by a key (largest first)."""

    def __init__(self, groups: int, count: int):
        self.groups, self.count = groups, count
        self.group = torch.zeros(0, dtype=torch.long)
        self.key = torch.zeros(0, dtype=torch.float64)
        self.row = torch.zeros(0, dtype=torch.long)
        self.value = torch.zeros(0)

    def add(self, group: torch.Tensor, key: torch.Tensor, row: torch.Tensor,
            value: torch.Tensor) -> None:
        g, k = torch.cat([self.group, group]), torch.cat([self.key, key.double()])
        r, v = torch.cat([self.row, row]), torch.cat([self.value, value])
        pick = best_per_group(g, k, self.count)
        self.group, self.key, self.row, self.value = g[pick], k[pick], r[pick], v[pick]

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """rows [groups, count] (-1 where a group has fewer) and their values, best first."""
        rows = torch.full((self.groups, self.count), -1, dtype=torch.long)
        values = torch.zeros(self.groups, self.count)
        rank = torch.arange(len(self.group)) - torch.searchsorted(self.group, self.group)
        rows[self.group, rank] = self.row
        values[self.group, rank] = self.value
        return rows.numpy(), values.numpy()


@torch.no_grad()
def activation_stats(sae: SAE, acts: np.ndarray, rows: np.ndarray, top_k: int = 24,
                     quantiles: int = 10, per_band: int = 5, weakest: int = 5, bins: int = 24,
                     chunk: int = 8192, seed: int = 0,
                     progress: bool = False) -> dict[str, np.ndarray]:
    """Frequency, mean when firing, max, top-k (values, rows: -1 where a feature fired on fewer
    rows), the weakest firing rows (smallest first), histogram, quantile band edges
    [F, quantiles + 1] and `per_band` sample rows (and values) per band [F, quantiles, per_band].
    """
    f = sae.n_features
    count = torch.zeros(f, dtype=torch.float64)
    total = torch.zeros(f, dtype=torch.float64)
    top_v = torch.full((f, top_k), -1.0)
    top_i = torch.full((f, top_k), -1, dtype=torch.long)
    weak = _Keep(f, weakest)
    starts = range(0, len(rows), chunk)
    for start in tqdm(starts, desc="vis pass 1", disable=not progress):
        part = rows[start:start + chunk]
        a = sae.encode(gather(acts, part))
        count += (a > 0).sum(0).double()
        total += a.sum(0).double()
        k = min(top_k, a.shape[0])
        v, i = a.topk(k, dim=0)
        cand_v = torch.cat([top_v, v.T], dim=1)
        cand_i = torch.cat([top_i, torch.from_numpy(part)[i.T]], dim=1)
        top_v, pick = cand_v.topk(top_k, dim=1)
        top_i = cand_i.gather(1, pick)
        r, j = a.nonzero(as_tuple=True)
        weak.add(j, -a[r, j], torch.from_numpy(part)[r], a[r, j])
    top_i = torch.where(top_v > 0, top_i, torch.tensor(-1))  # only rows where it fires
    top_v = top_v.clamp_min(0)
    vmax = top_v[:, 0]
    fine = bins * FINE
    scale = torch.where(vmax > 0, fine / vmax.clamp_min(1e-12), torch.zeros_like(vmax))
    hist = torch.zeros(f, fine, dtype=torch.float64)
    offsets = torch.arange(f) * fine
    for start in tqdm(starts, desc="vis pass 2", disable=not progress):
        a = sae.encode(gather(acts, rows[start:start + chunk]))
        r, j = a.nonzero(as_tuple=True)
        b = (a[r, j] * scale[j]).long().clamp(0, fine - 1) + offsets[j]
        hist.view(-1).index_add_(0, b, torch.ones(len(b), dtype=torch.float64))
    # quantile band edges (activation values) from the fine histogram's cumulative counts
    cum = hist.cumsum(1) / hist.sum(1, keepdim=True).clamp_min(1)
    q = torch.arange(1, quantiles, dtype=torch.float64) / quantiles
    edge_bins = torch.searchsorted(cum.contiguous(), q.expand(f, -1).contiguous()) + 1
    inner = edge_bins.float() / scale.clamp_min(1e-12)[:, None]  # [F, Q-1]
    edges = torch.cat([torch.zeros(f, 1), inner, vmax[:, None]], dim=1)
    gen = torch.Generator().manual_seed(seed)
    bands = _Keep(f * quantiles, per_band)
    for start in tqdm(starts, desc="vis pass 3", disable=not progress):
        part = rows[start:start + chunk]
        a = sae.encode(gather(acts, part))
        r, j = a.nonzero(as_tuple=True)
        v = a[r, j]
        band = (v[:, None] >= inner[j]).sum(1)
        key = torch.rand(len(v), generator=gen, dtype=torch.float64)
        bands.add(j * quantiles + band, key, torch.from_numpy(part)[r], v)
    band_i, band_v = bands.table()
    weak_i, weak_v = weak.table()
    n = len(rows)
    return {"freq": (count / n).numpy(), "mean": (total / count.clamp_min(1)).numpy(),
            "max": vmax.numpy(), "top_v": top_v.numpy(), "top_i": top_i.numpy(),
            "weak_i": weak_i, "weak_v": weak_v,
            "hist": hist.reshape(f, bins, FINE).sum(2).numpy(), "edges": edges.numpy(),
            "band_i": band_i.reshape(f, quantiles, per_band),
            "band_v": band_v.reshape(f, quantiles, per_band)}


def coactivation_neighbours(fires: torch.Tensor, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids [F, count] and Jaccard overlaps |i and j| / |i or j| of the features that fire on the
    same rows most often, from firing indicators [R, F] (a sparse product: cost ~ R * L0 * F)."""
    b = fires.float()
    n = b.sum(0)
    inter = torch.sparse.mm(b.T.to_sparse(), b)
    union = n[:, None] + n[None] - inter
    jac = torch.where(union > 0, inter / union.clamp_min(1), 0.0)
    jac.fill_diagonal_(-1.0)
    v, i = jac.topk(min(count, b.shape[1] - 1), dim=1)
    return i.numpy(), v.numpy()


def _unit_rows(w: torch.Tensor) -> torch.Tensor:
    return w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)


def decoder_matches(a: SAE, b: SAE, count: int) -> tuple[np.ndarray, np.ndarray]:
    """For every feature of `a`, the ids [F_a, count] and cosines of the closest decoder
    directions among the features of `b` (feature families across SAE widths)."""
    with torch.no_grad():
        cos = _unit_rows(a.W_dec) @ _unit_rows(b.W_dec).T
        v, i = cos.topk(min(count, cos.shape[1]), dim=1)
    return i.numpy(), v.numpy()


def decoder_neighbours(sae: SAE, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids [F, count] and cosines of the most similar other features by decoder direction."""
    with torch.no_grad():
        w = _unit_rows(sae.W_dec)
        cos = w @ w.T
        cos.fill_diagonal_(-2.0)
        v, i = cos.topk(min(count, w.shape[0] - 1), dim=1)
    return i.numpy(), v.numpy()
