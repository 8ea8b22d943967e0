"""Everything we measure about one SAE (or the raw neurons) on the held-out rows.

An activations file from `othello/collect_activations.py` comes with the network and the board
facts of every row, so SAEs trained on it also get splicing and board-concept metrics; any other
`[N, d]` array gets the reconstruction metrics only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from othello.az.model import PolicyValueNet, load_model
from othello.interp.concepts import board_properties, concept_scores, neuron_features
from sae.data import chunks, gather, open_acts
from sae.metrics import reconstruction_metrics, splice_metrics
from sae.models import SAE


@dataclass
class Dataset:
    """Activations `[N, d]` (memory-mapped) and, for a collected dataset, its network and facts."""

    acts: np.ndarray
    path: Path
    block: int | None = None
    net: PolicyValueNet | None = None
    folder: Path | None = None
    source: dict | None = None  # checkpoint (and note) from the collection's meta.json

    @property
    def has_game_facts(self) -> bool:
        return self.net is not None

    def rows(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Rows of one of the dataset's per-position arrays (legal, boards, flipped, ...)."""
        return np.load(self.folder / f"{name}.npy", mmap_mode="r")[rows]


def open_dataset(path: str | Path, block: int | None = None) -> Dataset:
    """A `.npy` file, or a folder written by collect_activations (its first block unless
    `block` is given)."""
    path = Path(path)
    if path.is_dir():
        meta_path = path / "meta.json"
        blocks = json.loads(meta_path.read_text())["blocks"] if meta_path.is_file() else []
        block = block if block is not None else (blocks[0] if blocks else 0)
        path = path / f"acts_block{block}.npy"
    acts = open_acts(path)
    match = re.fullmatch(r"acts_block(\d+)\.npy", path.name)
    folder = path.parent
    if match and (folder / "net.pt").is_file() and (folder / "legal.npy").is_file():
        net, _ = load_model(folder / "net.pt")
        meta_path = folder / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        source = {k: meta[k] for k in ("checkpoint", "checkpoint_sha256", "note") if k in meta}
        return Dataset(acts, path, int(match.group(1)), net, folder, source)
    return Dataset(acts, path)


@torch.no_grad()
def evaluate(sae: SAE, data: Dataset, test: np.ndarray, max_splice: int = 20_000,
             max_concepts: int = 10_000, seed: int = 0) -> dict:
    """Reconstruction metrics on all held-out rows; splicing and board concepts on random
    subsets of `max_splice` / `max_concepts` of them."""
    def triples(rows: np.ndarray):
        for x in chunks(data.acts, rows):
            f = sae.encode(x)
            yield x, sae.decode(f), f

    out = {"reconstruction": reconstruction_metrics(triples(test))}
    if not data.has_game_facts:
        return out
    rows = subset(test, max_splice, seed)
    mean_stream = torch.zeros(data.acts.shape[1], dtype=torch.float64)
    for x in chunks(data.acts, test):
        mean_stream += x.double().sum(0)
    mean_stream = (mean_stream / len(test)).float()

    def spliced(size: int = 8192):
        for start in range(0, len(rows), size):
            part = rows[start:start + size]
            x = gather(data.acts, part)
            yield x, sae(x), torch.from_numpy(np.asarray(data.rows("legal", part)))

    out["splice"] = splice_metrics(data.net, data.block, spliced(), mean_stream)
    concept_rows = subset(test, max_concepts, seed)
    feats = torch.cat([sae.encode(x) for x in chunks(data.acts, concept_rows)])
    out["concepts"] = concept_scores(feats, properties(data, concept_rows), seed=seed)
    return out


def subset(rows: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A sorted random subset of at most `count` rows (the same for every SAE)."""
    if len(rows) <= count:
        return np.sort(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, count, replace=False))


def properties(data: Dataset, rows: np.ndarray) -> dict[str, np.ndarray]:
    return board_properties(data.rows("boards", rows), data.rows("legal", rows),
                            data.rows("flipped", rows))


def neuron_baseline(data: Dataset, test: np.ndarray, max_concepts: int = 10_000,
                    seed: int = 0) -> dict:
    """Board-concept scores of the raw stream dimensions (both signs) on the same rows."""
    rows = subset(test, max_concepts, seed)
    return concept_scores(neuron_features(gather(data.acts, rows)), properties(data, rows),
                          seed=seed)
