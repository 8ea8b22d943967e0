"""Toy models of superposition (Elhage et al. 2022), the tied family, and their singular learning
theory (Chen et al. 2023, "Dynamical versus Bayesian Phase Transitions in a Toy Model of
Superposition").

The model is `x -> ReLU(W^T W x + b)` with one weight matrix W (m hidden x n features) used to
encode and decode, so every gradient is the true tied gradient. Loss convention, used everywhere
in this package: the squared error is SUMMED over the n outputs and AVERAGED over the samples,

    L(W, b) = mean_batch sum_j importance_j * (f(x)_j - x_j)^2,   importance_j = 1 by default.

Many models are handled at once with a leading model dimension: W is (M, m, n), b is (M, n),
data is (M, batch, n), and losses come back as (M,).

What lives where:
- `model`: forward pass, loss, the fast batched loss-and-gradient kernel, `TiedTMS` (nn.Module).
- `population`: Chen et al.'s one-active-feature data and its exact (closed-form) loss.
- `inits`: random, k-gon and k-gon + noise initialisations.
- `train`: `TiedTrainConfig` and `train_many` (many models, one optimiser step, checkpoints).
- `critical`: the k-gon critical points of the population loss (theory values of the LLC).
- `llc`: `SGLDConfig`, LLC through devinterp and the batched SGLD estimator `llc_batched`.
- `kgon`: `python -m toymodels.tms.kgon`, the table of k-gon critical points with their LLC.
- `sweep`: `SparsitySweepConfig` (presets `DEFAULT`, `QUICK`), `run_sweep` and its summaries
  (the library behind `scripts/sweep_sparsity.py`); `sweep_plots`: its figures and report.
- `polygons`: pictures of W (columns, hull, biases) and GIFs over checkpoints.
- `trajectory`: one sweep model's polygon over training against its k-gon losses (used by
  `scripts/policy_trajectory.py`).
"""
