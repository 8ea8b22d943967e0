"""The README's Python snippet runs: it is extracted from the README and executed, with the
demo's SAE path pointed at an SAE saved here (same shape), and the path it names is one the
demo's quick grid writes."""

import contextlib
import io
import re
from pathlib import Path

import torch

import sae
from sae.grid import expand, grid_config

ROOT = Path(__file__).resolve().parent.parent


def snippet() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"\*\*From Python\*\*.*?```python\n(.*?)```", text, re.S).group(1)


def test_the_readme_snippet_runs_and_patches_a_feature(tmp_path, monkeypatch):
    code = snippet()
    path = re.search(r'sae\.load\("(runs/sae/agent-quick/([^"]+))"\)', code)
    _, _, quick = grid_config()
    assert path.group(2) in {c.name for c in expand(quick)}  # what `make demo` trains
    model = sae.build("topk", 256, 512, scale=0.5, k=32)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(0)) * 0.1)
    model.save(tmp_path / "sae")
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace(path.group(1), str(tmp_path / "sae")), {})
    line = re.fullmatch(r"feature (\d+): value ([+-]\d\.\d{3}) -> ([+-]\d\.\d{3}) without it\n",
                        out.getvalue())
    assert line is not None, out.getvalue()
    assert 0 <= int(line.group(1)) < 512 and line.group(2) != line.group(3)
