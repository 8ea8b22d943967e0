"""Statistics of SAE features over rows of an `[N, d]` array, streamed in chunks so a 4096-feature
SAE never needs an [N, F] matrix in memory (used by the feature browser's data):
- pass 1: firing frequency, mean activation when firing, maximum, top-k rows;
- pass 2: a histogram of the non-zero activations on [0, max];
- pass 3: per quantile band of that histogram, one example row drawn uniformly among the rows in
  the band;
and the most similar features by decoder cosine.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from sae.archs import SAE
from sae.data import gather


@torch.no_grad()
def activation_stats(sae: SAE, acts: np.ndarray, rows: np.ndarray, top_k: int = 8,
                     quantiles: int = 4, bins: int = 24, chunk: int = 8192, seed: int = 0,
                     progress: bool = False) -> dict[str, np.ndarray]:
    """Frequency, mean when firing, max, top-k (values, rows: -1 where a feature fired on fewer
    rows), histogram, and one sample row (and its value) per quantile band."""
    f = sae.n_features
    count = torch.zeros(f, dtype=torch.float64)
    total = torch.zeros(f, dtype=torch.float64)
    top_v = torch.full((f, top_k), -1.0)
    top_i = torch.full((f, top_k), -1, dtype=torch.long)
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
    top_i = torch.where(top_v > 0, top_i, torch.tensor(-1))  # only rows where it fires
    top_v = top_v.clamp_min(0)
    vmax = top_v[:, 0]
    scale = torch.where(vmax > 0, bins / vmax.clamp_min(1e-12), torch.zeros_like(vmax))
    hist = torch.zeros(f, bins, dtype=torch.float64)
    offsets = torch.arange(f) * bins
    for start in tqdm(starts, desc="vis pass 2", disable=not progress):
        a = sae.encode(gather(acts, rows[start:start + chunk]))
        on = a > 0
        b = (a * scale).long().clamp(0, bins - 1) + offsets
        hist.view(-1).index_add_(0, b[on], torch.ones(int(on.sum()), dtype=torch.float64))
    # quantile band edges (activation values) from the histogram's cumulative counts
    cum = hist.cumsum(1) / hist.sum(1, keepdim=True).clamp_min(1)
    q = torch.arange(1, quantiles, dtype=torch.float64) / quantiles
    edge_bins = torch.searchsorted(cum.contiguous(), q.expand(f, -1).contiguous()) + 1
    edges = (edge_bins.float() / scale.clamp_min(1e-12)[:, None])  # [F, Q-1]
    gen = torch.Generator().manual_seed(seed)
    best_key = torch.full((f, quantiles), -1.0)
    best_row = torch.full((f, quantiles), -1, dtype=torch.long)
    best_val = torch.zeros(f, quantiles)
    for start in tqdm(starts, desc="vis pass 3", disable=not progress):
        part = rows[start:start + chunk]
        a = sae.encode(gather(acts, part))
        band = torch.zeros(a.shape, dtype=torch.int8)
        for e in range(quantiles - 1):
            band += a >= edges[:, e]
        band.masked_fill_(a <= 0, -1)
        key = torch.rand(a.shape, generator=gen)
        for qi in range(quantiles):
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


def decoder_neighbours(sae: SAE, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids [F, count] and cosines of the most similar other features by decoder direction."""
    with torch.no_grad():
        w = sae.W_dec
        w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)
        cos = w @ w.T
        cos.fill_diagonal_(-2.0)
        v, i = cos.topk(min(count, w.shape[0] - 1), dim=1)
    return i.numpy(), v.numpy()
