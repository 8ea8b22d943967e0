"""Serve the feature browser and find a local Chromium: shared by the browser test, the bench and
the screenshots (no browser download: Debian's `chromium` driven by playwright's Python API)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VIS = Path(__file__).resolve().parent
PAGE_FILES = ("index.html", "othello.js", "app.js", "style.css")
INSTALL_HINT = ("no Chromium found: install it with `sudo apt-get install -y chromium` "
                "(Debian/Ubuntu)")


def find_chromium() -> str | None:
    """Path of a Chromium executable, or None."""
    for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if p and Path(p).is_file():
            return p
    return None


def make_site(folder: Path, data: Path | None = None) -> Path:
    """Copy the page into `folder`, with `data` linked as its data/ folder (when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copy(VIS / name, folder / name)
    if data is not None and data.resolve() != (folder / "data").resolve():
        (folder / "data").symlink_to(data.resolve(), target_is_directory=True)
    return folder


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """`python -m http.server` on a free loopback port; yields the base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1", "--directory", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("python -m http.server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait()


def wait_feature(page, fid: int, sae: str, timeout_ms: int = 10_000) -> None:
    """Block until the page shows feature `fid` of SAE `sae`."""
    page.wait_for_selector(f'#feature[data-feature-id="{fid}"][data-sae="{sae}"]',
                           timeout=timeout_ms)
