"""Every entry point answers --help, both as `python path/to/script.py` from the repository root
and as the console script pyproject.toml declares, and none edits sys.path to find the packages."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def module_path(target: str) -> Path:
    module = target.split(":")[0]
    return ROOT / (module.replace(".", "/") + ".py")


def run_all(commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Start every command at once (each is mostly import time), then collect them."""
    procs = [subprocess.Popen(c, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for c in commands]
    return [subprocess.CompletedProcess(c, p.wait(timeout=120), *p.communicate())
            for c, p in zip(commands, procs, strict=True)]


def test_every_console_script_targets_a_main_function() -> None:
    for name, target in SCRIPTS.items():
        tree = ast.parse(module_path(target).read_text())
        funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert target.split(":")[1] in funcs, f"{name}: {target} has no such function"


def test_no_entry_point_edits_sys_path() -> None:
    for target in SCRIPTS.values():
        source = module_path(target).read_text()
        assert "sys.path" not in source, f"{module_path(target)} edits sys.path"


def test_help_from_the_repository_root() -> None:
    paths = [module_path(t).relative_to(ROOT) for t in SCRIPTS.values()]
    for path, done in zip(paths, run_all([[sys.executable, str(p), "--help"] for p in paths]),
                          strict=True):
        assert done.returncode == 0, f"python {path} --help failed: {done.stderr[-500:]}"
        assert "usage:" in done.stdout and "Traceback" not in done.stderr, path
        if "--wandb" in done.stdout:  # one wandb vocabulary: online or offline on request
            assert "--wandb-mode {online,offline}" in done.stdout, f"{path} lacks --wandb-mode"


def test_help_as_console_scripts() -> None:
    bindir = Path(sys.executable).parent
    found = {n: shutil.which(n, path=str(bindir)) for n in SCRIPTS}
    if not all(found.values()):
        pytest.skip("console scripts not installed here (`make test` installs them: "
                    "pip install -e .)")
    for name, done in zip(found, run_all([[found[n], "--help"] for n in found]), strict=True):
        assert done.returncode == 0 and "usage:" in done.stdout, f"{name}: {done.stderr[-500:]}"


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def readme_commands() -> list[list[str]]:
    """`python ...` lines of the code blocks of the README and docs/*.md, as argument lists
    (comments dropped)."""
    commands = []
    for page in DOCS:
        inside = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                inside = not inside
            elif inside and line.startswith("python "):
                commands.append(shlex.split(line.split("  #")[0].split(" # ")[0])[1:])
    return commands


def test_readme_commands_name_real_scripts_and_flags() -> None:
    """Every script or module a README or docs/ command runs exists, and takes every flag it is
    given."""
    commands = readme_commands()
    assert len(commands) > 20
    targets = sorted({" ".join(c[:2]) if c[0] == "-m" else c[0] for c in commands})
    helps = dict(zip(targets, run_all([[sys.executable, *t.split(), "--help"] for t in targets]),
                     strict=True))
    problems = []
    for command in commands:
        target = " ".join(command[:2]) if command[0] == "-m" else command[0]
        done = helps[target]
        if done.returncode != 0:
            problems.append(f"python {target} --help: {done.stderr.strip()[-200:]}")
            continue
        problems += [f"README runs `python {' '.join(command)}`, but {target} has no {flag}"
                     for flag in (a.split("=")[0] for a in command if a.startswith("--"))
                     if not re.search(rf"{re.escape(flag)}\b", done.stdout)]
    assert problems == []
