"""Toy models of superposition: two model families, each a subpackage with its own data,
training, theory and plots. Nothing here imports `othello/`.

- `toymodels.tms`: the tied model `x -> ReLU(W^T W x + b)` of Elhage et al. (2022) with n = 6
  features and m = 2 hidden dimensions; the k-gon critical points of Chen et al. (2023), their
  local learning coefficients (LLC, through devinterp and a batched SGLD twin), the sparsity
  sweep behind `scripts/sweep_sparsity.py`, polygon pictures and training trajectories.
  Loss: squared error SUMMED over outputs, mean over samples.
- `toymodels.persian_rug`: the untied model `y = ReLU(W_out W_in x + b)` at large n (Cowsik,
  Dolev & Infanger 2024): the semi-analytic loss of the permutation-symmetric ansatz, the
  Hadamard construction, batched training, the experiment behind `scripts/persian_rug.py`.
  Loss: per-feature MSE (MEAN over outputs and samples; predicting zero costs p/3).

Shared by both: `toymodels.data` (sparse-uniform data) and `toymodels.stages` (resumable stage
files: a truncated one raises `StageFileError`, which entry points answer by moving the file
aside and redoing that stage).
"""
