"""The feature browser in a real headless Chromium (Debian's `chromium`, driven by playwright's
Python API with `executable_path`; no browser download): generated data for a tiny SAE, served by
`python -m http.server` on a loopback port, checked against the JSON."""

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.vis_helpers import make_sae_run
from vis.browser import INSTALL_HINT, find_chromium, make_site, serve
from vis.browser import wait_feature as wait_for
from vis.generate_vis_data import main as generate

CHROMIUM = find_chromium()
playwright = pytest.importorskip(
    "playwright.sync_api", reason="needs playwright: pip install -r requirements-dev.txt")
if CHROMIUM is None:
    pytest.skip(INSTALL_HINT + " to run the browser test", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("vissite")
    folder, _, _ = make_sae_run(root)
    other = folder.parent / "relu_f4_l1_2"
    shutil.copytree(folder, other)
    (other / "metrics.json").write_text(json.dumps({"reconstruction": {"fvu": 0.5, "l0": 2.0}}))
    web = make_site(root / "web")
    assert generate(["--sae", str(folder), str(other), "--out", str(web / "data"),
                     "--shard-size", "2"]) == 0
    # a data string that would run as HTML if inserted as HTML
    shard = web / "data" / "acts" / "relu_f4_l1_2" / "shard_000.json"
    blob = json.loads(shard.read_text())
    blob["features"][1]["concept"]["label"] = "<img src=x onerror=\"document.title='pwned'\">"
    shard.write_text(json.dumps(blob))
    (web / "data" / "acts" / "relu_f4_l1_2" / "shard_001.json").write_text("{broken")
    make_site(root / "empty")
    with serve(root) as url:
        yield {"url": url, "data": web / "data"}


@pytest.fixture(scope="module")
def page(site):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield pg
        browser.close()


def shard_feature(data: Path, sae: str, fid: int, shard_size: int = 2) -> dict:
    blob = json.loads((data / "acts" / sae / f"shard_{fid // shard_size:03d}.json").read_text())
    return blob["features"][fid - blob["start"]]


def wait_feature(page, fid: int, sae: str = "acts/relu_f4_l1_1") -> None:
    wait_for(page, fid, sae)


def test_first_feature_matches_the_json(page, site, tmp_path):
    start = time.perf_counter()
    page.goto(site["url"] + "web/index.html")
    wait_feature(page, 0)
    first = time.perf_counter() - start
    assert first < 5  # generous for CI; the bench measures the real figure
    f = shard_feature(site["data"], "relu_f4_l1_1", 0)
    assert page.text_content("#feature-title") == "Feature 0 of 4"
    assert page.text_content("#freq") == f"fires on {100 * f['freq']:.2f}% of positions"
    assert f["concept"]["label"] in page.text_content("#concept")
    acts = page.locator("#top-boards .example .act").all_text_contents()
    assert acts == [f"act {t['act']:.3f}" for t in f["top"]]
    discs = page.locator("#top-boards .example").first.locator(".cell")
    assert "".join(discs.evaluate_all("cs => cs.map(c => c.dataset.disc)")) == f["top"][0]["board"]
    squares = discs.evaluate_all("cs => cs.map(c => c.dataset.square)")
    assert squares[:7] == ["a1", "b1", "c1", "d1", "e1", "f1", "a2"]  # a1 top-left, row by row
    heat = page.locator(".heatmap").first.locator(".cell")
    deltas = [float(x) for x in heat.evaluate_all("cs => cs.map(c => c.dataset.delta)")]
    assert deltas == pytest.approx(f["effect"]["add"]["policy"][:36])
    assert page.text_content('.metric[data-key="FVU"]') == "0.250"
    page.screenshot(path=str(tmp_path / "first.png"), full_page=True)


def test_navigation_deep_link_and_sae_choice(page, site):
    page.goto(site["url"] + "web/index.html#sae=acts/relu_f4_l1_1&feature=0")
    wait_feature(page, 0)
    page.click("#next")
    wait_feature(page, 1)
    assert page.evaluate("location.hash") == "#sae=acts%2Frelu_f4_l1_1&feature=1"
    page.click("#prev")
    wait_feature(page, 0)
    page.fill("#feature-id", "3")
    page.click("#go")
    wait_feature(page, 3)
    f3 = shard_feature(site["data"], "relu_f4_l1_1", 3)
    assert "never fired" in page.text_content("main")
    assert page.locator("#top-boards .example").count() == len(f3["top"]) == 0
    # similar features are links: feature 0's nearest is feature 1 (cosine 1)
    page.goto(site["url"] + "web/index.html#sae=acts/relu_f4_l1_1&feature=0")
    page.reload()
    wait_feature(page, 0)
    page.click('.similar button[data-id="1"]')
    wait_feature(page, 1)
    # deep link to another SAE and feature
    page.goto(site["url"] + "web/index.html#sae=acts/relu_f4_l1_2&feature=0")
    wait_feature(page, 0, "acts/relu_f4_l1_2")
    assert page.text_content('.metric[data-key="FVU"]') == "0.500"
    page.select_option("#sae-select", "acts/relu_f4_l1_1")
    wait_feature(page, 0)
    assert page.text_content('.metric[data-key="FVU"]') == "0.250"


def test_search_and_sort(page, site):
    page.goto(site["url"] + "web/index.html#sae=acts/relu_f4_l1_1&feature=0")
    wait_feature(page, 0)
    summary = json.loads((site["data"] / "acts" / "relu_f4_l1_1" / "summary.json").read_text())
    label = summary["concept"][2]
    page.fill("#search", label)
    ids = [int(x) for x in page.locator("#list button").evaluate_all(
        "bs => bs.map(b => b.dataset.id)")]
    assert ids == [i for i, c in enumerate(summary["concept"]) if label.lower() in c.lower()]
    page.fill("#search", "")
    page.select_option("#sort", "freq")
    ids = [int(x) for x in page.locator("#list button").evaluate_all(
        "bs => bs.map(b => b.dataset.id)")]
    assert ids == sorted(range(4), key=lambda i: (-summary["freq"][i], i))
    page.select_option("#sort", "f1")
    ids = [int(x) for x in page.locator("#list button").evaluate_all(
        "bs => bs.map(b => b.dataset.id)")]
    assert ids == sorted(range(4), key=lambda i: (-summary["f1"][i], i))


def test_text_is_inserted_as_text_and_errors_are_shown(page, site):
    page.goto(site["url"] + "web/index.html#sae=acts/relu_f4_l1_2&feature=1")
    wait_feature(page, 1, "acts/relu_f4_l1_2")
    assert "<img src=x" in page.text_content("#concept")
    assert page.locator("#feature img").count() == 0 and page.title() != "pwned"
    page.click("#next")  # feature 2 lives in the broken shard
    page.wait_for_selector("#error:not([hidden])")
    assert "shard_001.json is broken" in page.text_content("#error")
    page.goto(site["url"] + "empty/index.html")
    page.wait_for_selector("#error:not([hidden])")
    assert "No feature data found" in page.text_content("#error")
    assert "generate_vis_data.py" in page.text_content("#error")
