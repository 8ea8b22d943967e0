"""The AlphaZero loop: self-play -> replay buffer -> training -> optional arena gate -> repeat.

One iteration is one pass of that loop. After every iteration the whole run state (network,
optimiser, replay buffer, RNG state, metrics so far) goes to `<run>/checkpoint.pt` atomically,
so a killed run resumes from its last finished iteration with the same data and random streams.
Network-only snapshots at log-spaced iterations go to `<run>/checkpoints/` for trajectory work,
and `<run>/metrics.jsonl` is rewritten from the checkpoint's metrics each iteration so it never
disagrees with what a resume would continue from.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from alphazero.arena import mcts_policy, play_match
from alphazero.config import TrainConfig
from alphazero.evaluators import CachedEvaluator, network_evaluator
from alphazero.game import Adjudicator, Game
from alphazero.replay import ReplayBuffer
from alphazero.selfplay import self_play
from common.config import (
    ConfigError,
    config_dict,
    config_from_dict,
)
from common.device import module_device
from common.io import atomic_write_bytes, code_version, load_checkpoint, save_checkpoint

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"
SNAPSHOTS = "checkpoints"
SNAPSHOT_KIND = "alphazero-network"  # network-only snapshots: {"config", "model", ...}


def snapshot_iterations(iterations: int, count: int) -> set[int]:
    """Iterations to keep network snapshots at: 0 (the initial network), log-spaced, the last."""
    points = np.geomspace(1, max(iterations, 1), num=max(count - 1, 1))
    return {0, iterations, *(int(round(p)) for p in points)}


# An evaluation hook: (network, iteration) -> metrics to log (e.g. win rates vs classic players).
EvalHook = Callable[[torch.nn.Module, int], dict]


def train_step(net: torch.nn.Module, optimizer: torch.optim.Optimizer, inputs: np.ndarray,
               policies: np.ndarray, values: np.ndarray, margins: np.ndarray | None = None,
               margin_weight: float = 0.0) -> tuple[float, float, float]:
    """One gradient step on policy cross-entropy + value MSE (+ `margin_weight` x margin MSE,
    through the network's `forward_with_margin`); returns the three losses (margin 0 when not
    trained)."""
    device = module_device(net)
    inputs, policies, values = (torch.from_numpy(x).to(device)
                                for x in (inputs, policies, values))
    if margin_weight:
        logits, value, margin = net.forward_with_margin(inputs)
        margin_loss = F.mse_loss(margin, torch.from_numpy(margins).to(device))
    else:
        logits, value = net(inputs)
        margin_loss = torch.zeros(())
    policy_loss = -(policies * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    value_loss = F.mse_loss(value, values)
    optimizer.zero_grad(set_to_none=True)
    loss = policy_loss + value_loss
    if margin_weight:
        loss = loss + margin_weight * margin_loss
    loss.backward()
    optimizer.step()
    return policy_loss.item(), value_loss.item(), margin_loss.item()


def _nest_search(saved: dict) -> dict:
    """Runs saved before TrainConfig held a SearchConfig kept its fields flat: nest them."""
    flat = {k: saved[k] for k in ("simulations", "c_puct", "dirichlet_alpha", "noise_fraction")
            if k in saved}
    if not flat:
        return saved
    rest = {k: v for k, v in saved.items() if k not in flat}
    return {**rest, "search": {**rest.get("search", {}), **flat}}


class RunError(RuntimeError):
    """A run directory that cannot be started or resumed as asked."""


# Builds the game's adjudicator for a run's config (`TrainConfig.exact_empties` > 0).
AdjudicatorFactory = Callable[[TrainConfig], Adjudicator]


class Trainer:
    """Owns one run: its network, optimiser, replay buffer, RNGs and metrics.

    A run with `exact_empties` needs `adjudicator` (the game's, built from the config: the
    entry point sets it, as it sets `eval_hook`); one with `margin_weight` needs a network with
    a margin head (`has_margin_head`)."""

    def __init__(self, game: Game, net: torch.nn.Module, net_config: dict, config: TrainConfig,
                 run_dir: str | Path, eval_hook: EvalHook | None = None,
                 log: Callable[[dict], None] | None = None,
                 adjudicator: Adjudicator | None = None):
        if config.margin_weight and not getattr(net, "has_margin_head", False):
            raise RunError("--margin-weight needs a network with a margin head "
                           "(--margin-head)")
        self.game, self.net, self.net_config, self.config = game, net, net_config, config
        self.run_dir = Path(run_dir)
        self.eval_hook, self.log, self.adjudicator = eval_hook, log, adjudicator
        self.progress = True  # tqdm bars for self-play and training
        # None: self-play here from self.rng; else (net, iteration, progress) -> (Examples,
        # SelfPlayStats), e.g. workers on Ray actors (alphazero.distributed)
        self.selfplay: Callable | None = None
        # every random draw of the loop comes from this generator (the network's initial
        # weights are the caller's); the global torch RNG is process state and is left alone
        self.rng = np.random.default_rng(config.seed)
        self.optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr,
                                           weight_decay=config.weight_decay)
        self.buffer = ReplayBuffer(config.replay_capacity)
        self.iteration = 0
        self.steps = 0
        self.cpu_seconds = 0.0  # of self-play and training, all iterations (for cpu_budget_s)
        self.metrics: list[dict] = []

    # ---- persistence -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"kind": "alphazero-run", "config": self.net_config,
                "train_config": config_dict(self.config), "model": self.net.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "replay": {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                           for k, v in self.buffer.state_dict().items()},
                "iteration": self.iteration, "steps": self.steps,
                "cpu_seconds": self.cpu_seconds, "metrics_json": json.dumps(self.metrics),
                "numpy_rng": json.dumps(self.rng.bit_generator.state),
                "code_version": code_version()}

    def save(self) -> None:
        """The snapshot first, then the checkpoint: a process killed in between redoes this
        iteration on resume (bit for bit) and rewrites the same snapshot."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self._snapshot_due():
            self.save_snapshot()
        save_checkpoint(self.run_dir / CHECKPOINT, self.state_dict())
        lines = "".join(json.dumps(m) + "\n" for m in self.metrics)
        atomic_write_bytes(self.run_dir / METRICS, lines.encode())

    def _snapshot_due(self) -> bool:
        return self.iteration in snapshot_iterations(self.config.iterations, self.config.snapshots)

    def _snapshot_path(self) -> Path:
        return self.run_dir / SNAPSHOTS / f"iter_{self.iteration:04d}.pt"

    def save_snapshot(self) -> None:
        last = self.metrics[-1] if self.metrics else {}
        save_checkpoint(self._snapshot_path(),
                        {"kind": SNAPSHOT_KIND, "config": self.net_config,
                         "model": self.net.state_dict(), "iteration": self.iteration,
                         "steps": self.steps, "policy_loss": last.get("policy_loss"),
                         "value_loss": last.get("value_loss")})

    @classmethod
    def resume(cls, game: Game, net: torch.nn.Module, run_dir: str | Path,
               eval_hook: EvalHook | None = None, log=None,
               adjudicator: AdjudicatorFactory | None = None) -> Trainer:
        """Continue a run from `<run_dir>/checkpoint.pt`, with the config saved there
        (`adjudicator` builds the game's adjudicator from it when the run uses one)."""
        ckpt = load_checkpoint(Path(run_dir) / CHECKPOINT,
                               required=("train_config", "model", "optimizer", "replay"))
        try:
            config = config_from_dict(TrainConfig, _nest_search(ckpt["train_config"]))
        except (ConfigError, TypeError) as exc:
            raise RunError(f"{run_dir}: its saved training config does not fit this code "
                           f"({exc})") from None
        trainer = cls(game, net, ckpt["config"], config, run_dir, eval_hook, log,
                      adjudicator(config) if adjudicator and config.exact_empties else None)
        try:
            net.load_state_dict(ckpt["model"])
            trainer.optimizer.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError) as exc:
            raise RunError(f"{run_dir}: checkpoint does not match this network "
                           f"({str(exc).splitlines()[0]})") from None
        trainer.buffer = ReplayBuffer.from_state_dict(
            {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in ckpt["replay"].items()})
        trainer.iteration, trainer.steps = int(ckpt["iteration"]), int(ckpt["steps"])
        trainer.cpu_seconds = float(ckpt.get("cpu_seconds", 0.0))
        trainer.metrics = json.loads(ckpt["metrics_json"])
        trainer.rng.bit_generator.state = json.loads(ckpt["numpy_rng"])
        if trainer._snapshot_due() and not trainer._snapshot_path().is_file():
            trainer.save_snapshot()  # lost by a crash of code that wrote it after the checkpoint
        return trainer

    # ---- the loop ----------------------------------------------------------------------------
    def run(self) -> list[dict]:
        """Run the remaining iterations (or until the CPU budget is spent); returns all
        metrics."""
        while not self.finished():
            self.run_iteration()
        return self.metrics

    def finished(self) -> bool:
        budget = self.config.cpu_budget_s
        return (self.iteration >= self.config.iterations
                or bool(budget) and self.cpu_seconds >= budget)

    def run_iteration(self) -> dict:
        cfg = self.config
        if cfg.exact_empties and self.adjudicator is None:
            raise RunError("exact_empties is set but the trainer has no adjudicator")
        it = self.iteration + 1
        start, cpu_start = time.perf_counter(), time.process_time()
        if self.iteration == 0:
            self.save_snapshot()  # the initial network, for trajectories
        self.net.eval()
        evaluate = CachedEvaluator(network_evaluator(self.game, self.net))
        with tqdm(total=cfg.games_per_iteration, desc=f"iter {it}/{cfg.iterations} self-play",
                  unit="game", leave=False, disable=not self.progress) as bar:
            if self.selfplay is not None:
                if cfg.exact_empties:
                    raise RunError("--exact-empties is not supported with --selfplay-workers "
                                   "yet (the workers play every game out)")
                data, sp = self.selfplay(self.net, it, bar.update)
            else:
                data, sp = self_play(self.game, evaluate, cfg.games_per_iteration,
                                     cfg.concurrent_games, cfg.search,
                                     cfg.temperature_plies, self.rng, progress=bar.update,
                                     search_value_weight=cfg.search_value_weight,
                                     full_share=cfg.full_search_share,
                                     cheap=cfg.cheap_search(),
                                     adjudicator=self.adjudicator if cfg.exact_empties
                                     else None, opening_plies=cfg.opening_plies)
        self.buffer.add(data)

        previous = copy.deepcopy(self.net.state_dict()) if cfg.gate_games else None
        steps = max(1, math.ceil(cfg.sample_reuse * len(data) / cfg.batch_size))
        lr = cfg.lr_at(it, self.cpu_seconds)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.net.train()
        train_start = time.perf_counter()
        p_sum = v_sum = m_sum = 0.0
        for _ in tqdm(range(steps), desc=f"iter {it}/{cfg.iterations} training", unit="step",
                      leave=False, disable=not self.progress):
            p, v, m = train_step(self.net, self.optimizer,
                                 *self.buffer.sample(self.game, cfg.batch_size, self.rng),
                                 margin_weight=cfg.margin_weight)
            p_sum, v_sum, m_sum = p_sum + p, v_sum + v, m_sum + m
        self.net.eval()
        self.steps += steps
        self.cpu_seconds += time.process_time() - cpu_start
        metrics = {"iteration": it, "steps": self.steps, "policy_loss": p_sum / steps,
                   "value_loss": v_sum / steps, "lr": lr,
                   "selfplay_games": sp.games, "selfplay_positions": sp.positions,
                   "selfplay_games_per_s": sp.games_per_s,
                   "selfplay_positions_per_s": sp.positions_per_s,
                   "selfplay_first_player_score": sp.first_player_score,
                   "replay_size": len(self.buffer),
                   "train_seconds": time.perf_counter() - train_start,
                   "cpu_seconds": self.cpu_seconds}
        if cfg.margin_weight:
            metrics["margin_loss"] = m_sum / steps
        if cfg.gate_games:
            metrics.update(self._gate(previous))
        if self.eval_hook is not None and (it % cfg.eval_every == 0 or it == cfg.iterations):
            eval_start = time.perf_counter()
            metrics.update(self.eval_hook(self.net, it))
            metrics["eval_seconds"] = time.perf_counter() - eval_start
        metrics["iteration_seconds"] = time.perf_counter() - start
        self.iteration = it
        self.metrics.append(metrics)
        self.save()
        if self.log is not None:
            self.log(metrics)
        return metrics

    def _gate(self, previous: dict) -> dict:
        """Arena: keep the new network only if it scores at least gate_threshold vs the old."""
        cfg = self.config
        old = copy.deepcopy(self.net)
        old.load_state_dict(previous)
        old.eval()
        search = cfg.eval_search()

        def agent(net: torch.nn.Module):
            evaluate = CachedEvaluator(network_evaluator(self.game, net))
            return mcts_policy(self.game, evaluate, search, self.rng)

        result = play_match(self.game, agent(self.net), agent(old), cfg.gate_games,
                            opening_plies=4, rng=self.rng)
        accepted = result.score >= cfg.gate_threshold
        if not accepted:
            self.net.load_state_dict(previous)
        return {"gate_score": result.score, "gate_accepted": bool(accepted)}
