"""What the command line needs to know about each SAE architecture, without loading torch.

An architecture's spec is its name, its hyper-parameters (a frozen dataclass of `knob()` fields),
its default learning rate and the values a grid sweeps. The grid's flags are generated from the
specs, so `train_sae.py --help` answers in a fraction of a second; the architecture's class in
`sae/archs/` names its spec (`spec = TOPK`) and adds the torch code. A class registered at run
time with its own class attributes (e.g. in a test) gets a spec made from them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from common.config import at_least, knob, nonnegative, probability


@dataclass(frozen=True)
class ArchSpec:
    arch: str
    title: str  # how plots name the architecture ("TopK")
    Config: type  # the hyper-parameters: a frozen dataclass of knob() fields
    default_lr: float = 1e-3
    grid: dict[str, tuple] = field(default_factory=dict)  # swept values, per Config field
    quick_grid: dict[str, tuple] = field(default_factory=dict)  # for --quick (falls back to grid)


SPECS: dict[str, ArchSpec] = {}


def declare(spec: ArchSpec) -> ArchSpec:
    """Make an architecture's knobs known to the grid and its flags."""
    if not spec.arch:
        raise TypeError("an architecture spec needs an `arch` name")
    if not dataclasses.is_dataclass(spec.Config):
        raise TypeError(f"{spec.arch}: Config must be a dataclass of knob() fields")
    names = {f.name for f in dataclasses.fields(spec.Config)}
    for grid in (spec.grid, spec.quick_grid):
        if not set(grid) <= names:
            raise TypeError(f"{spec.arch}: grid knobs {sorted(set(grid) - names)} are not "
                            "fields of its Config")
    SPECS[spec.arch] = spec
    return spec


@dataclass(frozen=True)
class ReluConfig:
    l1: float = knob(5.0, "ReLU: sparsity coefficient lambda", check=nonnegative)
    warmup: float = knob(0.05, "ReLU: fraction of the steps over which lambda warms up",
                         check=probability)


@dataclass(frozen=True)
class TopKConfig:
    k: int = knob(32, "TopK: active latents per input", check=at_least(1))
    k_aux: int | None = knob(None, "TopK: dead latents in the AuxK loss (None: d / 2)",
                             check=at_least(1))
    aux_coef: float = knob(1 / 32, "TopK: weight of the AuxK loss", check=nonnegative)


# lr 1e-3: chosen for the few hundred steps we can afford
RELU = declare(ArchSpec("relu", "ReLU", ReluConfig, 1e-3, grid={"l1": (1.0, 2.0, 3.0, 4.0, 5.0)},
                        quick_grid={"l1": (2.0, 5.0)}))
# With the normalised loss the trainer's gradient clipping (norm 1) never binds; at 1e-3 the
# quick grid's FVU rose from 0.19 to 0.22 (topk_f256_k32), at 3e-3 it is 0.15.
TOPK = declare(ArchSpec("topk", "TopK", TopKConfig, 3e-3, grid={"k": (8, 16, 32, 64)},
                        quick_grid={"k": (8, 32)}))
