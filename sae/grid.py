"""A grid of SAEs on one `[N, d]` array: train, save, evaluate, summarise; resumable.

The grid's config class is generated from the registered architectures (`grid_config`): every
field of every architecture's Config becomes a tuple-valued knob (its grid values by default),
shared by the architectures that declare a field of that name; the grid is, per architecture
and width, the product of its fields' values (settings the architecture says do not `fit` a
width are skipped).

Each SAE goes to `<out>/<name>/` (cfg.json + sae_weights.safetensors in SAELens's layout,
meta.json with its config, data and code version, metrics.json); a rerun skips every SAE whose
metrics.json was written for the same config, dataset and split.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from common.config import at_least, knob, positive
from common.io import CorruptFileError, read_json, say_reused, write_json
from sae.archs import ARCHS, saved
from sae.data import Split
from sae.evaluate import Downstream, evaluate
from sae.train import TrainConfig, train_sae


def _open_unit(v: float) -> str | None:
    ok = isinstance(v, float | int) and 0 < v < 1
    return None if ok else "must be strictly between 0 and 1"


@dataclass(frozen=True)
class GridBase:
    """The grid's knobs that do not belong to one architecture."""

    archs: tuple[str, ...] = knob(("relu", "topk"), "SAE architectures", flag="--arch")
    widths: tuple[int, ...] = knob((256, 512, 1024, 2048, 4096), "SAE widths (features)",
                                   check=at_least(1), flag="--features")
    steps: int = knob(700, "training steps per SAE (x batch rows: about 0.75 epoch of 1M "
                      "positions)", check=at_least(1))
    batch_size: int = knob(1024, "rows per training step", check=at_least(1))
    lr: float | None = knob(None, "Adam learning rate (None: each architecture's default)",
                            check=positive)
    dead_tokens: int | None = knob(None, "a latent silent for this many training tokens is dead "
                                   "(None: a tenth of the run's tokens, at most 10M)",
                                   check=at_least(1))
    holdout: float = knob(0.05, "held-out fraction (at most 50,000 rows)", check=_open_unit)
    seed: int = knob(0, "seed of the split, the initialisation and the batches",
                     check=at_least(0))


def _one_of(names: tuple[str, ...]) -> Callable[[str], str | None]:
    # a check, not `choices`: common.config drops the choices of tuple-valued fields
    def check(v: str) -> str | None:
        return None if v in names else f"invalid choice (known: {', '.join(names)})"
    return check


def _tuple_of(kind: Any) -> Any:
    return tuple[kind, ...]


def grid_config() -> tuple[type, Any, Any]:
    """(GridConfig class for the architectures registered now, its DEFAULT, its QUICK preset)."""
    hyper: dict[str, dict] = {}
    for arch, cls in ARCHS.items():
        hints = typing.get_type_hints(cls.Config)
        for f in dataclasses.fields(cls.Config):
            if f.name in hyper:
                hyper[f.name]["archs"].append(arch)
                continue
            default = tuple(cls.grid.get(f.name, (f.default,)))
            hyper[f.name] = {"kind": hints[f.name], "meta": f.metadata, "default": default,
                             "quick": tuple(cls.quick_grid.get(f.name, default)), "archs": [arch]}
    clash = set(hyper) & {f.name for f in dataclasses.fields(GridBase)}
    if clash:
        raise TypeError(f"architecture knobs {sorted(clash)} clash with the grid's own knobs")
    fields = [(name, _tuple_of(h["kind"]),
               knob(h["default"], f"{h['meta']['help']} [{', '.join(h['archs'])}; several "
                    "values: a grid]", check=h["meta"].get("check"),
                    choices=h["meta"].get("choices")))
              for name, h in hyper.items()]
    hyper_cls = dataclasses.make_dataclass("HyperGrid", fields, frozen=True)
    archs = tuple(ARCHS)
    arch_field = dataclasses.fields(GridBase)[0]
    grid_cls = dataclasses.make_dataclass(
        "GridConfig",
        [("archs", tuple[str, ...], knob(arch_field.default,
                                         f"{arch_field.metadata['help']} ({', '.join(archs)})",
                                         check=_one_of(archs), flag="--arch")),
         ("hyper", hyper_cls, field(default=hyper_cls()))],
        bases=(GridBase,), frozen=True)
    default = grid_cls()
    quick = replace(default, widths=(256, 512), steps=150, holdout=0.2,
                    hyper=hyper_cls(**{name: h["quick"] for name, h in hyper.items()}))
    return grid_cls, default, quick


def expand(grid: Any) -> list[TrainConfig]:
    """The grid's SAEs, cheapest (narrowest) first."""
    cfgs = []
    for arch in grid.archs:
        cls = ARCHS[arch]
        names = [f.name for f in dataclasses.fields(cls.Config)]
        for width in grid.widths:
            for values in itertools.product(*(getattr(grid.hyper, n) for n in names)):
                hp = cls.Config(**dict(zip(names, values, strict=True)))
                if cls.fits(hp, width):
                    cfgs.append(TrainConfig(arch=arch, n_features=width, hyper=hp,
                                            steps=grid.steps, batch_size=grid.batch_size,
                                            lr=grid.lr, dead_tokens=grid.dead_tokens,
                                            seed=grid.seed))
    return sorted(cfgs, key=lambda c: c.n_features)


def run_one(cfg: TrainConfig, acts: np.ndarray, split: Split, out: Path, data_info: dict,
            downstream: Downstream | None = None, progress: bool = True,
            log: Callable[[dict], None] | None = None, code: str = "unknown",
            device: str = "cpu") -> dict:
    """Train and evaluate one SAE (or reuse a finished one); returns its metrics.json content."""
    folder = out / cfg.name
    done = folder / "metrics.json"
    config = json.loads(json.dumps(cfg.to_dict()))  # as it reads back from JSON
    if done.is_file() and saved(folder):
        try:
            old = read_json(done)
        except CorruptFileError as e:
            print(f"warning: {e}; retraining {cfg.name}", file=sys.stderr)
            old = {}
        if old.get("config") == config and old.get("data") == data_info:
            say_reused(f"SAE {cfg.name} (same config and data)", folder)
            return old
    start = time.perf_counter()
    sae, history = train_sae(cfg, acts, split, progress=progress, log=log, device=device)
    seconds = time.perf_counter() - start
    sae.save(folder, train_config=config)
    write_json(folder / "meta.json", {"config": config, "sae": sae.config(),
                                       "data": data_info, "seed": cfg.seed, "code_version": code})
    result = {"config": config, "data": data_info, "train_seconds": seconds,
              "tokens_per_s": cfg.steps * cfg.batch_size / seconds, "history": history,
              **evaluate(sae, acts, split.test, downstream, seed=cfg.seed)}
    write_json(done, result)
    return result


def flat(result: dict) -> dict:
    """One summary row (the numbers the plots use) from a metrics.json dict."""
    cfg = result["config"]
    row = {"name": cfg["name"], "arch": cfg["arch"], "label": cfg["label"],
           "width": cfg["n_features"], **cfg["sparsity"],
           "train_seconds": result["train_seconds"], "tokens_per_s": result["tokens_per_s"],
           **result["reconstruction"]}
    for key, value in result.get("splice", {}).items():
        row[key] = value
    for group, scores in result.get("concepts", {}).items():
        row.update({f"{key}_{group}": v for key, v in scores.items() if not key.endswith("_t")})
    return row
