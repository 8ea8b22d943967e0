"""The Persian rug (Cowsik, Dolev & Infanger 2024, "The Persian Rug: solving toy models of
superposition using large-scale symmetries"): the untied toy model at large n.

Model `y = ReLU(W_out W_in x + b)` (n inputs, m = r n hidden units) on permutation-symmetric
sparse data `x_i = B_i U_i`, `B_i ~ Bernoulli(p)`, `U_i ~ U[0, 1]` (`toymodels.data`). Loss
convention of this package: the per-feature MSE, MEAN over the batch and the features, so that
predicting zero costs p/3 (the tied family in `toymodels.tms` sums over outputs instead).

What lives where:
- `theory`: the semi-analytic loss of the symmetric ansatz (closed-form G and H, Gaussian
  expectations by piecewise quadrature), its optimum at the rank bound, the linear baseline.
- `models`: hand-built models (the Sylvester-Hadamard "rug", antipodal pairs), the fitted scale
  and bias, Monte Carlo losses, and the diagnostics of how symmetric / Gaussian a W is.
- `train`: `UntiedModels` and `train_untied` (K models of one (n, m) in one batched call, Adam,
  fresh samples, resumable checkpoints), `UntiedTrainConfig`.
- `experiment`: `PersianRugConfig` (presets `DEFAULT`, `QUICK`), `run_experiment` and the gap
  table: the library behind `scripts/persian_rug.py`; `plots`: its figures.
- `__main__`: `python -m toymodels.persian_rug --r 0.25 --p 0.045` prints one optimum.
"""
