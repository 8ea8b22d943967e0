"""Self-play speed: batched array MCTS against a plain one-game-at-a-time MCTS, in one process.

The baseline is the way the well-known public AlphaZero implementations search: one game at a
time, a dictionary tree keyed by position (kept for the whole game), recursion down to a leaf and
one batch-1 network call per simulation. It uses the fast bitboard rules (`othello.rules.board`),
the
same network and the same number of simulations per move, so the ratio measures the search
design, not the rules engine. Both run on one thread. Prints positions/s and writes JSON.

The network-bound rate is the ceiling: the batched, uncached self-play run records every batch
of states its search sends to the network, and the same batches (encoded beforehand) go through
the network's forward pass alone afterwards, in the same process; positions over those forward
seconds is the rate self-play would reach if the search, the rules and the encoding cost
nothing, and the share is self-play's rate over it. Every rate is per CPU second
(`time.process_time`, one thread), so a machine shared with other work gives the same figures.

    python bench/bench_selfplay.py [--quick] [--simulations 50] [--games 256] [--baseline-games 3]

Writes results/alphazero/selfplay_bench.json (refused from a tree with uncommitted changes; --out
elsewhere for a look).
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
from common.io import REPO_ROOT, command_line, results_version, write_json
from common.process import setup_process
from othello.az.agent import PRETRAINED
from othello.az.game import OthelloGame
from othello.az.model import NetConfig, PolicyValueNet, load_model
from othello.rules.board import Position
from othello.rules.encoding import encode, legal_mask

OUT = REPO_ROOT / "results" / "alphazero" / "selfplay_bench.json"


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


class RecordingEvaluator:
    """Passes every call through and keeps a copy of the batch of states it was given."""

    def __init__(self, evaluate):
        self.evaluate, self.batches = evaluate, []

    def __call__(self, states: np.ndarray):
        self.batches.append(states.copy())
        return self.evaluate(states)


def forward_seconds(net: PolicyValueNet, game: OthelloGame, batches: list[np.ndarray]) -> float:
    """CPU seconds of the network's forward passes alone over `batches` (encoded beforehand)."""
    planes = [torch.from_numpy(game.encode(b)) for b in batches]
    with torch.inference_mode():
        start = time.process_time()
        for x in planes:
            net(x)
        return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file of the figures (default results/alphazero/selfplay_bench.json)",
                  quick="32 batched games and 1 baseline game")
    add_config_flags(p, SelfPlayBenchConfig, presets={"quick": QUICK})
    args = p.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, SelfPlayBenchConfig, QUICK if args.quick else DEFAULT)
    net = load_model(PRETRAINED)[0] if PRETRAINED.exists() else PolicyValueNet(NetConfig())
    net.eval()
    game = OthelloGame(net.config.size)
    out = args.out or OUT
    version = results_version(out.parent)
    # compile and load the search's kernels first, so that no run pays for them
    self_play(game, network_evaluator(game, net), 1, 1, replace(cfg.search, simulations=2), 0,
              np.random.default_rng(0))

    start = time.process_time()
    n_plain = plain_self_play(net, cfg.baseline_games, cfg.search, cfg.temperature_plies,
                              np.random.default_rng(cfg.seed))
    plain_rate = n_plain / (time.process_time() - start)

    rates = {}
    recorder = RecordingEvaluator(network_evaluator(game, net))
    for cached in (False, True):
        evaluate = CachedEvaluator(network_evaluator(game, net)) if cached else recorder
        start = time.process_time()
        _, stats = self_play(game, evaluate, cfg.games, cfg.concurrent, cfg.search,
                             cfg.temperature_plies, np.random.default_rng(cfg.seed))
        rates[cached] = stats.positions / (time.process_time() - start), stats
    network_rate = rates[False][1].positions / forward_seconds(net, game, recorder.batches)
    print(f"network: {'pretrained agent' if PRETRAINED.exists() else 'random weights'}, "
          f"{cfg.search.simulations} simulations per move ({cfg.search.root_search} root), "
          "1 thread, positions per CPU second")
    print(f"plain one-game MCTS (dict tree)   : {plain_rate:8.1f} positions/s "
          f"({n_plain} positions)")
    figures = {"config": config_dict(cfg), "plain_positions_per_s": plain_rate}
    for cached, (rate, stats) in rates.items():
        label = "batched + evaluation cache" if cached else "batched, no cache"
        print(f"{label:34s}: {rate:8.1f} positions/s ({stats.positions} positions) "
              f"= {rate / plain_rate:.1f}x")
        key = "cached" if cached else "uncached"
        figures[f"batched_{key}_positions_per_s"] = rate
        figures[f"speedup_{key}"] = rate / plain_rate
    share = rates[False][0] / network_rate
    batches = [len(b) for b in recorder.batches]
    print(f"network-bound (forward passes alone): {network_rate:8.1f} positions/s "
          f"({len(batches)} batches, mean {np.mean(batches):.0f} states); uncached self-play "
          f"reaches {share:.2f} of it")
    figures |= {"network_bound_positions_per_s": network_rate, "network_bound_share": share,
                "network_batches": len(batches), "mean_network_batch": float(np.mean(batches)),
                "code_version": version, "command": command_line(__file__, argv)}
    write_json(out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
