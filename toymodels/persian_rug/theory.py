"""Semi-analytic loss of the permutation-symmetric untied toy model (Cowsik, Dolev, Infanger 2024).

Model y = ReLU(W x + b) with W = W_out W_in of rank m, data x_i = B_i U_i (B_i ~ Bernoulli(p),
U_i ~ U[0, 1]), loss the per-feature MSE. Write W = a W' with W'_ii = 1 and fold the bias into the
interference: output_i = ReLU(a (x_i + nu_i)), nu_i = sum_{j != i} W'_ij x_j + b_i / a. In the
symmetric ansatz nu_i ~ N(mu, sigma^2), independent of x_i, and the per-feature loss is

    L(a, mu) = p/3 - 2 p a E[G(nu)] + a^2 (p E[H(nu)] + (1 - p) E[nu_+^2]),
    G(t) = E_u[u (u + t)_+],  H(t) = E_u[(u + t)_+^2],  u ~ U[0, 1].

The rank bound: a rank-m W' with unit diagonal has ||W'||_F^2 >= n^2 / m, so the mean off-diagonal
squared row norm is >= n/m - 1, and sigma^2 >= (n/m - 1) Var(x) = (1/r - 1)(p/3 - p^2/4); the bound
is reached by W' = (n/m) x (orthogonal projection with equal diagonal). The optimum over a is closed
form; mu is found by a 1-D search. Gaussian expectations use Gauss-Legendre quadrature on the pieces
between the kinks of G, H and t_+^2 (at t = -1 and t = 0), so they are exact to ~1e-12.

`python -m toymodels.persian_rug --r 0.25 --p 0.045` prints one point (see `__main__`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)
_SPAN = 12.0  # Gaussian mass beyond 12 sigma is ~1e-33


def G(t: np.ndarray) -> np.ndarray:
    """E_u[u (u + t)_+], u ~ U[0, 1]: 0 (t <= -1), 1/3 + t/2 - t^3/6 (-1 < t < 0), 1/3 + t/2."""
    t = np.asarray(t, dtype=float)
    inner = 1 / 3 + t / 2 - t**3 / 6
    return np.where(t <= -1, 0.0, np.where(t < 0, inner, 1 / 3 + t / 2))


def H(t: np.ndarray) -> np.ndarray:
    """E_u[(u + t)_+^2], u ~ U[0, 1]: 0 (t <= -1), (1 + t)^3 / 3 (-1 < t < 0), 1/3 + t + t^2."""
    t = np.asarray(t, dtype=float)
    return np.where(t <= -1, 0.0, np.where(t < 0, (1 + t) ** 3 / 3, 1 / 3 + t + t**2))


def relu_sq(t: np.ndarray) -> np.ndarray:
    """t_+^2."""
    return np.maximum(np.asarray(t, dtype=float), 0.0) ** 2


def gaussian_expectations(mu: float, sigma: float) -> tuple[float, float, float]:
    """(E[G(nu)], E[H(nu)], E[nu_+^2]) for nu ~ N(mu, sigma^2), by piecewise Gauss-Legendre."""
    if sigma <= 0:
        return float(G(mu)), float(H(mu)), float(relu_sq(mu))
    lo, hi = mu - _SPAN * sigma, mu + _SPAN * sigma
    cuts = [lo] + [c for c in (-1.0, 0.0) if lo < c < hi] + [hi]
    out = np.zeros(3)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        t = 0.5 * (b - a) * _NODES + 0.5 * (a + b)
        w = 0.5 * (b - a) * _WEIGHTS * np.exp(-0.5 * ((t - mu) / sigma) ** 2)
        w /= sigma * np.sqrt(2 * np.pi)
        out += [w @ G(t), w @ H(t), w @ relu_sq(t)]
    return float(out[0]), float(out[1]), float(out[2])


def variance_x(p: float) -> float:
    """Var(B U) = p/3 - p^2/4."""
    return p / 3 - p**2 / 4


def min_interference_sigma(r: float, p: float) -> float:
    """The rank bound's smallest interference std: sqrt((1/r - 1) Var(x))."""
    return float(np.sqrt(max(1 / r - 1, 0.0) * variance_x(p)))


def symmetric_loss(a: float, mu: float, sigma: float, p: float) -> float:
    """Per-feature loss of output = ReLU(a (x + nu)), nu ~ N(mu, sigma^2)."""
    eg, eh, en = gaussian_expectations(mu, sigma)
    return p / 3 - 2 * p * a * eg + a**2 * (p * eh + (1 - p) * en)


def _loss_at_best_scale(mu: float, sigma: float, p: float) -> tuple[float, float]:
    """(loss, a) with a = p E[G] / (p E[H] + (1 - p) E[nu_+^2]) optimal for this mu."""
    eg, eh, en = gaussian_expectations(mu, sigma)
    denom = p * eh + (1 - p) * en
    if denom <= 0:
        return p / 3, 0.0
    a = p * eg / denom
    return p / 3 - p * eg * a, a


@dataclass(frozen=True)
class SymmetricOptimum:
    """The semi-analytic optimum at one (r, p): loss, scale a, shift mu, noise std sigma."""

    r: float
    p: float
    loss: float
    scale: float
    mu: float
    sigma: float
    linear_baseline: float
    zero_baseline: float

    @property
    def bias(self) -> float:
        """The effective bias a * mu (output = ReLU(a x + a nu_centred + bias))."""
        return self.scale * self.mu


def golden_min(f, lo: float, hi: float, tol: float = 1e-10) -> float:
    """Argmin of a unimodal f on [lo, hi] by golden-section search."""
    g = (np.sqrt(5) - 1) / 2
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = f(c), f(d)
    while hi - lo > tol * (1 + abs(lo) + abs(hi)):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = f(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = f(d)
    return 0.5 * (lo + hi)


def optimum_at_sigma(sigma: float, p: float, r: float = float("nan")) -> SymmetricOptimum:
    """Minimise the Gaussian-interference loss over (a, mu) at a given noise std sigma.

    A coarse grid over mu brackets the minimum (the loss need not be unimodal on a wide range),
    then golden-section search refines it.
    """
    grid = np.linspace(-1.5 - 8 * sigma, 1.0, 241)
    losses = np.array([_loss_at_best_scale(m, sigma, p)[0] for m in grid])
    k = int(np.argmin(losses))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    mu = golden_min(lambda m: _loss_at_best_scale(m, sigma, p)[0], lo, hi)
    loss, a = _loss_at_best_scale(mu, sigma, p)
    return SymmetricOptimum(r=r, p=p, loss=loss, scale=a, mu=mu, sigma=sigma,
                            linear_baseline=linear_baseline(r, p) if r == r else float("nan"),
                            zero_baseline=p / 3)


def symmetric_optimum(r: float, p: float) -> SymmetricOptimum:
    """The semi-analytic optimum at ratio r = m/n and density p (sigma at the rank bound)."""
    if not (0 < r <= 1 and 0 < p <= 1):
        raise ValueError(f"need 0 < r <= 1 and 0 < p <= 1, got r={r}, p={p}")
    return optimum_at_sigma(min_interference_sigma(r, p), p, r)


def linear_baseline(r: float, p: float) -> float:
    """Best per-feature loss of any rank-m affine map: (1 - r) Var(x) = (1 - r)(p/3 - p^2/4).

    The data covariance is Var(x) I (+ a mean that the bias or the all-ones direction carries),
    so keeping m of its n equal eigen-directions leaves (n - m) Var(x) in total. Its small-p
    limit is the paper's (p/3)(1 - r).
    """
    return (1 - r) * variance_x(p)


def monte_carlo_gaussian_loss(a: float, mu: float, sigma: float, p: float, samples: int,
                              seed: int = 0) -> tuple[float, float]:
    """(mean, standard error) of the symmetric model's loss by direct simulation of x and nu."""
    rng = np.random.default_rng(seed)
    x = (rng.random(samples) < p) * rng.random(samples)
    nu = rng.normal(mu, sigma, samples)
    err = (a * np.maximum(x + nu, 0.0) - x) ** 2
    return float(err.mean()), float(err.std() / np.sqrt(samples))
