"""Players, matches, game records and the terminal front end."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from othello.az.evaluation import move_margins
from othello.play import human_game
from othello.play import main as play_main
from othello.players.classic import evaluate
from othello.players.match import (
    RecordError,
    play_game,
    play_match,
    random_position,
    read_records,
    replay,
    write_records,
)
from othello.players.registry import PlayerSpecError, available, make_player, register
from othello.rules.board import Position, move_name, parse_move, render
from othello.rules.solver import Solver
from tests.othello_helpers import from_diagram

ROOT = Path(__file__).resolve().parent.parent


def test_player_specs():
    assert make_player("alphabeta:2", 6).name == "alphabeta:2"
    assert make_player("solver", 6).name == "solver:14"
    for bad in ("nobody", "alphabeta:x", "alphabeta:0", "random:3", "solver:99"):
        with pytest.raises(PlayerSpecError):
            make_player(bad, 6)


def test_greedy_takes_the_most_flips():
    """Along a greedy self-play game, each chosen move flips as many discs as any other."""
    rng = np.random.default_rng(0)
    greedy = make_player("greedy", 6)
    pos = Position.start(6)
    for _ in range(12):
        move = greedy.choose(pos, rng)
        gains = {m: pos.play(m).opp.bit_count() for m in pos.legal_moves()}
        assert gains[move] == max(gains.values())
        pos = pos.play(move)


def test_evaluation_prefers_corners_and_is_antisymmetric():
    size = 6
    corner = Position.from_colors(size, 1 << parse_move("a1", size), 1 << parse_move("c3", size),
                                  True)
    x_square = Position.from_colors(size, 1 << parse_move("b2", size),
                                    1 << parse_move("c3", size), True)
    assert evaluate(corner.me, corner.opp, size) > evaluate(x_square.me, x_square.opp, size)
    pos = Position.start(6).play(8)
    assert evaluate(pos.me, pos.opp, 6) == -evaluate(pos.opp, pos.me, 6)


def test_alphabeta_beats_random_play():
    rng = np.random.default_rng(0)
    result, _ = play_match(make_player("alphabeta:2", 6), make_player("random", 6), 6, 20, rng)
    assert result.wins >= 17


def test_solver_player_never_loses_a_won_endgame():
    """From 10 empties, perfect play must reach at least the solved margin against anyone."""
    from othello.rules.solver import solve
    rng = np.random.default_rng(4)
    solver, rnd = make_player("solver:12", 6), make_player("random", 6)
    for _ in range(4):
        pos = random_position(6, 10, rng)
        margin, _ = solve(pos)
        black_is_solver = pos.black_to_move
        while not pos.is_over():
            player = solver if pos.black_to_move == black_is_solver else rnd
            pos = pos.play(player.choose(pos, rng))
        b, w = pos.counts()
        assert (b - w if black_is_solver else w - b) >= margin


def test_records_replay_and_detect_tampering(tmp_path):
    rng = np.random.default_rng(7)
    rec = play_game(make_player("greedy", 6), make_player("alphabeta:1", 6), 6, rng, 4)
    assert rec["players"] == {"black": "greedy", "white": "alphabeta:1"}
    assert rec["black"] + rec["white"] <= 36 and rec["opening_plies"] == 4
    final = replay(rec)
    assert final.counts() == (rec["black"], rec["white"])
    bad_score = dict(rec, black=rec["black"] + 1)
    with pytest.raises(RecordError, match="stated result"):
        replay(bad_score)
    bad_move = dict(rec, moves=["a1", *rec["moves"][1:]])
    with pytest.raises(RecordError, match="ply 1"):
        replay(bad_move)
    with pytest.raises(RecordError, match="not over"):
        replay(dict(rec, moves=rec["moves"][:-1]))


def test_pit_cli_records_reproducible_legal_games(tmp_path, capsys):
    args = ["--games", "6", "--p1", "alphabeta:1", "--p2", "random", "--seed", "3"]
    play_main([*args, "--record", str(tmp_path / "a.jsonl")])
    summary = capsys.readouterr().out
    play_main([*args, "--record", str(tmp_path / "b.jsonl")])
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    records = list(read_records(tmp_path / "a.jsonl"))
    assert len(records) == 6
    p1_points = 0.0
    for i, rec in enumerate(records):
        replay(rec)
        p1_color = "black" if i % 2 == 0 else "white"
        assert rec["players"][p1_color] == "alphabeta:1"  # colours alternate
        p1_points += 1.0 if rec["winner"] == p1_color else 0.5 if rec["winner"] == "draw" else 0
        assert json.loads(json.dumps(rec)) == rec
    assert f"score {p1_points / 6:.3f}" in summary
    openings = {tuple(r["moves"][:4]) for r in records}
    assert len(openings) > 1  # random openings vary the games


def test_pit_cli_checks_the_record_path_before_playing(tmp_path, capsys):
    nested = tmp_path / "new" / "games.jsonl"
    play_main(["--games", "2", "--p1", "random", "--p2", "random", "--record", str(nested)])
    assert len(nested.read_text().splitlines()) == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exc:
        play_main(["--games", "2", "--record", str(blocker / "games.jsonl")])
    assert exc.value.code == 2 and "cannot write --record" in capsys.readouterr().err


def test_a_full_disk_keeps_the_games_before_it_and_ends_in_one_line(tmp_path, capsys,
                                                                      monkeypatch):
    import othello.play

    path, written = tmp_path / "games.jsonl", []

    def fill_up(target, records):
        if written:
            raise OSError(28, "No space left on device")
        written.extend(records)
        write_records(target, records)

    monkeypatch.setattr(othello.play, "write_records", fill_up)
    with pytest.raises(SystemExit) as exc:
        play_main(["--games", "3", "--p1", "random", "--p2", "random", "--record", str(path),
                   "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and "No space left" in err
    assert len(list(read_records(path))) == 1  # the game that ended before the disk filled


def test_pit_cli_rejects_bad_players(capsys):
    with pytest.raises(SystemExit) as exc:
        play_main(["--p1", "nobody"])
    assert exc.value.code == 2 and "unknown player" in capsys.readouterr().err


def scripted(lines):
    """A fake `input` that answers with `lines`, then picks the first legal move listed."""
    queue = list(lines)

    def read(prompt: str) -> str:
        if queue:
            return queue.pop(0)
        return prompt.split("(")[1].split()[0].rstrip("):")
    return read


def test_human_game_survives_bad_input_and_finishes():
    out: list[str] = []
    winner = human_game("greedy", 6, True, seed=0,
                        read=scripted(["xx", "z9", "a1", "hint", "undo", "c2", "undo", "help"]),
                        write=out.append)
    text = "\n".join(out)
    assert "is not a move" in text and "off the board" not in text
    assert "a1 is not legal here" in text and "hint: " in text and "nothing to undo" in text
    assert winner in ("black", "white", "draw") and "game over" in text


START_BOARD = render(Position.start(6), mark_legal=True)


def screen_board(text: str, black_to_move: bool) -> Position:
    """The position drawn by `render` (row labels, '*' legal marks and '()' last-move marks off)."""
    rows = [line[3:].replace("(", " ").replace(")", " ").replace("*", ".").split()
            for line in text.splitlines()[1:]]
    return from_diagram("\n".join(" ".join(r) for r in rows), black_to_move)


def test_human_game_screen_after_an_illegal_move():
    out: list[str] = []
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return ["a1", "quit"][len(prompts) - 1]
    human_game("greedy", 6, True, seed=0, read=read, write=out.append)
    assert out[2] == "a1 is not legal here; legal moves: c2 b3 e4 d5"
    assert prompts == ["your move (c2 b3 e4 d5): "] * 2  # same position, same choices
    assert out[1].startswith(START_BOARD) and len(out) == 4  # nothing moved, nothing redrawn


def test_human_game_undo_restores_the_position():
    out: list[str] = []
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return ["c2", "undo", "undo", "quit"][len(prompts) - 1]
    human_game("greedy", 6, True, seed=0, read=read, write=out.append)
    assert out[2].startswith(render(Position.start(6).play(parse_move("c2", 6)), 8))
    assert out[3].startswith("greedy plays ")
    assert out[-3] == out[1] and out[-3].startswith(START_BOARD)  # both plies taken back
    assert prompts[2] == prompts[0] == "your move (c2 b3 e4 d5): "
    assert out[-2] == "nothing to undo"  # history is empty again
    assert out[-1] == "game abandoned"


def test_human_game_hints_are_perfect_moves_in_the_endgame():
    """Near the end the hint comes from the oracle: it must keep the best margin (checked with
    the pure-Python solver, an independent reference)."""
    out: list[str] = []
    asked: list[Position] = []

    def read(prompt: str) -> str:
        if out[-1].startswith("hint: "):
            return prompt.split("(")[1].split()[0].rstrip("):")  # then play the first listed
        board = next(x for x in reversed(out) if x.startswith("    a  b"))
        pos = screen_board(board.split("\nBlack (X)")[0], black_to_move=True)
        if pos.empties() <= 14:
            asked.append(pos)
            return "hint"
        return prompt.split("(")[1].split()[0].rstrip("):")
    human_game("random", 6, True, seed=1, read=read, write=out.append)
    shown = [x.removeprefix("hint: ") for x in out if x.startswith("hint: ")]
    assert all(x.endswith("(perfect play)") for x in shown)  # the oracle answered each one
    hints = [parse_move(x.split()[0], 6) for x in shown]
    assert len(hints) == len(asked) >= 4
    solver, mattered = Solver(6), 0
    for pos, hint in zip(asked, hints, strict=True):
        margins = move_margins(solver, pos)
        assert margins[hint] == max(margins.values()), (move_name(hint, 6), margins)
        mattered += len(set(margins.values())) > 1
    assert mattered >= 2  # positions where a worse move was available


def test_registry_resolves_lazily_and_is_extended_without_editing_it():
    assert "alphazero" in available() and "solver" in available()
    register("first", "tests.test_othello_play:first_player", "the first legal move")
    try:
        pos = Position.start(6)
        assert make_player("first", 6).choose(pos, np.random.default_rng(0)) == 8  # c2
        with pytest.raises(PlayerSpecError, match="takes no argument"):
            make_player("first:3", 6)
    finally:
        from othello.players import registry
        registry._SPECS.pop("first")


class FirstPlayer:
    name = "first"

    def choose(self, pos, rng):
        return pos.legal_moves()[0]


def first_player(arg, size):
    if arg is not None:
        raise PlayerSpecError("first takes no argument")
    return FirstPlayer()


def test_play_script_runs_as_a_file_with_piped_input():
    proc = subprocess.run([sys.executable, "othello/play.py", "--human", "--opponent", "random"],
                          input="e9\nc2\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "off the board" in proc.stdout and "input closed" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_move_names_in_records_parse_back():
    rng = np.random.default_rng(1)
    rec = play_game(make_player("random", 8), make_player("random", 8), 8, rng)
    assert all(move_name(parse_move(m, 8), 8) == m for m in rec["moves"])
