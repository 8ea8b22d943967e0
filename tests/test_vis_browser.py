"""The feature browser in a real headless Chromium (Debian's `chromium`, driven by playwright's
Python API with `executable_path`; no browser download): generated data for two tiny SAEs of one
grid family, served by `python -m http.server` on a loopback port, checked against the JSON and
against PyTorch. One browser for the module; each test loads few pages (the CPU is small)."""

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from othello.interp.dataset import open_dataset
from othello.interp.splice import legal_probs
from othello.rules.board import Position
from othello.rules.encoding import encode_batch
from sae.archs import load
from tests.othello_helpers import moves_to
from tests.vis_helpers import make_sae_run, make_wide_sae
from vis.browser import INSTALL_HINT, find_chromium, make_site, serve
from vis.browser import wait_feature as wait_for
from vis.generate_vis_data import main as generate

CHROMIUM = find_chromium()
playwright = pytest.importorskip(
    "playwright.sync_api", reason="needs playwright: pip install -r requirements-dev.txt")
if CHROMIUM is None:
    pytest.skip(INSTALL_HINT + " to run the browser test", allow_module_level=True)
SMALL, WIDE, TOPK = "acts/relu_f4_l1_1", "acts/relu_f24_l1_1", "acts/topk_f24_k5"


def make_topk_sae(root: Path, wide) -> Path:
    """A TopK SAE (k=5, a pre-encoder bias, scale != 1) with the wide SAE's encoder."""
    from sae.archs.topk import TopKSAE

    sae = TopKSAE(32, 24, scale=0.7, k=5)
    with torch.no_grad():
        sae.enc_weight.copy_(wide.enc_weight)
        sae.enc_bias.copy_(torch.linspace(-0.5, 0.5, 24))
        sae.dec_weight.copy_(wide.dec_weight / wide.dec_weight.norm(dim=1, keepdim=True))
        sae.dec_bias.copy_(torch.randn(32, generator=torch.Generator().manual_seed(4)))
    folder = root / "sae" / "topk_f24_k5"
    folder.mkdir(parents=True)
    sae.save(folder / "sae.pt")
    meta = {"config": {"arch": "topk", "n_features": 24, "sparsity": {"k": 5}},
            "data": {"acts": str(root / "acts" / "acts_block2.npy"), "layer": 2}}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("vissite")
    folder, sae, net = make_sae_run(root)
    ds = open_dataset(root / "acts")
    wide_folder, wide = make_wide_sae(root, net, torch.from_numpy(np.array(ds.acts())))
    other = folder.parent / "relu_f4_l1_2"
    shutil.copytree(folder, other)
    (other / "metrics.json").write_text(json.dumps({"reconstruction": {"fvu": 0.5, "l0": 2.0}}))
    topk_folder = make_topk_sae(root, wide)
    web = make_site(root / "web")
    assert generate(["--sae", str(folder), str(other), str(wide_folder), str(topk_folder), "--out",
                     str(web / "data"), "--shard-size", "2", "--no-progress"]) == 0
    # a data string that would run as HTML if inserted as HTML
    shard = web / "data" / "acts" / "relu_f4_l1_2" / "shard_000.json"
    blob = json.loads(shard.read_text())
    blob["features"][1]["concepts"][0]["label"] = "<img src=x onerror=\"document.title='pwned'\">"
    shard.write_text(json.dumps(blob))
    (web / "data" / "acts" / "relu_f4_l1_2" / "shard_001.json").write_text("{broken")
    # a copy whose example boards are corrupt and whose encoder is missing
    broken = make_site(root / "broken")
    shutil.copytree(web / "data", broken / "data")
    (broken / "data" / "acts" / "positions.json").write_text("[1, 2")
    (broken / "data" / SMALL / "encoder.bin").unlink()
    make_site(root / "empty")
    with serve(root) as url:
        yield {"url": url, "data": web / "data", "sae": sae, "wide": wide, "net": net, "ds": ds,
               "topk": load(topk_folder / "sae.pt")}


@pytest.fixture(scope="module")
def page(site):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield pg
        browser.close()


def record(data: Path, sae: str, fid: int, shard_size: int = 2) -> dict:
    blob = json.loads((data / sae / f"shard_{fid // shard_size:03d}.json").read_text())
    return blob["features"][fid - blob["start"]]


def summary(data: Path, sae: str) -> dict:
    return json.loads((data / sae / "summary.json").read_text())


def wait_feature(page, fid: int, sae: str = SMALL) -> None:
    wait_for(page, fid, sae)


def list_ids(page) -> list[int]:
    return [int(x) for x in page.locator("#list button").evaluate_all(
        "bs => bs.map(b => b.dataset.id)")]


def test_feature_view_matches_the_json(page, site, tmp_path):
    start = time.perf_counter()
    page.goto(site["url"] + f"web/index.html#sae={SMALL}")
    wait_feature(page, 0)
    assert time.perf_counter() - start < 5  # generous for CI; the bench measures the real figure
    f = record(site["data"], SMALL, 0)
    table = json.loads((site["data"] / "acts" / "positions.json").read_text())
    assert page.text_content("#feature-title") == "Feature 0 of 4"
    assert page.text_content("#freq") == f"fires on {100 * f['freq']:.2f}% of positions"
    # best and second-best concept with precision, recall, F1
    rows = page.locator("#concept .concept-row").all_text_contents()
    assert len(rows) == 2 and len(f["concepts"]) == 2
    for text, c in zip(rows, f["concepts"], strict=True):
        assert c["label"] in text and f"F1 {c['f1']:.3f}" in text
        assert f"precision {c['precision']:.3f}" in text and f"recall {c['recall']:.3f}" in text
    # 24 top boards, 10 deciles x 5, the weakest; boards, legal moves and last moves
    acts = page.locator("#top-boards .example .act").all_text_contents()
    assert acts == [f"act {a:.3f}" for _, a in f["top"]] and len(acts) == 24
    page.wait_for_selector('#feature[data-complete="1"]')  # the boards below the fold follow
    assert page.locator("#band-boards .example").count() == sum(
        len(b) for b in f["bands"]) == 50
    assert page.locator("#weakest-boards .example").count() == len(f["weakest"]) == 5
    legal = site["ds"].legal()
    first = page.locator("#top-boards .example").first
    row = f["top"][0][0]
    cells = first.locator(".cell")
    assert "".join(cells.evaluate_all("cs => cs.map(c => c.dataset.disc)")) == \
        table["board"][table["row"].index(row)]
    assert cells.evaluate_all("cs => cs.map(c => c.dataset.square)")[:7] == [
        "a1", "b1", "c1", "d1", "e1", "f1", "a2"]  # a1 top-left, row by row
    for ex in page.locator(".example").all()[:40]:  # the page's rules against the dataset's
        r = int(ex.get_attribute("data-row"))
        assert ex.get_attribute("data-legal") == ",".join(map(str, np.flatnonzero(legal[r])))
    concept_sq = f["concepts"][0]["label"].split()[0]
    assert first.locator(".cell.concept").get_attribute("data-square") == concept_sq
    # square maps against the JSON and the base rates
    mine = page.locator('.squaremap[data-map="mine"] .cell')
    p = [float(x) for x in mine.evaluate_all("cs => cs.map(c => c.dataset.p)")]
    assert p == pytest.approx(np.array(f["maps"]["mine"]) / 1000)
    base = summary(site["data"], SMALL)["base"]
    empty = page.locator('.squaremap[data-map="empty"] .cell')
    e = [float(x) for x in empty.evaluate_all("cs => cs.map(c => c.dataset.base)")]
    assert e == pytest.approx(1 - (np.array(base["mine"]) + base["theirs"]) / 1000, abs=1e-6)
    assert page.locator('.squaremap .cell.concept').count() == 4
    # effect panels with fractional points, never "-0"
    heat = page.locator(".heatmap").first.locator(".cell")
    deltas = [float(x) for x in heat.evaluate_all("cs => cs.map(c => c.dataset.delta)")]
    add = np.array(f["effect"]["add"]["policy_e4"]) / 1e4
    assert deltas == pytest.approx(add[:36])
    texts = heat.locator("span").all_text_contents()
    assert texts and all("." in t and float(t) != 0 for t in texts)
    assert any(abs(float(t)) < 1 for t in texts)  # small changes keep their fraction
    moves = page.text_content("#moves")
    assert f"added promotes: c2 +{100 * add.max():.1f}pp" in moves and add.argmax() == 8
    # histogram: axes, counts, log option
    counts = [int(x) for x in page.locator(".hist rect").evaluate_all(
        "rs => rs.map(r => r.dataset.count)")]
    assert counts == f["hist"]["counts"]
    assert page.locator(".hist .ytick").last.text_content() == str(max(counts))
    assert page.locator(".hist .xtick").last.text_content() == f"{f['hist']['max']:.2f}"
    assert page.text_content("#hist-total").startswith(f"{sum(counts)} firing rows")
    page.check("#hist-log")
    page.wait_for_selector('.hist[data-log="1"]')
    assert "log=1" in page.evaluate("location.hash")
    assert [t.text_content() for t in page.locator(".hist .ytick").all()][:3] == ["0", "1", "10"]
    # mine / theirs colours
    page.select_option("#colours", "mine")
    assert first.locator(".cell.black").count() == 0
    assert page.locator("#top-boards .example").first.locator(".cell.mine").count() > 0
    page.screenshot(path=str(tmp_path / "feature.png"), full_page=True)


def test_neighbours_families_keyboard_and_deep_links(page, site):
    page.set_viewport_size({"width": 1400, "height": 420})
    page.goto(site["url"] + f"web/index.html#sae={WIDE}&feature=0")
    wait_feature(page, 0, WIDE)
    page.keyboard.press("ArrowRight")
    wait_feature(page, 1, WIDE)
    assert page.evaluate("location.hash") == "#sae=acts%2Frelu_f24_l1_1&feature=1"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_feature(page, 23, WIDE)  # wraps to the end of the order
    # the list scrolls to the current feature
    inside = page.evaluate("""() => {
        const l = document.getElementById('list').getBoundingClientRect();
        const b = document.querySelector('#list button.current').getBoundingClientRect();
        return [b.top >= l.top - 1 && b.bottom <= l.bottom + 1,
                document.getElementById('list').scrollTop];
    }""")
    assert inside[0] and inside[1] > 0
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.press("Escape")
    page.set_viewport_size({"width": 1400, "height": 1000})
    # co-activation and family links
    f = record(site["data"], WIDE, 5)
    page.goto(site["url"] + f"web/index.html#sae={WIDE}&feature=5")
    wait_feature(page, 5, WIDE)
    coact = [int(x) for x in page.locator(".coact button").evaluate_all(
        "bs => bs.map(b => b.dataset.id)")]
    assert coact == [c[0] for c in f["coact"]] and coact
    index = json.loads((site["data"] / "index.json").read_text())
    family = next(e["family"] for e in index["saes"] if e["id"] == WIDE)
    assert sorted(family) == ["acts/relu_f4_l1_1", "acts/relu_f4_l1_2"]  # both 4 wide
    matches = f["family"][family.index(SMALL)]
    fam = page.locator(f'.family[data-sae="{SMALL}"] button')
    assert [int(x) for x in fam.evaluate_all("bs => bs.map(b => b.dataset.id)")] == [
        m[0] for m in matches]
    fam.first.click()
    wait_feature(page, matches[0][0], SMALL)
    nearest = record(site["data"], SMALL, matches[0][0])["similar"][0][0]
    page.click(f'.similar button[data-id="{nearest}"]')
    wait_feature(page, nearest, SMALL)
    # deep links to another SAE, and the SAE menu
    page.goto(site["url"] + "web/index.html#sae=acts/relu_f4_l1_2&feature=0")
    wait_feature(page, 0, "acts/relu_f4_l1_2")
    assert page.text_content('.metric[data-key="FVU"]') == "0.500"
    page.select_option("#sae-select", SMALL)
    wait_feature(page, 0)
    assert page.text_content('.metric[data-key="FVU"]') == "0.250"
    # a deep link keeps search, filter and order
    page.goto(site["url"] + f"web/index.html#sae={WIDE}&feature=2&q=legal&sort=freq")
    wait_feature(page, 2, WIDE)
    assert page.input_value("#search") == "legal" and page.input_value("#sort") == "freq"


def test_search_words_filters_and_orders(page, site):
    s = summary(site["data"], WIDE)
    page.goto(site["url"] + f"web/index.html#sae={WIDE}&feature=0")
    wait_feature(page, 0, WIDE)
    labels = [f"{a} | {b}".lower() for a, b in zip(s["concept"], s["concept2"], strict=True)]

    def squares(label: str) -> list[str]:
        return [w for w in label.replace("|", " ").split() if len(w) == 2 and w[1].isdigit()]
    words = {
        "corner": lambda i: any(q in ("a1", "f1", "a6", "f6") for q in squares(labels[i])),
        "edge": lambda i: any(q[0] in "af" or q[1] in "16" for q in squares(labels[i])),
        "legal": lambda i: "legal" in labels[i],
        "mine": lambda i: "mine" in labels[i],
        "wins": lambda i: "wins" in labels[i],
    }
    found = 0
    for word, match in words.items():
        page.fill("#search", word)
        want = [i for i in range(24) if match(i)]
        assert list_ids(page) == want, word
        found += bool(want)
    assert found >= 3
    sq = squares(labels[0])[0]
    page.fill("#search", f"{sq} " + labels[0].split()[1])  # two words: both must match
    assert 0 in list_ids(page)
    page.fill("#search", "")
    dense, unexplained = s["thresholds"]["dense"], s["thresholds"]["unexplained"]
    for name, keep in (("dead", lambda i: s["freq"][i] == 0),
                       ("dense", lambda i: s["freq"][i] > dense),
                       ("unexplained", lambda i: s["freq"][i] > 0 and s["f1"][i] < unexplained)):
        page.select_option("#filter", name)
        assert list_ids(page) == [i for i in range(24) if keep(i)], name
    assert list_ids(page) != []
    page.select_option("#filter", "all")
    page.select_option("#sort", "freq")
    assert list_ids(page) == sorted(range(24), key=lambda i: (-s["freq"][i], i))
    page.select_option("#sort", "f1")
    assert list_ids(page) == sorted(range(24), key=lambda i: (-s["f1"][i], i))


def _torch_outputs(net, sae, positions: list[Position]) -> dict[str, np.ndarray]:
    planes, legal = encode_batch(positions)
    with torch.no_grad():
        stream = net.residual_stream(torch.from_numpy(planes))
        logits, value = net(torch.from_numpy(planes))
        probs = legal_probs(logits, torch.from_numpy(legal))
        latents = sae.encode(stream[:, 2])
    return {"logits": logits.numpy(), "probs": probs.numpy(), "value": value.numpy(),
            "latents": latents.numpy()}


def test_live_forward_pass_matches_pytorch(page, site):
    rng = np.random.default_rng(0)
    games = [moves_to(6, int(e), rng) for e in rng.integers(1, 30, size=60)]
    games[0] = (Position.start(6), [])
    page.goto(site["url"] + f"web/index.html#sae={WIDE}&view=position")
    page.wait_for_selector('#live[data-state="ready"]')
    got = page.evaluate("async (lists) => { const out = []; for (const m of lists) "
                        "out.push(await window.vis.evaluate(m)); return out; }",
                        [" ".join(m) for _, m in games])
    want = _torch_outputs(site["net"], site["wide"], [p for p, _ in games])
    for key in ("logits", "probs", "latents"):
        np.testing.assert_allclose(np.array([g[key] for g in got]), want[key], atol=1e-4,
                                   err_msg=key)
    np.testing.assert_allclose([g["value"] for g in got], want["value"], atol=1e-4)
    assert (want["latents"] > 0).sum() > 100  # the check covers many firing latents
    # a TopK SAE (k largest, pre-encoder bias subtracted, input scale)
    page.goto(site["url"] + f"web/index.html#sae={TOPK}&view=position")
    page.wait_for_selector('#live[data-state="ready"]')
    got_k = page.evaluate("async (lists) => { const out = []; for (const m of lists) "
                          "out.push((await window.vis.evaluate(m)).latents); return out; }",
                          [" ".join(m) for _, m in games])
    want_k = _torch_outputs(site["net"], site["topk"], [p for p, _ in games])["latents"]
    np.testing.assert_allclose(np.array(got_k), want_k, atol=1e-4)
    assert ((want_k > 0).sum(1) == 5).mean() > 0.5
    page.goto(site["url"] + f"web/index.html#sae={WIDE}&view=position")
    page.wait_for_selector('#live[data-state="ready"]')
    # through the page: a pasted move list, then a click on the board
    pos, moves = games[1]
    page.fill("#moves-input", ", ".join(moves))
    page.press("#moves-input", "Enter")
    page.wait_for_selector(f'#live[data-moves="{" ".join(moves)}"][data-state="ready"]')
    active = [int(x) for x in page.locator("#live-features button").evaluate_all(
        "bs => bs.map(b => b.dataset.id)")]
    lat = want["latents"][1]
    assert active == sorted(np.flatnonzero(lat > 0), key=lambda j: (-lat[j], j))
    assert float(page.get_attribute("#live-value", "data-value")) == pytest.approx(
        want["value"][1], abs=1e-4)
    page.click("#moves-reset")
    page.wait_for_selector('#live[data-moves=""][data-state="ready"]')
    page.click('#live-board .cell[data-square="c2"]')
    page.wait_for_selector('#live[data-moves="c2"][data-state="ready"]')
    assert "moves=c2" in page.evaluate("location.hash")
    page.click("#live-features button >> nth=0")  # a feature link
    page.wait_for_selector(f'#feature[data-sae="{WIDE}"]')
    # an example board opens in the live view
    page.locator("#top-boards .analyse").first.click()
    page.wait_for_selector('#live[data-state="ready"]')
    assert "board=" in page.evaluate("location.hash")


def test_bad_input_and_broken_files_show_messages(page, site):
    page.goto(site["url"] + f"web/index.html#sae={SMALL}&view=position&moves=c2")
    page.wait_for_selector('#live[data-moves="c2"][data-state="ready"]')
    for text, message in (("c2 z9", "ply 2 (white): 'z9' is not a move"),
                          ("c2 a1", "ply 2 (white): a1 is not a legal move here"),
                          ("c2 b9", "off the board")):
        page.fill("#moves-input", text)
        page.click("#moves-play")
        page.wait_for_selector("#moves-error:not([hidden])")
        assert message in page.text_content("#moves-error")
        assert page.locator("#live-board .cell").count() == 36  # the last good position stays
    # an HTML payload in a label is shown as text
    page.goto(site["url"] + "web/index.html#sae=acts/relu_f4_l1_2&feature=1")
    wait_feature(page, 1, "acts/relu_f4_l1_2")
    assert "<img src=x" in page.text_content("#concept")
    assert page.locator("#feature img").count() == 0 and page.title() != "pwned"
    page.click("#next")  # feature 2 lives in the broken shard
    page.wait_for_selector("#error:not([hidden])")
    assert "shard_001.json is broken" in page.text_content("#error")
    # corrupt example boards: a message, and the feature without its boards
    page.goto(site["url"] + f"broken/index.html#sae={SMALL}&feature=0")
    wait_feature(page, 0)
    assert "positions.json is broken" in page.text_content("#error")
    assert page.locator("#top-boards .missing").count() == 24
    # a missing encoder: the live view says so
    page.goto(site["url"] + f"broken/index.html#sae={SMALL}&view=position")
    page.wait_for_selector('#live[data-state="error"]')
    assert "encoder.bin" in page.text_content("#error") and "HTTP 404" in page.text_content(
        "#error")
    page.goto(site["url"] + "empty/index.html")
    page.wait_for_selector("#error:not([hidden])")
    assert "No feature data found" in page.text_content("#error")
    assert "generate_vis_data.py" in page.text_content("#error")
