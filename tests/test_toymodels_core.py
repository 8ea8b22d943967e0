"""Model, data, exact population loss and k-gon critical points of the toy model."""

import math

import pytest
import torch

from toymodels.data import sparse_uniform
from toymodels.tms.critical import find_kgon
from toymodels.tms.inits import kgon, kgon_init, random_init
from toymodels.tms.model import loss, loss_and_grad
from toymodels.tms.population import one_active, population_loss, relu_moments


def test_tied_gradient_matches_hand_derivation():
    """dL/dW = W (D + D^T) with D = x^T dL/dz: both uses of W contribute."""
    g = torch.Generator().manual_seed(0)
    W = torch.randn(2, 6, generator=g, dtype=torch.float64).requires_grad_(True)
    b = torch.randn(6, generator=g, dtype=torch.float64) * 0.1
    x = sparse_uniform(64, 6, 0.3, generator=g).double()
    loss(W, b, x).backward()
    z = x @ W.T @ W + b
    dz = 2 * (torch.relu(z) - x) * (z > 0) / len(x)
    D = x.T @ dz
    W_ = W.detach()
    assert torch.allclose(W.grad, W_ @ (D + D.T), atol=1e-12)
    # the "copied decoder" bug keeps only the encoder half of the gradient
    assert not torch.allclose(W.grad, W_ @ D.T, atol=1e-3)


@pytest.mark.parametrize("weighted", [False, True])
def test_fast_loss_and_grad_matches_autograd(weighted):
    """The autograd-free kernel used by training and SGLD: R replicas x M models."""
    g = torch.Generator().manual_seed(4)
    W = torch.randn(3, 5, 2, 6, generator=g, dtype=torch.float64)
    b = 0.2 * torch.randn(3, 5, 6, generator=g, dtype=torch.float64)
    x = sparse_uniform(40, 6, 0.4, g, leading=(5,)).double()
    importance = 0.9 ** torch.arange(6, dtype=torch.float64) if weighted else None
    Wg, bg = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
    value = loss(Wg, bg, x, importance)
    value.sum().backward()
    fast, gW, gb = loss_and_grad(W, b, x, importance)
    assert torch.allclose(fast, value.detach()) and torch.allclose(gW, Wg.grad)
    assert torch.allclose(gb, bg.grad)


def test_relu_moments_hand_values():
    a = torch.tensor([1.0, 0.0, -1.0, 2.0, 0.0], dtype=torch.float64)
    c = torch.tensor([0.0, 0.5, 0.5, -1.0, -0.1], dtype=torch.float64)
    square, cross = relu_moments(a, c)
    # int_0^1 u^2; 0.25; int_0^.5 (.5-u)^2; int_.5^1 (2u-1)^2; nothing
    assert torch.allclose(square, torch.tensor([1 / 3, 0.25, 1 / 24, 1 / 6, 0.0],
                                               dtype=torch.float64))
    # int u*u; int .5u; int_0^.5 u(.5-u) = 1/48; int_.5^1 u(2u-1) = 5/24
    assert torch.allclose(cross, torch.tensor([1 / 3, 0.25, 1 / 48, 5 / 24, 0.0],
                                              dtype=torch.float64))


@pytest.mark.parametrize("case", ["hexagon", "pentagon", "random"])
def test_population_loss_matches_monte_carlo(case):
    g = torch.Generator().manual_seed(1)
    if case == "random":
        W, b = torch.randn(2, 6, generator=g).double(), 0.3 * torch.randn(6, generator=g).double()
    else:
        W, b = kgon(6 if case == "hexagon" else 5, 6, 1.3, -0.6, 0.2, dtype=torch.float64)
    x = one_active(400_000, 6, g).double()
    per_sample = ((torch.relu(x @ W.T @ W + b) - x) ** 2).sum(-1)
    se = per_sample.std() / math.sqrt(len(x))
    assert abs(population_loss(W, b) - per_sample.mean()) < 4 * se


def test_one_active_has_exactly_one_feature():
    x = one_active(10_000, 6, torch.Generator().manual_seed(2), leading=(3,))
    assert x.shape == (3, 10_000, 6)
    assert ((x > 0).sum(-1) == 1).all()
    assert x.max() <= 1 and abs(x.sum(-1).mean() - 0.5) < 0.01
    counts = (x > 0).float().mean((0, 1))
    assert torch.allclose(counts, torch.full((6,), 1 / 6), atol=0.01)


def test_random_init_scale():
    W, b = random_init(2000, 6, 2, torch.Generator().manual_seed(5))
    assert W.shape == (2000, 2, 6) and (b == 0).all()
    assert abs(float(W.std()) - math.sqrt(2 / 8)) < 0.01


def test_kgon_init_geometry():
    W, b = kgon_init(3, 5, 6, radius=1.5, bias=-0.2, dead_bias=0.1)
    assert W.shape == (3, 2, 6) and b.shape == (3, 6)
    assert torch.allclose(W[:, :, :5].norm(dim=1), torch.full((3, 5), 1.5))
    assert torch.allclose(W[0, :, 0] @ W[0, :, 1], torch.tensor(1.5**2 * math.cos(2 * math.pi / 5)))
    assert (W[:, :, 5] == 0).all() and (b[:, 5] == 0.1).all() and (b[:, :5] == -0.2).all()


# (k, positive dead columns, loss): 4-gons by hand (r = 1, b = 0, positive dead bias 1/12, a
# dead feature costing 1/3 or 7/24); 5- and 6-gon values from the closed form, which
# test_critical_losses_match_monte_carlo checks independently.
CRITICAL = [(4, 0, 1 / 9), (4, 1, 15 / 144), (4, 2, 14 / 144),
            (5, 0, 0.068744), (5, 1, 0.061799), (6, 0, 0.048192)]


@pytest.mark.parametrize("k,positive,expected", CRITICAL)
def test_kgon_critical_points(k, positive, expected):
    point = find_kgon(k, 6, positive)
    assert point.grad_norm < 1e-6
    assert point.loss == pytest.approx(expected, abs=2e-6)
    if positive:
        assert point.dead_bias == pytest.approx(1 / 12, abs=1e-6)


def test_hexagon_radius_and_bias():
    point = find_kgon(6)
    assert point.radius == pytest.approx(1.32053, abs=1e-4)
    assert point.bias == pytest.approx(-0.61814, abs=1e-4)


def test_critical_point_is_minimum_along_radius():
    """Sanity: the exact loss rises when the hexagon is scaled away from its critical radius."""
    point = find_kgon(6)
    for scale in (0.97, 1.03):
        assert population_loss(point.W * scale, point.b) > point.loss + 1e-5


@pytest.mark.parametrize("k,positive", [(5, 0), (5, 1), (6, 0)])
def test_critical_losses_match_monte_carlo(k, positive):
    point = find_kgon(k, 6, positive)
    x = one_active(400_000, 6, torch.Generator().manual_seed(3)).double()
    per_sample = ((torch.relu(x @ point.W.T @ point.W + point.b) - x) ** 2).sum(-1)
    se = per_sample.std() / math.sqrt(len(x))
    assert abs(point.loss - per_sample.mean()) < 4 * se
