"""The install files agree: pyproject's runtime dependencies are exactly requirements.txt's pins
(what `make demo` installs), its dev and interop extras exactly requirements-dev.txt's (what
`make test` adds), test tools are not runtime dependencies, and torch keeps its CPU-wheel pin."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def names(specs: list[str]) -> set[str]:
    return {re.split(r"[=<>!~\[ ]", s)[0] for s in specs}


def test_runtime_dependencies_are_the_pinned_requirements() -> None:
    assert names(PROJECT["dependencies"]) == set(pins("requirements.txt"))
    assert "torch==2.13.0" in PROJECT["dependencies"]
    assert pins("requirements.txt")["torch"] == "2.13.0"
    assert not {"pytest", "ruff", "playwright", "sae-lens"} & names(PROJECT["dependencies"])


def test_dev_and_interop_extras_are_the_dev_requirements() -> None:
    extras = PROJECT["optional-dependencies"]
    dev = dict(s.split("==") for s in extras["dev"] + extras["interop"])
    assert dev == pins("requirements-dev.txt")
    assert {"pytest", "ruff", "playwright"} <= set(dev) and "sae-lens" in dev


def test_make_test_installs_the_dev_requirements() -> None:
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: \$\(DEV_STAMP\)", make, re.M)
    assert re.search(r"^\$\(DEV_STAMP\):.*\n(\t.*\n)*\t.*-r requirements-dev\.txt", make, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
