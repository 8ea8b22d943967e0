"""SAE architectures, one file each; importing this package registers every module in it, so a
new architecture is one new file here (or a `@register`ed class anywhere, e.g. in a test)."""

import importlib
import pkgutil

from sae.archs.base import (
    ARCHS,
    SAE,
    LossParts,
    build,
    get,
    load,
    register,
    saved,
    sq_error,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["ARCHS", "SAE", "LossParts", "build", "get", "load", "register", "saved", "sq_error"]
