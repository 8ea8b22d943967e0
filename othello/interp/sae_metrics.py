"""What an Othello activation dataset adds to the generic SAE evaluation (sae.evaluate): splicing
through the network that produced the activations, and Karvonen et al.'s board concepts; plus the
raw-neuron baseline of those concepts."""

from __future__ import annotations

import numpy as np
import torch

from othello.interp.concepts import board_properties, concept_scores, neuron_features
from othello.interp.dataset import ActivationDataset
from othello.interp.splice import NetworkSplice
from sae.data import gather
from sae.evaluate import Downstream, subset


def properties(ds: ActivationDataset, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The board properties of dataset rows (see concepts.board_properties)."""
    return board_properties(ds.boards(rows), ds.legal(rows), ds.flipped(rows))


def downstream(ds: ActivationDataset, layer: int, seed: int = 0) -> Downstream:
    """Splicing into ds.net at `layer` and board-concept scores, for sae.evaluate."""
    acts = ds.acts(layer)

    def concepts(feats: torch.Tensor, rows: np.ndarray) -> dict:
        return concept_scores(feats, properties(ds, rows), seed=seed)

    return Downstream(splice=NetworkSplice(ds.net, layer, acts, ds.legal),
                      feature_metrics={"concepts": concepts})


def neuron_baseline(ds: ActivationDataset, layer: int, test: np.ndarray,
                    max_concepts: int = 10_000, seed: int = 0) -> dict:
    """Board-concept scores of the raw stream dimensions (both signs) on the rows the SAEs use."""
    rows = subset(test, max_concepts, seed)
    return concept_scores(neuron_features(gather(ds.acts(layer), rows)), properties(ds, rows),
                          seed=seed)
