"""Where an AlphaZero checkpoint loses: the same games against one opponent, played by the
network's heads alone, by its search with other settings, and with perfect play taking over.

    python bench/bench_agent_limits.py
    python bench/bench_agent_limits.py --checkpoint runs/alphazero/default/checkpoint.pt --games 40

Every row plays the same `--games` games (games / 2 distinct 6-ply openings, both colours)
against `--opponent`, with Wilson 95% intervals:
- `policy`: the policy head's most likely legal move, no search;
- `value`: the move whose position the value head likes best, one ply, no search;
- `mcts:c=C`: the search at `--simulations` with exploration constant C (`--c-puct-values`);
- `mcts:sims=S`: the search at S simulations (`--more-simulations`);
- `mcts+perfect:E`: the search, but from E empty squares on (`--perfect-from`) every move is an
  optimal one from the compiled exact search. The gain over `mcts` is what the agent loses
  after E empties; what is left to 1 is lost before (or is the opponent's, where the opening
  is lost for the agent's side: perfect play can only fail to win a position that is lost).
With `--theory` the oracle also gives each opening's win/draw/loss value (seconds to minutes
each at 26 empties), and every row's games are split by the value of the agent's side: each
opening is played with both colours, so under perfect play the agent would score exactly 1/2,
and what a row scores above that it takes from the opponent's mistakes in lost positions.
Writes results/alphazero/limits.json (refused from a dirty tree).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from alphazero.arena import Policy, play_match
from alphazero.evaluators import network_evaluator
from alphazero.mcts import SearchConfig
from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
    positive,
)
from common.io import REPO_ROOT, CheckpointError, command_line, results_version, write_json
from common.process import setup_process
from common.tally import Tally
from othello.az.agent import PRETRAINED, AlphaZeroPlayer, classic_policy
from othello.az.evaluation import distinct_openings
from othello.az.game import OthelloGame
from othello.az.model import PolicyValueNet, load_model
from othello.players.registry import make_player
from othello.rules.board import Position
from othello.rules.engine import Engine

OUT = REPO_ROOT / "results" / "alphazero" / "limits.json"


@dataclass(frozen=True)
class LimitsConfig:
    checkpoint: Path = knob(PRETRAINED, "network or training checkpoint to measure")
    search: SearchConfig = SearchConfig()
    opponent: str = knob("alphabeta:4", "player spec the agent plays")
    games: int = knob(100, "games per row (games / 2 distinct openings x both colours)",
                      check=at_least(2))
    opening_plies: int = knob(6, "random plies of each opening", check=at_least(0))
    c_puct_values: tuple[float, ...] = knob((0.5, 1.0, 1.5, 2.5), "exploration constants of "
                                            "the mcts:c rows", check=positive)
    more_simulations: tuple[int, ...] = knob((200,), "simulation counts of the mcts:sims rows",
                                             check=at_least(1))
    perfect_from: tuple[int, ...] = knob((14, 18, 22), "empties from which perfect play takes "
                                         "over in the mcts+perfect rows", check=at_least(1))
    theory: bool = knob(False, "solve every opening (win/draw/loss) and split the scores by "
                        "the value of the agent's side")
    seed: int = knob(7, "seed of the openings and tie-breaks", check=at_least(0))


QUICK = replace(LimitsConfig(), games=4, c_puct_values=(1.5,), more_simulations=(8,),
                perfect_from=(8,), search=SearchConfig(simulations=8))


def head_policy(game: OthelloGame, net: PolicyValueNet, head: str) -> Policy:
    """The policy head's argmax (`policy`) or the one-ply value head's best move (`value`)."""
    evaluate = network_evaluator(game, net)

    def by_policy(states: np.ndarray) -> np.ndarray:
        priors, _ = evaluate(states)
        return np.where(game.legal_actions(states), priors, -1.0).argmax(axis=1)

    def by_value(states: np.ndarray) -> np.ndarray:
        out = []
        for state, legal in zip(states, game.legal_actions(states), strict=True):
            moves = np.nonzero(legal)[0]
            children = game.next_states(np.repeat(state[None], len(moves), axis=0), moves)
            over = ~game.legal_actions(children).any(axis=1)
            values = game.outcome(children).astype(np.float32)  # for the child's side to move
            if not over.all():
                values[~over] = evaluate(children[~over])[1]
            out.append(moves[int(values.argmin())])
        return np.array(out, dtype=np.int64)

    return by_policy if head == "policy" else by_value


def perfect_from(policy: Policy, size: int, empties: int, engine: Engine) -> Policy:
    """`policy`, except that positions with at most `empties` empty squares get an optimal move."""
    def play(states: np.ndarray) -> np.ndarray:
        actions = policy(states)
        for i, s in enumerate(states):
            pos = Position(size, int(s[0]), int(s[1]), True)
            if pos.empties() <= empties:
                actions[i] = engine.solve(pos)[1]
        return actions
    return play


def theory_split(result, values: np.ndarray) -> dict[str, dict]:
    """Scores of a match's games grouped by the opening's perfect-play value (win/draw/loss,
    `values`, for the side to move after the opening) for the agent's side."""
    side = np.where(result.a_first, 1, -1) * np.concatenate([values, values])
    split = {}
    for name, v in (("won", 1), ("drawn", 0), ("lost", -1)):
        games = result.a_result[side == v]
        tally = Tally(int((games > 0).sum()), int((games == 0).sum()), int((games < 0).sum()))
        split[name] = {"games": tally.games, "score": tally.score, "wilson95": tally.interval()}
    return split


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file of the results (default results/alphazero/limits.json)",
                  quick="4 games, one row of each kind, 8 simulations")
    add_config_flags(p, LimitsConfig)
    args = p.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, LimitsConfig, QUICK if args.quick else LimitsConfig())
    try:
        net, ckpt = load_model(cfg.checkpoint)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or OUT
    version = results_version(out.parent)
    size = net.config.size
    game, engine = OthelloGame(size), Engine(table_bits=20)
    openings = distinct_openings(size, cfg.games // 2, cfg.opening_plies,
                                 np.random.default_rng(cfg.seed))

    def agent(search: SearchConfig):
        return lambda rng: AlphaZeroPlayer(net, search).policy(rng)

    rows: list[tuple[str, object]] = [("policy", lambda rng: head_policy(game, net, "policy")),
                                      ("value", lambda rng: head_policy(game, net, "value"))]
    rows += [(f"mcts:c={c:g}", agent(replace(cfg.search, c_puct=c))) for c in cfg.c_puct_values]
    rows += [(f"mcts:sims={s}", agent(replace(cfg.search, simulations=s)))
             for s in cfg.more_simulations]
    rows += [(f"mcts+perfect:{e}", lambda rng, e=e: perfect_from(agent(cfg.search)(rng), size, e,
                                                                   engine))
             for e in cfg.perfect_from]
    values = None
    if cfg.theory:
        values = np.array([engine.wld(Position(size, int(s[0]), int(s[1]), True))
                           for s in tqdm(openings, desc="solving the openings",
                                         disable=args.no_progress)])
        print(f"openings for the side to move: {int((values > 0).sum())} won, "
              f"{int((values == 0).sum())} drawn, {int((values < 0).sum())} lost")
    table = []
    print(f"{cfg.checkpoint} (iteration {ckpt.get('iteration', '?')}) against {cfg.opponent}, "
          f"{2 * len(openings)} games, search {cfg.search.simulations} sims c_puct "
          f"{cfg.search.c_puct:g} unless the row says otherwise")
    for name, build in rows:
        rng, t0 = np.random.default_rng(cfg.seed), time.process_time()
        opponent = classic_policy(make_player(cfg.opponent, size), size, rng)
        res = play_match(game, build(rng), opponent, 2 * len(openings), cfg.opening_plies, rng,
                         openings=openings)
        tally = Tally(res.wins, res.draws, res.losses)
        low, high = tally.interval()
        table.append({"row": name, "score": tally.score, "wilson95": [low, high],
                      "wdl": [res.wins, res.draws, res.losses],
                      "cpu_seconds": time.process_time() - t0})
        line = (f"  {name:18s} {tally.score:.3f} ({low:.3f}-{high:.3f})  "
                f"{res.wins}-{res.draws}-{res.losses}")
        if values is not None:
            table[-1]["by_theory"] = split = theory_split(res, values)
            line += "  " + ", ".join(f"{k} {v['score']:.2f} of {v['games']}"
                                     for k, v in split.items() if v["games"])
        print(line, flush=True)
    write_json(out, {"checkpoint": str(cfg.checkpoint), "iteration": ckpt.get("iteration"),
                     "config": config_dict(cfg), "search": asdict(cfg.search), "rows": table,
                     "opening_values": None if values is None else values.tolist(),
                     "code_version": version, "command": command_line(__file__, argv)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
