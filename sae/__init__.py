"""Sparse autoencoders on [N, d] arrays: architectures (`sae.archs`, one file each), data
(`sae.data`), training (`sae.train`), metrics, evaluation, the grid, plots and feature statistics.
Nothing here knows what produced the activations (see DESIGN.md: sae/ never imports othello/).

`sae.load(path)` rebuilds a saved SAE whatever its architecture (SAELens's folder layout, or an
older `sae.pt`).

Importing `sae` (or its torch-free `sae.specs` and `sae.grid` config) does not load torch: the
names below are looked up in `sae.archs` on first use, so a command's --help stays fast.
"""

__all__ = ["ARCHS", "SAE", "build", "load", "register", "saved"]


def __getattr__(name: str):
    if name in __all__:
        import sae.archs

        return getattr(sae.archs, name)
    raise AttributeError(f"module 'sae' has no attribute {name!r}")
