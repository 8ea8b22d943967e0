"""The activation-dataset format, owned here: its writer, its reader and its file names.

A dataset is one folder (written by `othello.interp.activations.collect_dataset`):

    meta.json            what produced it: source checkpoint and SHA-256, "blocks" (the layers
                         stored), "count", the network's config, seed, code version, ...
    acts_block{k}.npy    float32 [N, width]: the residual stream after block k (0 = embedding),
                         memory-mappable; one file per stored layer
    boards.npy           int8 [N, S]: 1 mine, -1 theirs, 0 empty, from the side to move
    legal.npy            bool [N, S+1]: legal moves, the pass last
    last_move.npy        int16 [N]: the move that led here (S for a pass, -1 at the start)
    flipped.npy          bool [N, S]: the discs that move flipped
    black_to_move.npy    bool [N]
    source.npy           uint8 [N]: index into activations.SOURCES
    policy_logits.npy    float32 [N, S+1] and value.npy float32 [N]: the network's outputs
    net.pt               a copy of the network (splicing never depends on where the checkpoint was)

Everything else reads it through `open_dataset` / `ActivationDataset`: SAE training sees only the
`[N, d]` array of one layer (`acts(layer)`); the Othello metrics read the board facts.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from common.io import CorruptFileError, read_json, write_json
from othello.az.model import PolicyValueNet, load_model, save_model
from sae.data import open_acts

META = "meta.json"
NET = "net.pt"
FACTS = ("boards", "legal", "last_move", "flipped", "black_to_move", "source")
OUTPUTS = ("policy_logits", "value")
_ACTS = re.compile(r"acts_block(\d+)\.npy")


def acts_name(layer: int) -> str:
    """File name of the activations of one layer."""
    return f"acts_block{layer}.npy"


class DatasetError(ValueError):
    """A folder that is not an activation dataset, or a layer it does not hold."""


def check_target(folder: Path) -> None:
    """Before a collection starts: `folder` is new, empty or a dataset (which it will replace);
    DatasetError for a file or a folder of other things, which a dataset must never replace."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DatasetError(f"{folder} is a file, not a dataset folder")
    if folder.is_dir() and any(folder.iterdir()) and not is_dataset(folder):
        raise DatasetError(f"refusing to replace {folder}: it is not an activation dataset "
                           "(pick a new folder)")


class DatasetWriter:
    """Writes a dataset of `count` positions: board facts, per-layer activations and network
    outputs in batches, the network, then meta.json, all into a temporary folder beside the
    target that `finish` renames into place (a killed collection leaves the old dataset, or none,
    never a half-written one; a leftover `.<name>.partial-<pid>` folder can be deleted)."""

    def __init__(self, folder: Path, count: int, width: int, moves: int, layers: Iterable[int]):
        self.target, self.count = Path(folder), count
        self.folder = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
        self.layers = sorted(set(layers))
        for stale in self.target.parent.glob(f".{self.target.name}.partial-*"):
            shutil.rmtree(stale)  # left by a killed collection (the caller holds the lock)
        self.folder.mkdir(parents=True)
        self.acts = {k: self._array(acts_name(k), np.float32, (count, width)) for k in self.layers}
        self.logits = self._array("policy_logits.npy", np.float32, (count, moves))
        self.value = self._array("value.npy", np.float32, (count,))

    def _array(self, name: str, dtype, shape: tuple) -> np.ndarray:
        return open_memmap(self.folder / name, mode="w+", dtype=dtype, shape=shape)

    def write_facts(self, facts: dict[str, np.ndarray]) -> None:
        missing = set(FACTS) - set(facts)
        if missing:
            raise ValueError(f"board facts missing: {', '.join(sorted(missing))}")
        for name in FACTS:
            if len(facts[name]) != self.count:
                raise ValueError(f"{name}: {len(facts[name])} rows, expected {self.count}")
            np.save(self.folder / f"{name}.npy", facts[name])

    def write_batch(self, start: int, streams: dict[int, np.ndarray], logits: np.ndarray,
                    value: np.ndarray) -> None:
        stop = start + len(value)
        for k in self.layers:
            self.acts[k][start:stop] = streams[k]
        self.logits[start:stop], self.value[start:stop] = logits, value

    def save_net(self, net: PolicyValueNet) -> Path:
        save_model(self.folder / NET, net)
        return self.folder / NET

    def finish(self, meta: dict) -> dict:
        for arr in (*self.acts.values(), self.logits, self.value):
            arr.flush()
        meta = {**meta, "blocks": self.layers, "count": self.count}
        write_json(self.folder / META, meta)
        old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
        if self.target.exists():
            self.target.rename(old)
        self.folder.rename(self.target)
        if old.exists():
            shutil.rmtree(old)
        self.folder = self.target
        return meta


class ActivationDataset:
    """A dataset folder: typed accessors of its arrays (memory-mapped), its network, its meta."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        meta_path = self.folder / META
        if not meta_path.is_file():
            raise DatasetError(f"{self.folder}: unfinished dataset (no {META}); collect it again")
        try:
            self.meta: dict = read_json(meta_path)
        except CorruptFileError as e:
            raise DatasetError(str(e).replace("delete it to rebuild it",
                                              "collect the dataset again")) from None
        self.layers: list[int] = list(self.meta.get("blocks", ()))
        self._acts: dict[int, np.ndarray] = {}
        self._check_rows()

    def _check_rows(self) -> None:
        """Every array must hold meta.json's "count" rows: a dataset that disagrees is stale or
        damaged, and training on it would be silently wrong."""
        count = self.meta.get("count")
        names = [*FACTS, *OUTPUTS, *(acts_name(k)[:-4] for k in self.layers)]
        for name in names:
            path = self.folder / f"{name}.npy"
            try:
                rows = np.load(path, mmap_mode="r").shape[0]
            except (OSError, ValueError) as e:
                raise DatasetError(f"{path}: cannot read ({e})") from None
            if rows != count:
                raise DatasetError(f"{path}: {rows} rows, but {self.folder / META} says {count} "
                                   "(a stale or damaged dataset; collect it again)")

    @property
    def name(self) -> str:
        return self.folder.name

    def layer(self, layer: int | None) -> int:
        """`layer` if stored (None: the first stored one); DatasetError otherwise."""
        if layer is None:
            if not self.layers:
                raise DatasetError(f"{self.folder}: no activations stored")
            return self.layers[0]
        if layer not in self.layers:
            raise DatasetError(f"{self.folder} holds layers {self.layers}, not {layer}")
        return layer

    def acts_path(self, layer: int | None = None) -> Path:
        return self.folder / acts_name(self.layer(layer))

    def acts(self, layer: int | None = None) -> np.ndarray:
        """float32 [N, width] residual stream after block `layer` (memory-mapped; its values are
        checked once, on the first call)."""
        layer = self.layer(layer)
        if layer not in self._acts:
            self._acts[layer] = open_acts(self.acts_path(layer))
        return self._acts[layer]

    def _rows(self, name: str, rows: np.ndarray | None) -> np.ndarray:
        arr = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        return np.asarray(arr if rows is None else arr[np.asarray(rows)])

    def boards(self, rows=None) -> np.ndarray:
        """int8 [R, S]: 1 mine, -1 theirs, 0 empty (side-to-move view)."""
        return self._rows("boards", rows)

    def legal(self, rows=None) -> np.ndarray:
        """bool [R, S+1]: legal moves, the pass last."""
        return self._rows("legal", rows)

    def last_move(self, rows=None) -> np.ndarray:
        return self._rows("last_move", rows)

    def flipped(self, rows=None) -> np.ndarray:
        return self._rows("flipped", rows)

    def black_to_move(self, rows=None) -> np.ndarray:
        return self._rows("black_to_move", rows)

    def source(self, rows=None) -> np.ndarray:
        return self._rows("source", rows)

    def policy_logits(self, rows=None) -> np.ndarray:
        return self._rows("policy_logits", rows)

    def value(self, rows=None) -> np.ndarray:
        return self._rows("value", rows)

    def __len__(self) -> int:
        return int(np.load(self.folder / "boards.npy", mmap_mode="r").shape[0])

    @cached_property
    def net(self) -> PolicyValueNet:
        """The network the activations came from (eval mode)."""
        return load_model(self.folder / NET)[0].eval()

    @property
    def size(self) -> int:
        return self.net.config.size

    @property
    def source_info(self) -> dict:
        """Checkpoint (and its SHA-256 or note) the dataset was collected from."""
        return {k: self.meta[k] for k in ("checkpoint", "checkpoint_sha256", "note")
                if k in self.meta}


def is_dataset(folder: Path) -> bool:
    folder = Path(folder)
    return folder.is_dir() and (folder / NET).is_file() and (folder / "legal.npy").is_file()


def locate(path: str | Path) -> tuple[Path, int | None] | None:
    """(dataset folder, layer) for a dataset folder (layer None) or one of its acts files;
    None for anything else (e.g. a bare [N, d] .npy array)."""
    path = Path(path)
    if is_dataset(path):
        return path, None
    match = _ACTS.fullmatch(path.name)
    if match and is_dataset(path.parent):
        return path.parent, int(match.group(1))
    return None


def open_dataset(path: str | Path) -> ActivationDataset:
    """The dataset at a folder (or at one of its acts files); DatasetError otherwise."""
    found = locate(path)
    if found is None:
        raise DatasetError(f"{path}: not an activation dataset (needs {NET}, legal.npy and "
                           "acts_block<k>.npy; collect one with othello/collect_activations.py)")
    return ActivationDataset(found[0])
