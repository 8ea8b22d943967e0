"""Self-play speed: batched array MCTS against a plain one-game-at-a-time MCTS, in one process.

The baseline is the way the well-known public AlphaZero implementations search: one game at a
time, a dictionary tree keyed by position (kept for the whole game), recursion down to a leaf and
one batch-1 network call per simulation. It uses the fast bitboard rules (`othello.rules.board`),
the
same network and the same number of simulations per move, so the ratio measures the search
design, not the rules engine. Both run on one thread. Prints positions/s and writes JSON.

    python bench/bench_selfplay.py [--quick] [--simulations 50] [--games 256] [--baseline-games 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from alphazero.evaluators import CachedEvaluator, network_evaluator
from alphazero.mcts import SearchConfig
from alphazero.selfplay import self_play
from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
)
from common.io import REPO_ROOT, write_json
from common.process import setup_process
from othello.az.agent import PRETRAINED
from othello.az.game import OthelloGame
from othello.az.model import NetConfig, PolicyValueNet, load_model
from othello.rules.board import Position
from othello.rules.encoding import encode, legal_mask

OUT = REPO_ROOT / "bench" / "selfplay.json"


@dataclass(frozen=True)
class SelfPlayBenchConfig:
    search: SearchConfig = SearchConfig(noise_fraction=0.25)  # as in training
    games: int = knob(256, "batched self-play games", check=at_least(1))
    concurrent: int = knob(256, "games advanced together", check=at_least(1))
    baseline_games: int = knob(3, "games of the plain one-game-at-a-time MCTS",
                               check=at_least(1))
    temperature_plies: int = knob(8, "plies sampled in proportion to visits", check=at_least(0))
    seed: int = knob(0, "random seed", check=at_least(0))


DEFAULT = SelfPlayBenchConfig()
QUICK = replace(DEFAULT, games=32, concurrent=32, baseline_games=1)


class PlainMCTS:
    """Dictionary-tree PUCT with a batch-1 network call per new leaf (the baseline)."""

    def __init__(self, net: PolicyValueNet, simulations: int, c_puct: float):
        self.net, self.simulations, self.c_puct = net, simulations, c_puct
        self.q: dict = {}
        self.n_edge: dict = {}
        self.n_node: dict = {}
        self.prior: dict = {}
        self.legal: dict = {}
        self.value: dict = {}

    def visit_counts(self, pos: Position) -> np.ndarray:
        for _ in range(self.simulations):
            self.search(pos)
        key = (pos.me, pos.opp)
        counts = np.zeros(pos.size * pos.size + 1)
        for a in self.legal[key]:
            counts[a] = self.n_edge.get((key, a), 0)
        return counts

    def search(self, pos: Position) -> float:
        """Value of `pos` for the player who just moved into it."""
        key = (pos.me, pos.opp)
        if pos.is_over():
            return -float(np.sign(pos.margin()))
        if key not in self.prior:
            with torch.inference_mode():
                logits, value = self.net(torch.from_numpy(encode(pos)[None]))
            mask = legal_mask(pos)
            p = torch.softmax(logits[0], 0).numpy() * mask
            self.prior[key], self.legal[key] = p / p.sum(), np.nonzero(mask)[0].tolist()
            self.n_node[key], self.value[key] = 0, float(value[0])
            return -self.value[key]
        sqrt_n = math.sqrt(self.n_node[key] + 1e-8)
        best, best_score = -1, -math.inf
        for a in self.legal[key]:
            n = self.n_edge.get((key, a), 0)
            q = self.q[(key, a)] if n else self.value[key]
            score = q + self.c_puct * self.prior[key][a] * sqrt_n / (1 + n)
            if score > best_score:
                best, best_score = a, score
        v = self.search(pos.play(best))
        edge = (key, best)
        n = self.n_edge.get(edge, 0)
        self.q[edge] = (n * self.q.get(edge, 0.0) + v) / (n + 1)
        self.n_edge[edge] = n + 1
        self.n_node[key] += 1
        return -v


def plain_self_play(net: PolicyValueNet, games: int, search: SearchConfig,
                    temperature_plies: int, rng: np.random.Generator) -> int:
    """Play `games` games one at a time; returns the number of positions searched."""
    positions = 0
    for _ in range(games):
        # one tree per game, as in the usual code
        mcts = PlainMCTS(net, search.simulations, search.c_puct)
        pos, ply = Position.start(net.config.size), 0
        while not pos.is_over():
            counts = mcts.visit_counts(pos)
            move = (rng.choice(len(counts), p=counts / counts.sum()) if ply < temperature_plies
                    else int(counts.argmax()))
            pos, ply, positions = pos.play(int(move)), ply + 1, positions + 1
    return positions


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file of the figures (default bench/selfplay.json)",
                  quick="32 batched games and 1 baseline game")
    add_config_flags(p, SelfPlayBenchConfig, presets={"quick": QUICK})
    args = p.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, SelfPlayBenchConfig, QUICK if args.quick else DEFAULT)
    net = load_model(PRETRAINED)[0] if PRETRAINED.exists() else PolicyValueNet(NetConfig())
    net.eval()
    game = OthelloGame(net.config.size)

    start = time.perf_counter()
    n_plain = plain_self_play(net, cfg.baseline_games, cfg.search, cfg.temperature_plies,
                              np.random.default_rng(cfg.seed))
    plain_rate = n_plain / (time.perf_counter() - start)

    rates = {}
    for cached in (False, True):
        evaluate = network_evaluator(game, net)
        _, stats = self_play(game, CachedEvaluator(evaluate) if cached else evaluate, cfg.games,
                             cfg.concurrent, cfg.search, cfg.temperature_plies,
                             np.random.default_rng(cfg.seed))
        rates[cached] = stats
    print(f"network: {'pretrained agent' if PRETRAINED.exists() else 'random weights'}, "
          f"{cfg.search.simulations} simulations per move, 1 thread")
    print(f"plain one-game MCTS (dict tree)   : {plain_rate:8.1f} positions/s "
          f"({n_plain} positions)")
    out = {"config": config_dict(cfg), "plain_positions_per_s": plain_rate}
    for cached, stats in rates.items():
        label = "batched + evaluation cache" if cached else "batched, no cache"
        ratio = stats.positions_per_s / plain_rate
        print(f"{label:34s}: {stats.positions_per_s:8.1f} positions/s ({stats.positions} "
              f"positions, {stats.games_per_s:.1f} games/s) = {ratio:.1f}x")
        key = "cached" if cached else "uncached"
        out[f"batched_{key}_positions_per_s"] = stats.positions_per_s
        out[f"speedup_{key}"] = ratio
    write_json(args.out or OUT, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
