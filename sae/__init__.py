"""Sparse autoencoders: architectures (`sae.models`), training (`sae.train`), metrics.

`sae.load(path)` rebuilds a saved SAE whatever its architecture.
"""

from sae.models import ARCHS, SAE, build, load

__all__ = ["ARCHS", "SAE", "build", "load"]
