"""The interface every SAE architecture implements, its registry, and save / load.

Every SAE is trained on inputs multiplied by a fixed `scale` (chosen so that E||x|| = sqrt(d), the
April 2024 recipe). The scale is a buffer of the model, so whoever loads it (metrics, vis,
splicing) passes activations in their original units: `encode(x)` scales them itself, `decode(f)`
returns original units, and `W_dec` / `b_dec` are exposed in original units. Feature activations
are in the training units (independent of the activation scale of the source model).

An architecture is ONE file in `sae/archs/`: a subclass of `SAE` decorated with `@register` that
declares its hyper-parameters as a frozen dataclass of `knob()` fields (`Config`), its default
learning rate, the values its grid sweeps (`grid`, `quick_grid`), its initialisation and its
loss. The trainer, the grid, the CLI flags, the plots and the browser data all read these.

Saved SAEs are folders in SAELens's layout (`cfg.json` + `sae_weights.safetensors` with `W_enc`,
`b_enc`, `W_dec`, `b_dec` in original units: the scale is folded into the weights, as SAELens
folds its own activation normalisation), so `sae_lens.SAE.load_from_disk(folder)` gives the same
latents; the project's own fields (architecture, scale, hyper-parameters, training config) sit
under one extra `cfg.json` key that SAELens ignores. `load` also reads the older `sae.pt`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from common.config import ConfigError, validate
from common.io import (
    CheckpointError,
    check_finite_weights,
    load_checkpoint,
    load_safetensors,
    save_safetensors,
    write_json,
)

WEIGHTS, CFG = "sae_weights.safetensors", "cfg.json"  # SAELens's file names
LEGACY = "sae.pt"  # the torch checkpoint SAEs were saved as before
SAELENS_VERSION = "6.54.12"  # the SAELens whose `load_from_disk` the layout is tested against
OWN_KEY = "othello_interp"  # cfg.json key of the project's own fields


@dataclass
class LossParts:
    """What one training step reports: the total loss and its named parts (floats)."""

    loss: torch.Tensor
    features: torch.Tensor
    parts: dict[str, float]


@dataclass(frozen=True)
class NoHyper:
    """An architecture without hyper-parameters."""


class SAE(nn.Module):
    """Common base: parameters in training (scaled) units, original-unit views on top."""

    arch: ClassVar[str] = ""
    title: ClassVar[str] = ""  # how plots name the architecture ("TopK"); default: arch
    Config: ClassVar[type] = NoHyper  # the architecture's hyper-parameters (knob() fields)
    default_lr: ClassVar[float] = 1e-3
    grid: ClassVar[dict[str, tuple]] = {}  # values a grid sweeps by default, per Config field
    quick_grid: ClassVar[dict[str, tuple]] = {}  # the same for --quick (falls back to grid)
    subtract_dec_bias: ClassVar[bool] = False  # encode x - b_dec (Gao et al.'s pre-encoder bias)
    saelens_arch: ClassVar[str | None] = None  # SAELens's name for the same encoder, if it has one

    def __init__(self, d: int, n_features: int, scale: float = 1.0, hp: Any = None, **hyper):
        super().__init__()
        if d < 1 or n_features < 1 or not scale > 0:
            raise ValueError(f"bad SAE shape d={d}, n_features={n_features}, scale={scale}")
        if hp is not None and hyper:
            raise TypeError("give the hyper-parameters either as a config or as keywords")
        try:
            self.hp = validate(hp if hp is not None else self.Config(**hyper))
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        self.d, self.n_features = d, n_features
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.enc_weight = nn.Parameter(torch.empty(d, n_features))
        self.enc_bias = nn.Parameter(torch.zeros(n_features))
        self.dec_weight = nn.Parameter(torch.empty(n_features, d))
        self.dec_bias = nn.Parameter(torch.zeros(d))
        self.check()

    # ----- what an architecture defines
    def check(self) -> None:
        """Raise ValueError when the hyper-parameters do not fit this width."""

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, xs: torch.Tensor, progress: float, dead: torch.Tensor) -> LossParts:
        """Training loss on scaled inputs `xs`; `progress` in [0, 1]; `dead` marks dead latents."""
        raise NotImplementedError

    def initialise(self, generator: torch.Generator, sample: torch.Tensor) -> None:
        """Initial weights from a sample of the (scaled) training rows. Default: unit-norm random
        decoder rows, encoder = decoder transposed, zero biases."""
        self.init_weights(generator, dec_norm=1.0)

    def before_step(self) -> None:
        """Hook between backward and the optimiser step."""

    def after_step(self) -> None:
        """Hook after the optimiser step."""

    @classmethod
    def fits(cls, hp: Any, n_features: int) -> bool:
        """Whether a grid should train this setting at this width (default: always)."""
        return True

    @classmethod
    def tag(cls, hp: Any) -> str:
        """The run-name part for the swept knobs: 'k32' (default: name and value per knob)."""
        return "_".join(f"{name}{_short(getattr(hp, name))}" for name in cls.grid)

    # ----- shared machinery
    @classmethod
    def label(cls, hp: Any) -> str:
        """'TopK k=32': how plots and logs name one setting."""
        knobs = " ".join(f"{n}={_short(getattr(hp, n))}" for n in cls.grid)
        return f"{cls.title or cls.arch} {knobs}".strip()

    @classmethod
    def sparsity(cls, hp: Any) -> dict[str, Any]:
        """The swept knobs and their values ({'k': 32})."""
        return {name: getattr(hp, name) for name in cls.grid}

    def init_weights(self, generator: torch.Generator, dec_norm: float,
                     dec_bias: torch.Tensor | None = None) -> None:
        """Decoder rows: random directions of norm `dec_norm`; encoder = decoder transposed."""
        with torch.no_grad():
            w = torch.randn(self.n_features, self.d, generator=generator)
            w *= dec_norm / w.norm(dim=1, keepdim=True)
            self.dec_weight.copy_(w)
            self.enc_weight.copy_(w.T)
            self.enc_bias.zero_()
            self.dec_bias.copy_(dec_bias if dec_bias is not None else torch.zeros(self.d))

    def pre_scaled(self, xs: torch.Tensor) -> torch.Tensor:
        if self.subtract_dec_bias:
            xs = xs - self.dec_bias
        return xs @ self.enc_weight + self.enc_bias

    def decode_scaled(self, f: torch.Tensor) -> torch.Tensor:
        return f @ self.dec_weight + self.dec_bias

    def encode_scaled(self, xs: torch.Tensor) -> torch.Tensor:
        return self.activation(self.pre_scaled(xs))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Feature activations `[B, n_features]` of original-unit activations `x` `[B, d]`."""
        return self.encode_scaled(x * self.scale)

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        """Reconstruction in original units."""
        return self.decode_scaled(f) / self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @property
    def W_dec(self) -> torch.Tensor:  # noqa: N802 (the name used in the literature)
        """Decoder `[n_features, d]` in original activation units."""
        return self.dec_weight / self.scale

    @property
    def b_dec(self) -> torch.Tensor:
        """Decoder bias `[d]` in original units."""
        return self.dec_bias / self.scale

    def hyper(self) -> dict:
        """Architecture hyper-parameters saved with the model (and passed back to __init__)."""
        return dataclasses.asdict(self.hp)

    def config(self) -> dict:
        return {"arch": self.arch, "d": self.d, "n_features": self.n_features,
                "scale": float(self.scale), **self.hyper()}

    def saelens_config(self) -> dict:
        """SAELens cfg.json keys of this architecture beyond the shared ones (TopK: its k)."""
        return {}

    def save(self, folder: str | Path, **extra) -> None:
        """Write `folder/` in SAELens's layout (see the module docstring); `extra` JSON-able
        fields go into cfg.json with the config. The weights are written first and cfg.json
        last (both atomically), so a folder with a cfg.json is complete."""
        folder = Path(folder)
        s = self.scale
        save_safetensors(folder / WEIGHTS, {"W_enc": self.enc_weight * s, "b_enc": self.enc_bias,
                                            "W_dec": self.W_dec, "b_dec": self.b_dec})
        cfg = {"architecture": self.saelens_arch or self.arch, "d_in": self.d,
               "d_sae": self.n_features, "dtype": "float32", "device": "cpu",
               "apply_b_dec_to_input": self.subtract_dec_bias, "normalize_activations": "none",
               "reshape_activations": "none", **self.saelens_config(),
               "metadata": {"sae_lens_version": SAELENS_VERSION},
               OWN_KEY: {**extra, "sae": self.config()}}
        write_json(folder / CFG, cfg)


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sq_error(xs: torch.Tensor, xs_hat: torch.Tensor) -> torch.Tensor:
    """Per-sample squared error summed over dimensions, averaged over the batch."""
    return (xs - xs_hat).pow(2).sum(dim=1).mean()


ARCHS: dict[str, type[SAE]] = {}


def register(cls: type[SAE]) -> type[SAE]:
    """Class decorator: make an architecture known to `build`, `load`, the trainer and the grid."""
    if not cls.arch:
        raise TypeError(f"{cls.__name__} has no `arch` name")
    if not dataclasses.is_dataclass(cls.Config):
        raise TypeError(f"{cls.__name__}.Config must be a dataclass of knob() fields")
    names = {f.name for f in dataclasses.fields(cls.Config)}
    for grid in (cls.grid, cls.quick_grid):
        if not set(grid) <= names:
            raise TypeError(f"{cls.__name__}: grid knobs {sorted(set(grid) - names)} are not "
                            "fields of its Config")
    ARCHS[cls.arch] = cls
    return cls


def get(arch: str) -> type[SAE]:
    """The class of a registered architecture; ValueError names the known ones."""
    if arch not in ARCHS:
        raise ValueError(f"unknown SAE architecture {arch!r} (known: {', '.join(ARCHS)})")
    return ARCHS[arch]


def build(arch: str, d: int, n_features: int, scale: float = 1.0, **hyper) -> SAE:
    """An SAE of a registered architecture (hyper-parameters as keywords, or `hp=` a config)."""
    return get(arch)(d, n_features, scale, **hyper)


def saved(folder: str | Path) -> bool:
    """Whether `folder` holds a saved SAE (SAELens layout, or the older sae.pt)."""
    folder = Path(folder)
    return (folder / CFG).is_file() or (folder / LEGACY).is_file()


def load(path: str | Path) -> SAE:
    """An SAE saved with `SAE.save` (its folder, or a file in it) or an older `sae.pt`, in eval
    mode; CheckpointError with a one-line reason."""
    path = Path(path)
    if path.name in (CFG, WEIGHTS):
        path = path.parent
    if path.is_dir() and not (path / CFG).is_file():
        path = path / LEGACY
    try:
        if path.is_dir():
            sae = _from_folder(path)
        else:
            ckpt = load_checkpoint(path, required=("config", "model"))
            sae = _build(ckpt["config"])
            sae.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, ValueError, RuntimeError, json.JSONDecodeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not an SAE checkpoint ({first})") from None
    check_finite_weights(sae, path)
    return sae.eval()


def _build(config: dict) -> SAE:
    """An (untrained) SAE from `SAE.config()`: architecture, shape, scale, hyper-parameters."""
    cfg = dict(config)
    return build(cfg.pop("arch"), cfg.pop("d"), cfg.pop("n_features"), cfg.pop("scale"), **cfg)


def _from_folder(folder: Path) -> SAE:
    """Undo the folding of `save`: training-unit parameters from original-unit weights."""
    sae = _build(json.loads((folder / CFG).read_text())[OWN_KEY]["sae"])
    weights, _ = load_safetensors(folder / WEIGHTS)
    s = sae.scale
    sae.load_state_dict({"scale": s, "enc_weight": weights["W_enc"] / s,
                         "enc_bias": weights["b_enc"], "dec_weight": weights["W_dec"] * s,
                         "dec_bias": weights["b_dec"] * s})
    return sae
