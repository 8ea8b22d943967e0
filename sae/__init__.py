"""Sparse autoencoders on [N, d] arrays: architectures (`sae.archs`, one file each), data
(`sae.data`), training (`sae.train`), metrics, evaluation, the grid, plots and feature statistics.
Nothing here knows what produced the activations (see DESIGN.md: sae/ never imports othello/).

`sae.load(path)` rebuilds a saved SAE whatever its architecture (SAELens's folder layout, or an
older `sae.pt`).
"""

from sae.archs import ARCHS, SAE, build, load, register, saved

__all__ = ["ARCHS", "SAE", "build", "load", "register", "saved"]
