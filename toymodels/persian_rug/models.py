"""The forward-engineered Hadamard model and symmetry diagnostics of any y = ReLU(W x + b).

Hadamard model: W_in = m rows (a seeded random subset) of the Sylvester Hadamard matrix of order n,
W_out = W_in^T / m, so W = W_out W_in = (n/m) P with P an orthogonal projection with equal diagonal
m/n: unit diagonal and the smallest off-diagonal row norms a rank-m matrix allows (n/m - 1). W_ij
depends only on i XOR j, hence the fractal "Persian rug". Only a scale and a bias are fitted.

Diagnostics ask how far a trained W is from the symmetric ansatz of `toymodels.persian_rug.theory`:
spread of the diagonal and biases, off-diagonal row norms of W normalised to unit diagonal, how
Gaussian the interference nu_i = sum_{j != i} W_ij x_j / W_ii is, and the per-feature loss that
the Gaussian model predicts from each feature's own scale, shift and noise level.
"""

from __future__ import annotations

import numpy as np
import torch

from toymodels.data import sparse_uniform
from toymodels.persian_rug.theory import golden_min, optimum_at_sigma, symmetric_loss, variance_x


def sylvester_hadamard(n: int) -> torch.Tensor:
    """The n x n Sylvester Hadamard matrix (n a power of two): H_ij = (-1)^popcount(i & j)."""
    if n < 1 or n & (n - 1):
        raise ValueError(f"Sylvester Hadamard needs n a power of two, got {n}")
    h = torch.ones(1, 1)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def hadamard_weights(n: int, m: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(W_in [m, n], W_out [n, m]): m random rows of H_n and W_out = W_in^T / m.

    A random subset (rather than the first m rows, which make W the block pattern
    1{i = j mod m}, i.e. three large interferers per feature) spreads each row's interference over
    all features, which is what makes it Gaussian.
    """
    if not 1 <= m <= n:
        raise ValueError(f"need 1 <= m <= n, got m={m}, n={n}")
    rows = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:m].sort().values
    w_in = sylvester_hadamard(n)[rows]
    return w_in, w_in.T / m


def antipodal_pairs_w(n: int) -> torch.Tensor:
    """W for features paired antipodally (rank n/2, r = 1/2): W_ii = 1, W_{i,partner} = -1.

    Every feature's interference is its partner's value with a minus sign, which the ReLU removes
    unless both are active (probability ~p): a structured, n-independent solution that the
    Gaussian symmetric ansatz cannot represent.
    """
    if n % 2:
        raise ValueError(f"antipodal pairs need an even n, got {n}")
    pair = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    return torch.block_diag(*([pair] * (n // 2)))


def _sample_pre_activations(w: torch.Tensor, p: float, samples: int, gen: torch.Generator,
                            chunk: int = 2048):
    """Yield (x, W x) in chunks of fresh samples."""
    done = 0
    while done < samples:
        b = min(chunk, samples - done)
        x = sparse_uniform(b, w.shape[0], p, generator=gen)
        yield x, x @ w.T
        done += b


def fit_scale_bias(w: torch.Tensor, p: float, samples: int = 8192,
                   seed: int = 0) -> tuple[float, float]:
    """Best scalar (a, b) for y = ReLU(a W x + b) on a fit sample.

    With the threshold c = b / a fixed, y = a ReLU(W x + c) and the loss is quadratic in a, so
    a = E[x ReLU(z + c)] / E[ReLU(z + c)^2]; c is found by golden-section search.
    """
    gen = torch.Generator().manual_seed(seed)
    xs, zs = zip(*_sample_pre_activations(w, p, samples, gen), strict=True)
    x, z = torch.cat(xs).double(), torch.cat(zs).double()
    xx = float((x * x).sum())

    def loss_and_scale(c: float) -> tuple[float, float]:
        h = torch.relu(z + c)
        hh, xh = float((h * h).sum()), float((x * h).sum())
        a = xh / hh if hh > 0 else 0.0
        return xx - a * xh, a

    c = golden_min(lambda c: loss_and_scale(c)[0], -3.0, 1.0, tol=1e-6)
    a = loss_and_scale(c)[1]
    return a, a * c


@torch.no_grad()
def monte_carlo_loss(w: torch.Tensor, b: torch.Tensor | float, p: float, samples: int,
                     seed: int = 1) -> tuple[float, float]:
    """(mean, standard error) of the per-feature MSE of y = ReLU(W x + b) on fresh samples."""
    gen = torch.Generator().manual_seed(seed)
    per_sample = []
    for x, z in _sample_pre_activations(w, p, samples, gen):
        per_sample.append(((torch.relu(z + b) - x) ** 2).mean(dim=1).double())
    v = torch.cat(per_sample)
    return float(v.mean()), float(v.std() / np.sqrt(v.numel()))


def _moments(v: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(skewness, excess kurtosis) along `dim`."""
    c = v - v.mean(dim=dim, keepdim=True)
    var = (c**2).mean(dim=dim)
    return (c**3).mean(dim=dim) / var**1.5, (c**4).mean(dim=dim) / var**2 - 3


def _unit_diagonal_offdiag(w: torch.Tensor) -> torch.Tensor:
    """W_ij / W_ii with the diagonal set to zero."""
    wn = w / w.diagonal()[:, None]
    return wn - torch.diag(wn.diagonal())


@torch.no_grad()
def interference_samples(w: torch.Tensor, p: float, samples: int,
                         gen: torch.Generator, chunk: int = 2048) -> torch.Tensor:
    """nu_i = sum_{j != i} W_ij x_j / W_ii on fresh samples, [samples, n] (float64)."""
    off = _unit_diagonal_offdiag(w.double())
    out = [sparse_uniform(min(chunk, samples - k), w.shape[0], p, generator=gen).double() @ off.T
           for k in range(0, samples, chunk)]
    return torch.cat(out)


@torch.no_grad()
def symmetry_diagnostics(w: torch.Tensor, b: torch.Tensor, p: float, r: float,
                         samples: int = 4096, seed: int = 2,
                         max_features: int = 256) -> dict[str, float]:
    """How close y = ReLU(W x + b) is to the permutation-symmetric Gaussian ansatz.

    - diag_cv, bias_std: relative spread of W_ii and spread of b_i (0 if symmetric);
      weak_fraction: features with W_ii below a quarter of the median (nearly dropped);
    - offdiag_norm2_*: squared off-diagonal row norms of W_ij / W_ii against the bound n/m - 1;
    - weight_kurtosis, n_eff_over_n: excess kurtosis of the off-diagonal entries of each row,
      and (sum w^2)^2 / sum w^4 / n, the fraction of features that effectively interfere;
    - interference_skew, interference_kurtosis: moments of nu_i over samples (0 for a Gaussian);
    - gaussian_prediction: the mean per-feature loss the Gaussian model predicts from each
      feature's own scale W_ii, shift and noise level (compare with the Monte Carlo loss);
    - gaussian_optimum_own_sigma: the best loss of Gaussian interference with each feature's own
      noise level (scale and shift re-optimised; mean over up to `max_features` features). A
      trained loss below it cannot come from a better noise level: it needs non-Gaussian noise.
    """
    w, b = w.double(), b.double().reshape(-1)
    n = w.shape[0]
    diag = w.diagonal()
    off = _unit_diagonal_offdiag(w)
    norm2 = (off**2).sum(1)
    n_eff = norm2**2 / (off**4).sum(1)
    mask = ~torch.eye(n, dtype=torch.bool)
    entries = off[mask].view(n, n - 1)
    _, w_kurt = _moments(entries, dim=1)
    gen = torch.Generator().manual_seed(seed)
    skew, kurt = _moments(interference_samples(w, p, samples, gen), dim=0)
    mean_x, var = p / 2, variance_x(p)
    mus = (off.sum(1) * mean_x + b / diag).numpy()
    sigmas = np.sqrt(norm2.numpy() * var)
    pred = [symmetric_loss(a, mu, s, p) for a, mu, s in zip(diag.numpy(), mus, sigmas, strict=True)]
    pick = torch.randperm(n, generator=gen)[:max_features].numpy()
    own = [optimum_at_sigma(s, p).loss for s in sigmas[pick]]
    return {
        "diag_mean": float(diag.mean()), "diag_cv": float(diag.std() / diag.mean().abs()),
        "weak_fraction": float((diag < 0.25 * diag.median()).double().mean()),
        "bias_mean": float(b.mean()), "bias_std": float(b.std()),
        "offdiag_norm2_mean": float(norm2.mean()), "offdiag_norm2_median": float(norm2.median()),
        "offdiag_norm2_bound": 1 / r - 1,
        "weight_kurtosis": float(w_kurt.median()), "n_eff_over_n": float((n_eff / n).median()),
        "interference_skew": float(skew.median()), "interference_kurtosis": float(kurt.median()),
        "gaussian_prediction": float(np.mean(pred)),
        "gaussian_optimum_own_sigma": float(np.mean(own)),
    }
