"""Positions for SAE training and the network's activations on them.

Positions come from games of the network against itself (moves sampled from its policy over the
legal moves at a temperature) and against classic players, plus whatever `positions_from_search`
returns (the positions the agent evaluates inside its searches), de-duplicated on the discs
(me, opp) from the side to move: the network sees nothing else. Each kept position remembers the
move that led to it and the discs that move flipped, for the board-concept metrics.

`collect_dataset` writes them with the network's residual stream after the requested blocks and
its outputs, in the format that `othello.interp.dataset` owns (one folder per dataset).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from alphazero.evaluators import CachedEvaluator, network_evaluator
from alphazero.mcts import SearchConfig, choose_actions, search
from alphazero.trainer import TrainConfig
from common.device import module_device
from common.io import CheckpointError
from common.runs import lock_beside
from othello.az.game import OthelloGame
from othello.az.model import NetConfig, PolicyValueNet, load_model
from othello.interp.config import (
    DEFAULT_CHECKPOINT,
    RANDOM,
    CollectConfig,
)
from othello.interp.dataset import NET, DatasetWriter, check_target
from othello.players.registry import Player, make_player
from othello.rules.batch import bits_to_bool, states_from_positions
from othello.rules.batch import flips as flips_batch
from othello.rules.board import Position, flips
from othello.rules.encoding import encode_states, legal_actions

SOURCES = ("selfplay", "random", "greedy", "alphabeta:2", "search")
DEFAULT_MIX = {"selfplay": 0.6, "random": 0.15, "greedy": 0.2, "alphabeta:2": 0.05}
SEARCH_SHARE = 0.3  # of the positions: evaluated inside the agent's MCTS; the rest from games


@dataclass(frozen=True)
class Sample:
    """A position to evaluate, how it was reached, and which source produced it."""

    pos: Position
    last_move: int  # square, size*size for a pass, -1 for the start position
    flipped: int  # bitmask of the discs the last move flipped
    source: int  # index into SOURCES


def positions_from_search(net: PolicyValueNet, count: int, rng: np.random.Generator,
                          games: int = 256, search_config: SearchConfig | None = None
                          ) -> list[Sample]:
    """Up to `count` distinct positions the network evaluated inside MCTS searches (source
    "search"), from batched self-play of the agent with root noise, as in its training
    (`search_config` defaults to the default training run's search)."""
    size = net.config.size
    game = OthelloGame(size)
    evaluate = CachedEvaluator(network_evaluator(game, net))
    config = search_config or TrainConfig().search
    source = SOURCES.index("search")
    found: dict[tuple[int, int], Sample] = {}
    while len(found) < count:
        before = len(found)
        states, black, ply = game.initial_states(games), np.ones(games, dtype=bool), 0
        while len(states) and len(found) < count:
            result = search(game, evaluate, states, config, rng, keep_forest=True)
            forest = result.forest
            tree, node, parent, action, depth = forest.expanded()
            live = ~forest.terminal[tree, node]
            tree, node, parent, action, depth = (a[live] for a in (tree, node, parent, action,
                                                                   depth))
            child, mover = forest.states[tree, node], forest.states[tree, parent]
            played = action < size * size
            flipped = np.zeros(len(action), dtype=np.uint64)
            flipped[played] = flips_batch(mover[played, 0], mover[played, 1], action[played],
                                          size)
            black_to_move = black[tree] ^ (depth % 2 == 1)
            for i in range(len(node)):
                key = (int(child[i, 0]), int(child[i, 1]))
                if key not in found:
                    found[key] = Sample(Position(size, *key, bool(black_to_move[i])),
                                        int(action[i]), int(flipped[i]), source)
            actions = choose_actions(result.visits, 1.0 if ply < 8 else 0.0, rng)
            states, black, ply = game.next_states(states, actions), ~black, ply + 1
            alive = game.legal_actions(states).any(axis=1)
            states, black = states[alive], black[alive]
        if len(found) == before:
            break
    return list(found.values())[:count]


@torch.no_grad()
def sample_net_moves(net: PolicyValueNet, positions: list[Position], temperature: float,
                     rng: np.random.Generator) -> list[int]:
    """One move per position, sampled from softmax(logits / temperature) over the legal moves."""
    states, size = states_from_positions(positions), positions[0].size
    logits, _ = net(torch.from_numpy(encode_states(states, size)).to(module_device(net)))
    logits = logits.cpu()
    legal = torch.from_numpy(legal_actions(states, size))
    probs = (logits / temperature).masked_fill(~legal, float("-inf")).softmax(dim=-1).numpy()
    cum = np.cumsum(probs.astype(np.float64), axis=1)
    u = rng.random(len(positions))[:, None] * cum[:, -1:]
    moves = (cum <= u).sum(axis=1)
    # Round-off may step past the last legal move: fall back to the most likely one.
    bad = ~legal.numpy()[np.arange(len(moves)), np.minimum(moves, probs.shape[1] - 1)]
    moves[bad] = probs[bad].argmax(axis=1)
    return moves.tolist()


def play_games(net: PolicyValueNet, opponent: Player | None, target: int, seen: dict,
               source: int, size: int, temperature: float, rng: np.random.Generator,
               parallel: int = 256, bar: tqdm | None = None) -> None:
    """Add new positions from lock-step games (net vs itself when `opponent` is None, else net
    vs `opponent`, colours alternating) to `seen` until it has gained `target` positions, or
    until a whole round of `parallel` games brings nothing new (a near-deterministic policy)."""
    goal = len(seen) + target
    while len(seen) < goal:
        before = len(seen)
        games = [Sample(Position.start(size), -1, 0, source) for _ in range(parallel)]
        net_is_black = [g % 2 == 0 for g in range(parallel)]
        while games and len(seen) < goal:
            for g in games:
                key = (g.pos.me, g.pos.opp)
                if key not in seen and len(seen) < goal:
                    seen[key] = g
                    if bar is not None:
                        bar.update(1)
            net_turn = [i for i, g in enumerate(games)
                        if opponent is None or g.pos.black_to_move == net_is_black[i]]
            moves = dict(zip(net_turn, sample_net_moves(
                net, [games[i].pos for i in net_turn], temperature, rng) if net_turn else [],
                strict=True))
            nxt, colours = [], []
            for i, g in enumerate(games):
                move = moves[i] if i in moves else opponent.choose(g.pos, rng)
                pos = g.pos
                flipped = 0 if move == pos.pass_move else flips(pos.me, pos.opp, move, size)
                child = pos.play(move)
                if not child.is_over():
                    nxt.append(Sample(child, move, flipped, source))
                    colours.append(net_is_black[i])
            games, net_is_black = nxt, colours
        if len(seen) == before:
            return


def collect_positions(net: PolicyValueNet, count: int, rng: np.random.Generator,
                      mix: dict[str, float] | None = None, temperature: float = 1.0,
                      progress: bool = True, search_share: float = SEARCH_SHARE) -> list[Sample]:
    """Up to `count` distinct non-terminal positions: `search_share` of them evaluated inside MCTS
    searches first, then games per `mix` (fractions of what is left, keyed by SOURCES names; a
    source that runs dry leaves its share to the next ones)."""
    mix = mix or DEFAULT_MIX
    size = net.config.size
    seen: dict[tuple[int, int], Sample] = {}
    with tqdm(total=count, desc="positions", disable=not progress) as bar:
        for s in positions_from_search(net, round(count * search_share), rng):
            if (s.pos.me, s.pos.opp) not in seen and len(seen) < count:
                seen[(s.pos.me, s.pos.opp)] = s
                bar.update(1)
        names = list(mix)
        for i, name in enumerate(names):
            share = mix[name] / sum(mix[n] for n in names[i:])
            quota = round((count - len(seen)) * share)
            opponent = None if name == "selfplay" else make_player(name, size)
            play_games(net, opponent, quota, seen, SOURCES.index(name), size, temperature, rng,
                       bar=bar)
    return list(seen.values())[:count]


def samples_to_arrays(samples: list[Sample]) -> dict[str, np.ndarray]:
    """The board facts of the samples as the arrays `write_dataset` stores."""
    size = samples[0].pos.size
    s = size * size
    states = states_from_positions([x.pos for x in samples])
    me, opp = states[:, 0], states[:, 1]
    flipped = np.array([x.flipped for x in samples], dtype=np.uint64)
    return {"boards": bits_to_bool(me, s).astype(np.int8) - bits_to_bool(opp, s).astype(np.int8),
            "legal": legal_actions(states, size),
            "last_move": np.array([x.last_move for x in samples], dtype=np.int16),
            "flipped": bits_to_bool(flipped, s),
            "black_to_move": np.array([x.pos.black_to_move for x in samples]),
            "source": np.array([x.source for x in samples], dtype=np.uint8),
            "me": me, "opp": opp}


@torch.no_grad()
def write_dataset(net: PolicyValueNet, samples: list[Sample], layers: Iterable[int],
                  out: Path, batch: int = 4096,
                  progress: bool = True) -> tuple[DatasetWriter, dict[str, int]]:
    """Write the samples' board facts, the residual stream after each of `layers` and the
    network's outputs (see othello.interp.dataset); returns the writer (meta.json is left to its
    `finish`) and the count of positions per source."""
    layers = sorted(set(layers))
    cfg = net.config
    if not all(0 <= k <= cfg.blocks for k in layers):
        raise ValueError(f"layers must be in 0..{cfg.blocks}, got {layers}")
    n = len(samples)
    writer = DatasetWriter(out, n, cfg.width, cfg.moves, layers)
    facts = samples_to_arrays(samples)
    me, opp = facts.pop("me"), facts.pop("opp")
    writer.write_facts(facts)
    for start in tqdm(range(0, n, batch), desc="activations", disable=not progress):
        stop = min(n, start + batch)
        planes = torch.from_numpy(encode_states(np.stack([me[start:stop], opp[start:stop]], 1),
                                                cfg.size)).to(module_device(net))
        streams = net.residual_stream(planes)
        logits, value = net.forward_from(streams[:, -1], cfg.blocks)
        writer.write_batch(start, {k: streams[:, k].cpu().numpy() for k in layers},
                           logits.cpu().numpy(), value.cpu().numpy())
    writer.save_net(net)
    return writer, {name: int((facts["source"] == i).sum()) for i, name in enumerate(SOURCES)}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_source(checkpoint: str | Path, seed: int) -> tuple[PolicyValueNet, dict]:
    """The network to read (a checkpoint, or RANDOM: seeded random weights) and how to describe
    it in meta.json; CheckpointError with a one-line reason."""
    if str(checkpoint) == RANDOM:
        torch.manual_seed(seed)
        net = PolicyValueNet(NetConfig()).eval()
        return net, {"checkpoint": RANDOM,
                     "note": f"random weights (torch seed {seed}), not a trained agent"}
    path = Path(checkpoint)
    if not path.is_file():
        hint = (" (the pretrained agent comes with the AlphaZero stage; use --checkpoint random "
                "to try the pipeline on random weights)") if path == DEFAULT_CHECKPOINT else ""
        raise CheckpointError(f"checkpoint not found: {path}{hint}")
    net, _ = load_model(path)
    return net, {"checkpoint": str(path), "checkpoint_sha256": sha256(path)}


def collect_dataset(net: PolicyValueNet, source: dict, out: Path, positions: int,
                    layers: Iterable[int], seed: int, temperature: float = 1.0,
                    progress: bool = True, code: str = "unknown") -> dict:
    """Collect `positions` distinct positions, write the dataset and its meta.json (returned)."""
    check_target(out)
    with lock_beside(out, "dataset"):  # one collection at a time into one folder
        start = time.perf_counter()
        samples = collect_positions(net, positions, np.random.default_rng(seed),
                                    temperature=temperature, progress=progress)
        if len(samples) < positions:
            print(f"warning: only {len(samples)} distinct positions of the {positions} asked "
                  f"for (the games repeat themselves at temperature {temperature:g}; raise "
                  "--temperature for more)", file=sys.stderr, flush=True)
        writer, per_source = write_dataset(net, samples, layers, out, progress=progress)
        cfg = net.config
        return writer.finish({
            **source, "per_source": per_source, "mix": DEFAULT_MIX,
            "search_share": SEARCH_SHARE, "temperature": temperature, "seed": seed,
            "net_config": {"size": cfg.size, "width": cfg.width, "blocks": cfg.blocks},
            "net_sha256": sha256(writer.folder / NET), "seconds": time.perf_counter() - start,
            "code_version": code, "script": "othello/collect_activations.py"})


def collect(config: CollectConfig, out: Path, progress: bool = True,
            code: str = "unknown", device: str = "cpu") -> dict:
    """`collect_dataset` for a CollectConfig (loads its checkpoint, runs it on `device`);
    CheckpointError, or ValueError for layers the network does not have."""
    net, source = load_source(config.checkpoint, config.seed)
    net = net.to(device)
    if any(k > net.config.blocks for k in config.layers):
        raise ValueError(f"--layers must be in 0..{net.config.blocks} for this network")
    return collect_dataset(net, source, out, config.positions, config.layers, config.seed,
                           config.temperature, progress=progress, code=code)
