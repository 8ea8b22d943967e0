"""The project's one config idiom: a dataclass is the only source of defaults and help text.

    @dataclass(frozen=True)
    class TrainConfig:
        lr: float = knob(3e-3, "peak learning rate", check=positive)
        search: SearchConfig = SearchConfig()        # nested configs become flags too

    DEFAULT = TrainConfig()
    QUICK = replace(DEFAULT, lr=1e-2)                # presets are replace(DEFAULT, ...)

    parser = argparse.ArgumentParser(...)
    add_config_flags(parser, TrainConfig)
    config, given = config_from_args(args, TrainConfig, QUICK if args.quick else DEFAULT)

Flags are generated from the fields (`--lr`, `--c-puct` for a nested `c_puct`), shown with their
real default, parsed and checked (`check=`), and left as None when omitted, so that a preset can
tell "typed the default" from "did not type it" and `--resume` can name ignored flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

Check = Callable[[Any], str | None]  # returns why a value is bad, or None when it is fine


def knob(default: Any, help: str, check: Check | None = None,
         choices: tuple | None = None, flag: str | None = None) -> Any:
    """A dataclass field with its one-line help, an optional value check, choices and flag name.

    For a tuple field, `check` and `choices` apply to each element.
    """
    meta = {"help": help, "check": check, "choices": choices, "flag": flag}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple for sequence defaults (configs are frozen)")
    return dataclasses.field(default=default, metadata=meta)


# Value checks. Every float check rejects NaN and infinities (and so does a float knob without
# a check: `finite` is its default).
def positive(v: float) -> str | None:
    return None if _finite(v) and v > 0 else "expected a finite number > 0"


def nonnegative(v: float) -> str | None:
    return None if _finite(v) and v >= 0 else "expected a finite number >= 0"


def probability(v: float) -> str | None:
    return None if _finite(v) and 0 <= v <= 1 else "expected a value in [0, 1]"


def finite(v: float) -> str | None:
    return None if _finite(v) else "expected a finite number"


def at_least(minimum: float) -> Check:
    def check(v: float) -> str | None:
        return None if _finite(v) and v >= minimum else f"expected a number >= {minimum}"
    return check


def each(inner: Check) -> Check:
    """Apply a check to every element of a tuple value."""
    def check(values: tuple) -> str | None:
        for v in values:
            if (why := inner(v)) is not None:
                return f"{why} (got {v!r})"
        return None
    return check


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class ConfigError(ValueError):
    """A config value that fails its field's check (raised by `validate`)."""


def flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _leaf_fields(cls: type, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any, Any]]:
    """(path, field, resolved type) for every non-config field, nested configs flattened."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            out += _leaf_fields(kind, (*prefix, f.name))
        else:
            out.append(((*prefix, f.name), f, kind))
    return out


def _parser_for(kind: Any, check: Check | None, choices: tuple | None) -> tuple[Callable, dict]:
    """An argparse `type` for one annotation, plus extra add_argument keywords."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType) and type(None) in args:  # Optional[X]
        inner = next(a for a in args if a is not type(None))
        parse, extra = _parser_for(inner, check, choices)

        def optional(text: str) -> Any:
            return None if text.lower() == "none" else parse(text)
        return optional, extra
    if origin is tuple:  # check and choices apply to each element; repeated flags add up
        parse_one, extra = _parser_for(args[0], check, choices)
        return parse_one, {**extra, "nargs": "+", "action": "extend"}
    if kind is bool:
        return bool, {"action": argparse.BooleanOptionalAction}
    base: Callable[[str], Any] = {int: _int, float: _float, str: str, Path: Path}[kind]
    if kind is float and check is None:  # no float knob takes NaN or an infinity
        check = finite
    if choices is not None:
        return _checked(base, check), {"choices": choices}
    return _checked(base, check), {}


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _checked(parse: Callable[[str], Any], check: Check | None) -> Callable[[str], Any]:
    def parse_and_check(text: str) -> Any:
        value = parse(text)
        if check is not None and (why := check(value)) is not None:
            raise argparse.ArgumentTypeError(f"{why}, got {text!r}")
        return value
    parse_and_check.__name__ = getattr(parse, "__name__", "value")
    return parse_and_check


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make `parser` report a bad command line in one line (argparse prints its usage first;
    `--help` still shows it)."""
    def error(message: str) -> None:
        parser.exit(2, f"{parser.prog}: error: {message}\n")
    parser.error = error  # type: ignore[method-assign]


def add_config_flags(parser: argparse.ArgumentParser, cls: type,
                     presets: dict[str, Any] | None = None, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per (nested) field of `cls`; help shows the default and any preset values.

    Omitted flags parse as None so that `config_from_args` can layer them over a preset. Bad
    values end the program with one line (`one_line_errors`).
    """
    one_line_errors(parser)
    default = cls()
    group = parser.add_argument_group(f"{cls.__name__} (defaults shown once, from the dataclass)")
    seen: dict[str, tuple[str, ...]] = {}
    for path, f, kind in _leaf_fields(cls):
        if f.name in skip:
            continue
        flag = flag_name(f)
        if flag in seen:
            raise TypeError(f"{cls.__name__}: flag {flag} is declared twice "
                            f"({'.'.join(seen[flag])} and {'.'.join(path)})")
        seen[flag] = path
        help_text = f.metadata.get("help")
        if not help_text:
            raise TypeError(f"{cls.__name__}.{'.'.join(path)} has no help: declare it with knob()")
        shown = _show(_get(default, path))
        for name, preset in (presets or {}).items():
            value = _get(preset, path)
            if value != _get(default, path):
                shown += f", {name} {_show(value)}"
        parse, extra = _parser_for(kind, f.metadata.get("check"), f.metadata.get("choices"))
        dest = "__".join(path)
        if extra.get("action") is argparse.BooleanOptionalAction:
            group.add_argument(flag, dest=dest, default=None, help=f"{help_text} ({shown})",
                               **extra)
        else:
            group.add_argument(flag, dest=dest, type=parse, default=None,
                               metavar=_metavar(kind), help=f"{help_text} ({shown})", **extra)


def _metavar(kind: Any) -> str:
    names = {int: "INT", float: "X", str: "TEXT", Path: "PATH"}
    if typing.get_origin(kind) is tuple:
        return names.get(typing.get_args(kind)[0], "V")
    return names.get(kind, "V")


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value)


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj


def _set(obj: Any, path: tuple[str, ...], value: Any) -> Any:
    if len(path) == 1:
        return dataclasses.replace(obj, **{path[0]: value})
    child = getattr(obj, path[0])
    return dataclasses.replace(obj, **{path[0]: _set(child, path[1:], value)})


def config_from_args(args: argparse.Namespace, cls: type, base: Any
                     ) -> tuple[Any, dict[str, Any]]:
    """`base` with every flag the user typed applied; also returns {flag: value} of those flags."""
    config, given = base, {}
    for path, f, kind in _leaf_fields(cls):
        dest = "__".join(path)
        value = getattr(args, dest, None)
        if value is None:
            continue
        if typing.get_origin(kind) is tuple:
            value = tuple(value)
        config = _set(config, path, value)
        given[flag_name(f)] = value
    return config, given


def validate(config: Any) -> Any:
    """Run every field's check on a config built in code (the CLI checks as it parses)."""
    for path, f, kind in _leaf_fields(type(config)):
        check, value = f.metadata.get("check"), _get(config, path)
        if check is None and _is_float(kind):
            check = finite
        if check is not None and value is not None:
            why = each(check)(value) if isinstance(value, tuple) else check(value)
            if why is not None:
                raise ConfigError(f"{type(config).__name__}.{'.'.join(path)}: {why}, got {value!r}")
    return config


def _is_float(kind: Any) -> bool:
    """float, float | None, or tuple[float, ...]."""
    if kind is float:
        return True
    args = typing.get_args(kind)
    if typing.get_origin(kind) is tuple:
        return bool(args) and args[0] is float
    return float in args and type(None) in args


def config_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config."""
    def plain(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return plain(dataclasses.asdict(config))


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) config from `config_dict` output; unknown keys are an error."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    kwargs = {}
    for name, value in data.items():
        kind = hints[name]
        if dataclasses.is_dataclass(kind):
            value = config_from_dict(kind, value)
        elif typing.get_origin(kind) is tuple or isinstance(value, list):
            value = tuple(value)
        elif kind is Path:
            value = Path(value)
        kwargs[name] = value
    return cls(**kwargs)


def add_run_flags(parser: argparse.ArgumentParser, out: str | None = None,
                  quick: str | None = None, device: bool = False) -> None:
    """The flag vocabulary every entry point shares: --out, --quick, --no-progress and --device
    (where torch trains). `--seed` is a field of each stage's config (saved with it)."""
    if out is not None:
        parser.add_argument("--out", type=Path, default=None, help=f"output folder ({out})")
    if quick is not None:
        parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    if device:
        parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"),
                            help="torch device (cpu; auto picks cuda when present)")


def checked_type(kind: type, check: Check) -> Callable[[str], Any]:
    """An argparse `type` from a check, for the few flags that are not config fields (switches
    of a script's own driver); config fields get theirs from `add_config_flags`."""
    return _checked({int: _int, float: _float}[kind], check)
