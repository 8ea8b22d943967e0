"""PPO on batches of mazes, short and readable, with log-spaced checkpoints and exact resume.

One update: every environment takes `rollout` steps with the current policy (finished episodes
restart at once on a fresh maze), advantages come from GAE, and the clipped PPO loss is
minimised for a few epochs of minibatches. Update u draws all its randomness (mazes, sampled
actions, minibatch order) from a generator seeded by (seed, u), so a run resumed from its state
file after update u repeats exactly what the uninterrupted run would have done.

Run folder: config.json (the marker of a maze run), metrics.jsonl (one line per update),
checkpoints/update_XXXXX.pt (network, step count, held-out success at log-spaced updates, update
0 included) and state.pt (everything needed to resume; `finished` once the last update is done).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from common.config import at_least, config_dict, config_from_dict, knob, positive, probability
from common.io import atomic_write_bytes, load_checkpoint, save_checkpoint, write_json
from mazes.env import MazeConfig, Mazes, corner_mask, new_mazes, observe, replace_done, step
from mazes.net import MazeNet, NetConfig, build_net, load_weights

EVAL_SEED = 10**6  # held-out mazes come from (seed + EVAL_SEED), never from a training stream


@dataclass(frozen=True)
class PPOConfig:
    """The optimiser and the rollouts."""

    envs: int = knob(64, "mazes played in parallel", check=at_least(1))
    rollout: int = knob(64, "steps per environment per update", check=at_least(1))
    updates: int = knob(10, "PPO updates", check=at_least(1))
    epochs: int = knob(4, "passes over each rollout", check=at_least(1))
    minibatches: int = knob(32, "minibatches per pass", check=at_least(1))
    lr: float = knob(1e-2, "Adam learning rate (annealed linearly to 0)", check=positive)
    gamma: float = knob(0.99, "discount", check=probability)
    lam: float = knob(0.95, "GAE lambda", check=probability)
    clip: float = knob(0.2, "PPO ratio clip", check=positive)
    entropy: float = knob(0.01, "entropy bonus coefficient", check=at_least(0))
    value_coef: float = knob(0.5, "value loss coefficient", check=at_least(0))
    max_grad_norm: float = knob(0.5, "gradient norm clip", check=positive)
    curriculum: float = knob(0.0, "share of the updates over which the mouse's start, at most "
                             "one move from the cheese at first, spreads to the whole maze "
                             "(0: anywhere from the start)", check=probability)
    checkpoints: int = knob(12, "log-spaced checkpoints, update 0 included", check=at_least(2))
    eval_mazes: int = knob(256, "held-out mazes scored at every checkpoint", check=at_least(1))


@dataclass(frozen=True)
class RunConfig:
    """Everything a maze training run depends on."""

    maze: MazeConfig = MazeConfig()
    net: NetConfig = NetConfig()
    ppo: PPOConfig = PPOConfig()
    seed: int = knob(0, "seed of the mazes, the network and the sampled moves")


def checkpoint_updates(updates: int, count: int) -> list[int]:
    """Update 0 and up to `count - 1` log-spaced updates ending at `updates`."""
    logs = np.logspace(0, np.log10(updates), max(count - 1, 1))
    return sorted({0, updates, *(int(round(u)) for u in logs)})


def start_reach(update: int, cfg: RunConfig) -> int | None:
    """How many moves from the cheese a training mouse may start at `update` (None: anywhere):
    growing linearly from 1 to the longest path a maze can hold (its open squares - 1)."""
    longest = ((cfg.maze.size + 1) // 2) ** 2 * 2 - 2
    span = cfg.ppo.curriculum * cfg.ppo.updates
    if update >= span:
        return None
    return 1 + int((longest - 1) * update / span)


def sample(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of `probs` (n, 4), by inverse-CDF sampling with numpy's generator."""
    u = rng.random((len(probs), 1))
    return np.minimum((probs.cumsum(1) < u).sum(1), probs.shape[1] - 1)


def policy(net: MazeNet, mazes: Mazes
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, torch.Tensor]:
    """(probs (n, 4) float64, value (n,), obs, the net's `think` state) on the current
    positions."""
    obs = observe(mazes.walls, mazes.mouse, mazes.cheese)
    obs_t = torch.from_numpy(obs).to(_device(net))
    with torch.no_grad():
        thought = net.think(obs_t)
        logits, value = net(obs_t, thought)
    probs = torch.softmax(logits.double(), -1).cpu().numpy()
    return probs, value.cpu().numpy(), obs, thought


def _device(net: MazeNet) -> torch.device:
    return next(net.parameters()).device


@dataclass
class Evaluation:
    """Outcomes of one episode per maze: success (n,), steps (n,), entered the top-right corner
    region before reaching the cheese or without ever reaching it (n,), final squares (n, 2)."""

    success: np.ndarray
    steps: np.ndarray
    corner_first: np.ndarray
    final: np.ndarray


def evaluate(net: MazeNet, cfg: MazeConfig, n: int, seed: int, greedy: bool = False
             ) -> Evaluation:
    """Play one episode on each of n mazes drawn from `cfg` with `seed` (sampled moves, or the
    most probable move with `greedy`); the same seed gives the same mazes."""
    rng = np.random.default_rng([seed, EVAL_SEED])
    mazes = new_mazes(n, cfg, rng)
    corner = corner_mask(cfg.size, cfg.corner)
    success = np.zeros(n, dtype=bool)
    corner_first = np.zeros(n, dtype=bool)
    running = np.ones(n, dtype=bool)
    for _ in range(cfg.max_steps):
        probs = policy(net, mazes)[0]
        actions = probs.argmax(1) if greedy else sample(probs, rng)
        before, t = mazes.mouse.copy(), mazes.t.copy()
        _, done, won = step(mazes, actions, cfg.max_steps)
        mazes.mouse[~running], mazes.t[~running] = before[~running], t[~running]
        corner_first |= running & ~won & ~success & corner[mazes.mouse[:, 0], mazes.mouse[:, 1]]
        success |= running & won
        running &= ~done
        if not running.any():
            break
    return Evaluation(success, mazes.t.copy(), corner_first, mazes.mouse.copy())


@dataclass
class RunState:
    """What a resumed run needs: the network and optimiser, the episodes in progress, the
    metrics so far, and the update last completed."""

    net: MazeNet
    opt: torch.optim.Optimizer
    mazes: Mazes
    update: int = 0
    env_steps: int = 0
    metrics: list[dict] = field(default_factory=list)
    seconds: float = 0.0  # wall-clock of the updates
    cpu_seconds: float = 0.0  # CPU time of the updates: the figure that holds on a busy machine


def _gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, last: np.ndarray,
         gamma: float, lam: float) -> np.ndarray:
    """Advantages (T, n); an episode that ended at step t does not bootstrap past it (a step cap
    is treated as an ending too, which is what the agent is scored on)."""
    adv = np.zeros_like(rewards)
    running = np.zeros_like(last)
    for t in reversed(range(len(rewards))):
        nxt = last if t == len(rewards) - 1 else values[t + 1]
        keep = 1.0 - dones[t]
        delta = rewards[t] + gamma * nxt * keep - values[t]
        running = delta + gamma * lam * keep * running
        adv[t] = running
    return adv


def ppo_update(state: RunState, cfg: RunConfig) -> dict:
    """One rollout and one PPO optimisation; returns that update's metrics."""
    p, net = cfg.ppo, state.net
    rng = np.random.default_rng([cfg.seed, state.update + 1])
    T, n = p.rollout, p.envs
    reach = start_reach(state.update, cfg)
    obs_buf = np.zeros((T, n, 3, cfg.maze.size, cfg.maze.size), dtype=np.float32)
    act = np.zeros((T, n), dtype=np.int64)
    logp = np.zeros((T, n))
    values = np.zeros((T, n), dtype=np.float32)
    rewards = np.zeros((T, n), dtype=np.float32)
    dones = np.zeros((T, n), dtype=np.float32)
    thoughts = []  # the passes without gradient, run once here and reused by every epoch
    finished, successes, lengths = 0, 0, []  # return of an episode = 1 if it reached the cheese
    for t in range(T):
        probs, values[t], obs_buf[t], thought = policy(net, state.mazes)
        thoughts.append(thought)
        act[t] = sample(probs, rng)
        logp[t] = np.log(probs[np.arange(n), act[t]])
        rewards[t], done, won = step(state.mazes, act[t], cfg.maze.max_steps)
        dones[t] = done
        finished += int(done.sum())
        successes += int(won.sum())
        lengths += state.mazes.t[done].tolist()
        replace_done(state.mazes, done, cfg.maze, rng, reach)
    last = policy(net, state.mazes)[1]
    adv = _gae(rewards, values, dones, last, p.gamma, p.lam)
    device = _device(net)
    returns = torch.from_numpy((adv + values).reshape(-1)).to(device)
    adv_t = torch.from_numpy(adv.reshape(-1)).to(device)
    obs_t = torch.from_numpy(obs_buf.reshape(T * n, *obs_buf.shape[2:])).to(device)
    act_t = torch.from_numpy(act.reshape(-1)).to(device)
    thought_t = torch.cat(thoughts)
    logp_t = torch.from_numpy(logp.reshape(-1)).float().to(device)
    frac = 1.0 - state.update / p.updates
    for group in state.opt.param_groups:
        group["lr"] = p.lr * frac
    stats = {k: [] for k in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_frac")}
    size = T * n // p.minibatches
    for _ in range(p.epochs):
        order = torch.from_numpy(rng.permutation(T * n)).to(device)
        for i in range(p.minibatches):
            idx = order[i * size:(i + 1) * size]
            logits, value = net(obs_t[idx], thought_t[idx])
            logp_all = torch.log_softmax(logits, -1)
            new_logp = logp_all.gather(1, act_t[idx, None]).squeeze(1)
            a = adv_t[idx]
            a = (a - a.mean()) / (a.std() + 1e-8)
            ratio = torch.exp(new_logp - logp_t[idx])
            pg = -torch.min(ratio * a, ratio.clamp(1 - p.clip, 1 + p.clip) * a).mean()
            vloss = 0.5 * (value - returns[idx]).pow(2).mean()
            ent = -(logp_all.exp() * logp_all).sum(-1).mean()
            loss = pg + p.value_coef * vloss - p.entropy * ent
            state.opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), p.max_grad_norm)
            state.opt.step()
            with torch.no_grad():
                log_ratio = new_logp - logp_t[idx]
                stats["approx_kl"].append(float(((ratio - 1) - log_ratio).mean()))
                stats["clip_frac"].append(float(((ratio - 1).abs() > p.clip).float().mean()))
            stats["policy_loss"].append(float(pg.detach()))
            stats["value_loss"].append(float(vloss.detach()))
            stats["entropy"].append(float(ent.detach()))
    state.update += 1
    state.env_steps += T * n
    return {"update": state.update, "env_steps": state.env_steps,
            "episodes": finished,
            "mean_return": successes / finished if finished else None,
            "mean_length": float(np.mean(lengths)) if lengths else None,
            **{k: float(np.mean(v)) for k, v in stats.items()}}


def _save_state(run_dir: Path, state: RunState, finished: bool) -> None:
    save_checkpoint(run_dir / "state.pt", {
        "arch": state.net.arch, "model": state.net.state_dict(),
        "optimizer": state.opt.state_dict(),
        "mazes": {k: torch.from_numpy(v.copy()) for k, v in state.mazes.arrays().items()},
        "update": state.update, "env_steps": state.env_steps, "seconds": state.seconds,
        "cpu_seconds": state.cpu_seconds,
        "metrics": json.dumps(state.metrics), "finished": finished})
    lines = "".join(json.dumps(m) + "\n" for m in state.metrics)
    atomic_write_bytes(run_dir / "metrics.jsonl", lines.encode())


def _save_snapshot(run_dir: Path, state: RunState, cfg: RunConfig) -> dict:
    held_out = evaluate(state.net, cfg.maze, cfg.ppo.eval_mazes, cfg.seed)
    record = {"update": state.update, "env_steps": state.env_steps,
              "train_seconds": round(state.seconds, 2),
              "train_cpu_seconds": round(state.cpu_seconds, 2),
              "held_out_success": float(held_out.success.mean()),
              "held_out_steps": float(held_out.steps.mean())}
    save_checkpoint(run_dir / "checkpoints" / f"update_{state.update:05d}.pt",
                    {"arch": state.net.arch, "model": state.net.state_dict(), **record})
    return record


def fresh_state(cfg: RunConfig, device: str = "cpu") -> RunState:
    """Update 0: a new network and optimiser, and the first mazes."""
    net = build_net(cfg.maze.size, cfg.net, cfg.seed).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.ppo.lr)
    mazes = new_mazes(cfg.ppo.envs, cfg.maze, np.random.default_rng([cfg.seed, 0]),
                      start_reach(0, cfg))
    return RunState(net, opt, mazes)


def load_state(run_dir: Path, cfg: RunConfig, device: str = "cpu") -> tuple[RunState, bool]:
    """The state saved in `run_dir` and whether that run had finished."""
    path = run_dir / "state.pt"
    saved = load_checkpoint(path, required=("model", "optimizer", "mazes", "update", "metrics",
                                            "finished"))
    state = fresh_state(cfg, device)
    load_weights(state.net, saved, path)
    state.opt.load_state_dict(saved["optimizer"])
    state.mazes = Mazes(**{k: v.numpy().copy() for k, v in saved["mazes"].items()})
    state.update, state.env_steps = int(saved["update"]), int(saved["env_steps"])
    state.seconds, state.cpu_seconds = float(saved["seconds"]), float(saved["cpu_seconds"])
    state.metrics = json.loads(saved["metrics"])
    return state, bool(saved["finished"])


def read_config(run_dir: Path) -> RunConfig:
    """The config a run folder was trained with (config.json)."""
    return config_from_dict(RunConfig, json.loads((Path(run_dir) / "config.json").read_text()))


def train(cfg: RunConfig, run_dir: str | Path, progress: bool = True, resume: bool = False,
          stop_after: int | None = None, device: str = "cpu") -> RunState:
    """Train into `run_dir`, continuing from its state.pt when `resume` (a finished run is
    returned as it is). `stop_after` ends early after that many updates (to test resuming)."""
    run_dir = Path(run_dir)
    keep = set(checkpoint_updates(cfg.ppo.updates, cfg.ppo.checkpoints))
    if resume and (run_dir / "state.pt").is_file():
        state, finished = load_state(run_dir, cfg, device)
        if finished:
            return state
    else:
        state = fresh_state(cfg, device)
        write_json(run_dir / "config.json", config_dict(cfg))
        state.metrics.append({"update": 0, "env_steps": 0,
                              "snapshot": _save_snapshot(run_dir, state, cfg)})
        _save_state(run_dir, state, False)
    bar = tqdm(total=cfg.ppo.updates, initial=state.update, desc="PPO updates",
               disable=not progress)
    while state.update < cfg.ppo.updates:
        if stop_after is not None and state.update >= stop_after:
            break
        start, cpu = time.perf_counter(), time.process_time()
        record = ppo_update(state, cfg)
        state.seconds += time.perf_counter() - start
        state.cpu_seconds += time.process_time() - cpu
        if state.update in keep:
            record["snapshot"] = _save_snapshot(run_dir, state, cfg)
        state.metrics.append(record)
        bar.update(1)
        if record["mean_return"] is not None:
            bar.set_postfix(mean_return=f"{record['mean_return']:.2f}")
        if state.update in keep or state.update % 25 == 0:
            _save_state(run_dir, state, state.update == cfg.ppo.updates)
    bar.close()
    return state
