"""Toy models of superposition (Elhage et al. 2022) and their singular learning theory.

The model is `x -> ReLU(W^T W x + b)` with one weight matrix W (m hidden x n features) used to
encode and decode, so every gradient is the true tied gradient.

Loss convention, used everywhere in this package (as in Chen et al. 2023, "Dynamical versus
Bayesian Phase Transitions in a Toy Model of Superposition"): the squared error is SUMMED over
the n outputs and AVERAGED over the samples of a batch,

    L(W, b) = mean_batch sum_j importance_j * (f(x)_j - x_j)^2,   importance_j = 1 by default.

Many models are handled at once with a leading model dimension: W is (M, m, n), b is (M, n),
data is (M, batch, n), and losses come back as (M,).
"""
