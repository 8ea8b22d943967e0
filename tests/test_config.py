"""The config idiom: flags generated from a dataclass, presets layered, checks applied."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import pytest

from common.config import (
    ConfigError,
    add_config_flags,
    config_dict,
    config_from_args,
    config_from_dict,
    knob,
    nonnegative,
    positive,
    probability,
    validate,
)


@dataclass(frozen=True)
class Inner:
    c_puct: float = knob(1.5, "exploration constant", check=positive)
    simulations: int = knob(50, "simulations per move", check=positive)


@dataclass(frozen=True)
class Outer:
    lr: float = knob(3e-3, "learning rate", check=positive)
    noise: float = knob(0.25, "noise fraction", check=probability)
    widths: tuple[int, ...] = knob((256, 512), "widths", check=positive)
    archs: tuple[str, ...] = knob(("relu",), "architectures", choices=("relu", "topk"))
    arch: str = knob("relu", "architecture", choices=("relu", "topk"))
    gate_games: int = knob(0, "arena games", check=nonnegative)
    search: Inner = Inner()


DEFAULT = Outer()
QUICK = replace(DEFAULT, lr=1e-2, search=replace(DEFAULT.search, simulations=8))


def parse(argv: list[str], base=DEFAULT):
    p = argparse.ArgumentParser()
    add_config_flags(p, Outer, presets={"quick": QUICK})
    return config_from_args(p.parse_args(argv), Outer, base)


def test_omitted_flags_keep_the_preset_and_typed_ones_win() -> None:
    config, given = parse([], QUICK)
    assert config == QUICK and given == {}
    config, given = parse(["--simulations", "50", "--widths", "8", "16"], QUICK)
    # typing the default's value still overrides the preset: a typed 50 is not "omitted"
    assert config.search.simulations == 50 and config.lr == 1e-2
    assert config.widths == (8, 16)
    assert given == {"--simulations": 50, "--widths": (8, 16)}
    config, _ = parse(["--widths", "8", "--widths", "16", "--archs", "topk", "relu"])
    assert config.widths == (8, 16) and config.archs == ("topk", "relu")


@pytest.mark.parametrize("argv", [["--lr", "nan"], ["--lr", "inf"], ["--lr", "0"],
                                  ["--noise", "1.5"], ["--c-puct", "-1"], ["--widths", "8", "0"],
                                  ["--arch", "gated"], ["--simulations", "2.5"],
                                  ["--archs", "relu", "gated"]])
def test_bad_values_are_refused(argv, capsys) -> None:
    with pytest.raises(SystemExit):
        parse(argv)
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("flag,good,bad", [
    ("--simulations", [("3", 3)], ["0", "-1", "x", "1.5"]),  # positive int
    ("--gate-games", [("0", 0)], ["-1", "y"]),  # nonnegative int
    ("--lr", [("1e-3", 1e-3)], ["0", "-2", "nan", "z"]),  # positive float
    ("--noise", [("0", 0.0), ("1", 1.0)], ["1.5", "-0.1", "p"]),  # probability
])
def test_value_checks(flag, good, bad, capsys) -> None:
    dest = flag[2:].replace("-", "_")
    for text, value in good:
        config, _ = parse([flag, text])
        assert getattr(config.search if dest == "simulations" else config, dest) == value
    for text in bad:
        with pytest.raises(SystemExit):
            parse([flag, text])
        assert f"argument {flag}" in capsys.readouterr().err


def test_help_shows_default_and_preset() -> None:
    p = argparse.ArgumentParser()
    add_config_flags(p, Outer, presets={"quick": QUICK})
    text = p.format_help()
    assert "simulations per move (50, quick 8)" in text
    assert "learning rate (0.003, quick 0.01)" in text


def test_validate_and_round_trip() -> None:
    assert config_from_dict(Outer, config_dict(QUICK)) == QUICK
    with pytest.raises(ConfigError, match="Outer.search.c_puct"):
        validate(replace(DEFAULT, search=Inner(c_puct=float("nan"))))
    with pytest.raises(ConfigError, match="no field"):
        config_from_dict(Outer, {"lrr": 1})
