// Feature browser: static files only. Reads data/index.json, then per SAE data/<id>/summary.json
// (arrays over features, for ordering and search) and lazily the shard holding a feature.
// Every data string goes in with textContent; nothing is inserted as HTML.
"use strict";

const state = { index: null, sae: null, summary: null, order: [], feature: 0 };
const shardCache = new Map();  // url -> Promise of parsed shard
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function clearError() { $("error").hidden = true; $("error").textContent = ""; }

async function fetchJson(url, what) {
  let response;
  try {
    response = await fetch(url, { cache: "no-cache" });
  } catch (err) {
    throw new Error(`Could not load ${what} (${url}): ${err.message}`);
  }
  if (!response.ok) throw new Error(`Could not load ${what} (${url}): HTTP ${response.status}`);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`The ${what} ${url} is broken: not valid JSON (${err.message}).`);
  }
}

const fmt = (x, digits = 3) => (typeof x === "number" ? x.toFixed(digits) : "-");
const pct = (x) => (typeof x === "number" ? (100 * x).toFixed(2) + "%" : "-");

function squareName(sq, n) {
  if (sq === n * n) return "pass";
  return String.fromCharCode(97 + (sq % n)) + (Math.floor(sq / n) + 1);
}

// ----- boards (a1 top-left, columns a.., rows 1.. downwards, X black, O white)
function boardGrid(n, cellFor) {
  const grid = el("div", { class: "board", style: `--n:${n}` });
  grid.append(el("div", { class: "label" }));
  for (let c = 0; c < n; c++) grid.append(el("div", { class: "label", text: String.fromCharCode(97 + c) }));
  for (let r = 0; r < n; r++) {
    grid.append(el("div", { class: "label", text: String(r + 1) }));
    for (let c = 0; c < n; c++) grid.append(cellFor(r * n + c));
  }
  return grid;
}

function drawBoard(ex) {
  const n = Math.round(Math.sqrt(ex.board.length));
  const legal = new Set(ex.legal);
  return boardGrid(n, (sq) => {
    const ch = ex.board[sq];
    const cell = el("div", { class: "cell", "data-square": squareName(sq, n), "data-disc": ch });
    if (ch === "X") cell.append(el("div", { class: "disc black" }));
    else if (ch === "O") cell.append(el("div", { class: "disc white" }));
    else if (legal.has(sq)) cell.classList.add("legal");
    if (sq === ex.last_move) cell.classList.add("last");
    return cell;
  });
}

function exampleView(ex, n) {
  const side = ex.black_to_move ? "X (black) to move" : "O (white) to move";
  const last = ex.last_move >= 0 ? `, last ${squareName(ex.last_move, n)}` : "";
  return el("div", { class: "example", "data-row": ex.row, "data-act": ex.act }, [
    el("div", { class: "act", text: `act ${fmt(ex.act)}` }),
    ...(ex.band === undefined ? [] : [el("div", { class: "band", text: `quantile band ${ex.band + 1}` })]),
    drawBoard(ex),
    el("div", { text: side + last }),
  ]);
}

// ----- policy effect heat map: red promoted, blue suppressed
function heatColour(v, vmax) {
  const a = Math.min(1, Math.abs(v) / (vmax || 1));
  const [r, g, b] = v >= 0 ? [214, 39, 40] : [31, 119, 180];
  const mix = (c) => Math.round(255 + (c - 255) * a);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

function heatMap(policy, title, value) {
  const n = Math.round(Math.sqrt(policy.length - 1));
  const vmax = Math.max(1e-6, ...policy.map(Math.abs));
  const grid = boardGrid(n, (sq) => {
    const cell = el("div", { class: "cell", "data-square": squareName(sq, n), "data-delta": policy[sq] });
    cell.style.background = heatColour(policy[sq], vmax);
    if (Math.abs(policy[sq]) >= 0.1 * vmax) cell.append(el("span", { text: (100 * policy[sq]).toFixed(0) }));
    return cell;
  });
  grid.classList.add("heat");
  return el("div", { class: "panel heatmap" }, [
    el("h3", { text: title }), grid,
    el("div", { class: "passcell", text: `pass ${(100 * policy[n * n]).toFixed(1)} pp` }),
    el("div", { class: "value", text: `value ${value >= 0 ? "+" : ""}${fmt(value)}` }),
  ]);
}

function moveList(label, moves) {
  const text = moves.length ? moves.map((m) => `${m.name} ${(100 * m.delta).toFixed(1)}pp`).join(", ") : "none";
  return el("div", { class: "moves" }, [el("b", { text: label + ": " }), el("span", { text })]);
}

// ----- histogram as inline SVG
function histogram(hist) {
  const ns = "http://www.w3.org/2000/svg";
  const w = 260, h = 90, counts = hist.counts, top = Math.max(1, ...counts);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", h + 16); svg.setAttribute("class", "hist");
  const bw = w / counts.length;
  counts.forEach((c, i) => {
    const bh = (h * c) / top;
    const rect = document.createElementNS(ns, "rect");
    for (const [k, v] of Object.entries({ x: i * bw, y: h - bh, width: bw - 1, height: bh, fill: "#3a7d44" })) rect.setAttribute(k, v);
    const tip = document.createElementNS(ns, "title");
    tip.textContent = `${fmt((i * hist.max) / counts.length, 2)}-${fmt(((i + 1) * hist.max) / counts.length, 2)}: ${c}`;
    rect.append(tip);
    svg.append(rect);
  });
  for (const [x, label, anchor] of [[0, "0", "start"], [w, fmt(hist.max, 2), "end"]]) {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", x); t.setAttribute("y", h + 12); t.setAttribute("font-size", "10");
    t.setAttribute("text-anchor", anchor); t.textContent = label;
    svg.append(t);
  }
  return el("div", { class: "panel" }, [el("h3", { text: "Activation histogram (firing rows)" }), svg]);
}

// ----- SAE and feature loading
function saeUrl(sae) { return `data/${sae.id}/`; }

async function loadShard(sae, id) {
  const s = Math.floor(id / state.summary.shard_size);
  const url = `${saeUrl(sae)}shard_${String(s).padStart(3, "0")}.json`;
  if (!shardCache.has(url)) {
    const p = fetchJson(url, "feature shard");
    shardCache.set(url, p);
    p.catch(() => shardCache.delete(url));
  }
  const shard = await shardCache.get(url);
  const rec = shard.features && shard.features[id - shard.start];
  if (!rec || rec.id !== id) throw new Error(`feature shard ${url} is broken: feature ${id} is missing`);
  return rec;
}

function renderMetrics(sae) {
  const box = $("sae-metrics");
  box.replaceChildren();
  const m = sae.metrics || {};
  const rec = m.reconstruction || {}, splice = m.splice || {}, conc = (m.concepts || {}).board || {};
  const sparsity = Object.entries(sae.sparsity || {}).map(([k, v]) => `${k}=${v}`).join(" ");
  const items = [["arch", sae.arch], ["features", sae.n_features], ["sparsity", sparsity],
    ["L0", fmt(rec.l0, 1)], ["FVU", fmt(rec.fvu)], ["dead", pct(rec.dead_fraction)],
    ["policy KL recovered", fmt(splice.policy_kl_recovered_vs_mean)],
    ["board coverage", fmt(conc.coverage)], ["board reconstruction", fmt(conc.reconstruction)]];
  for (const [k, v] of items) box.append(el("span", {}, [el("b", { text: k + " " }), el("span", { class: "metric", "data-key": k, text: String(v) })]));
}

function computeOrder() {
  const s = state.summary, n = s.n_features;
  const query = $("search").value.trim().toLowerCase();
  let ids = Array.from({ length: n }, (_, i) => i);
  if (query) ids = ids.filter((i) => s.concept[i].toLowerCase().includes(query));
  const key = $("sort").value;
  if (key === "freq") ids.sort((a, b) => s.freq[b] - s.freq[a] || a - b);
  if (key === "f1") ids.sort((a, b) => s.f1[b] - s.f1[a] || a - b);
  state.order = ids;
  $("match-count").textContent = query ? `${ids.length} match${ids.length === 1 ? "" : "es"}` : "";
  renderList();
}

function renderList() {
  const list = $("list"), s = state.summary;
  list.replaceChildren();
  for (const i of state.order.slice(0, 300)) {
    const b = el("button", { "data-id": i, onclick: () => go(i),
      text: `#${i}  ${pct(s.freq[i])}  ${s.concept[i]} (F1 ${fmt(s.f1[i], 2)})` });
    if (i === state.feature) b.classList.add("current");
    list.append(b);
  }
  if (state.order.length > 300) list.append(el("div", { text: `… ${state.order.length - 300} more` }));
}

function renderFeature(f) {
  const s = state.summary, box = $("feature");
  const n = f.top.length ? Math.round(Math.sqrt(f.top[0].board.length)) : Math.round(Math.sqrt(f.effect.add.policy.length - 1));
  const eff = f.effect;
  box.replaceChildren(
    el("h2", { id: "feature-title", text: `Feature ${f.id} of ${s.n_features}` }),
    el("div", { class: "facts" }, [
      el("span", { id: "freq", text: `fires on ${pct(f.freq)} of positions` }),
      el("span", { id: "mean-act", text: `mean activation when firing ${fmt(f.mean_act)}` }),
      el("span", { id: "max-act", text: `max ${fmt(f.max_act)}` }),
      el("span", { id: "concept", text: `best concept: ${f.concept.label} (F1 ${fmt(f.concept.f1)} at t=${f.concept.t})` }),
    ]),
    el("div", { class: "row" }, [
      histogram(f.hist),
      heatMap(eff.add.policy, `Policy change when added (x${fmt(eff.scale, 2)})`, eff.add.value),
      heatMap(eff.remove.policy, "Policy change when removed (top boards)", eff.remove.value),
      el("div", { class: "panel" }, [
        el("h3", { text: "Moves" }),
        moveList("added promotes", eff.add.promotes), moveList("added suppresses", eff.add.suppresses),
        moveList("removed promotes", eff.remove.promotes), moveList("removed suppresses", eff.remove.suppresses),
        el("h3", { text: "Similar features (decoder cosine)" }),
        el("div", { class: "similar" }, f.similar.map((x) =>
          el("button", { "data-id": x.id, onclick: () => go(x.id), text: `#${x.id} (${fmt(x.cos, 2)})` }))),
      ]),
    ]),
    el("h3", { text: f.top.length ? "Top activating boards" : "Top activating boards: this feature never fired" }),
    el("div", { class: "boards", id: "top-boards" }, f.top.map((ex) => exampleView(ex, n))),
    el("h3", { text: "Samples from activation quantiles" }),
    el("div", { class: "boards", id: "quantile-boards" }, f.quantiles.map((ex) => exampleView(ex, n))),
  );
  box.dataset.featureId = String(f.id);
  box.dataset.sae = state.sae.id;
}

let renderToken = 0;
async function showFeature(id) {
  const token = ++renderToken;
  state.feature = id;
  $("feature-id").value = id;
  for (const b of $("list").querySelectorAll("button")) b.classList.toggle("current", Number(b.dataset.id) === id);
  try {
    const f = await loadShard(state.sae, id);
    if (token !== renderToken) return;
    clearError();
    renderFeature(f);
  } catch (err) {
    if (token !== renderToken) return;
    $("feature").replaceChildren();
    showError(err.message);
  }
}

function writeHash() {
  const hash = `#sae=${encodeURIComponent(state.sae.id)}&feature=${state.feature}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

function go(id) {
  if (!state.summary) return;
  const n = state.summary.n_features;
  if (!Number.isInteger(id) || id < 0 || id >= n) {
    showError(`No feature ${id}: this SAE has features 0 to ${n - 1}.`);
    return;
  }
  showFeature(id).then(writeHash);
}

async function selectSae(id, feature = 0) {
  const sae = state.index.saes.find((s) => s.id === id);
  if (!sae) { showError(`Unknown SAE "${id}" in the link; choose one from the list.`); return; }
  state.sae = sae;
  $("sae-select").value = id;
  renderMetrics(sae);
  try {
    state.summary = await fetchJson(`${saeUrl(sae)}summary.json`, "SAE summary");
  } catch (err) {
    state.summary = null;
    $("feature").replaceChildren(); $("list").replaceChildren();
    showError(err.message);
    return;
  }
  computeOrder();
  go(Math.min(feature, state.summary.n_features - 1));
}

function step(delta) {
  const pos = state.order.indexOf(state.feature);
  if (!state.order.length) return;
  const next = pos < 0 ? state.order[0] : state.order[(pos + delta + state.order.length) % state.order.length];
  go(next);
}

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  return { sae: p.get("sae"), feature: p.has("feature") ? Number(p.get("feature")) : 0 };
}

async function restoreFromHash() {
  const h = readHash();
  const saeId = h.sae || state.index.saes[0].id;
  if (!state.sae || state.sae.id !== saeId) await selectSae(saeId, Number.isInteger(h.feature) ? h.feature : 0);
  else if (h.feature !== state.feature) go(h.feature);
}

async function main() {
  try {
    state.index = await fetchJson("data/index.json", "the SAE index");
  } catch (err) {
    showError(`No feature data found. ${err.message}\nGenerate it with: python vis/generate_vis_data.py ` +
      "(then serve this folder: cd vis && python -m http.server).");
    return;
  }
  if (!Array.isArray(state.index.saes) || !state.index.saes.length) {
    showError("data/index.json lists no SAEs: run python vis/generate_vis_data.py.");
    return;
  }
  const select = $("sae-select");
  for (const s of state.index.saes) select.append(el("option", { value: s.id, text: s.id }));
  select.addEventListener("change", () => selectSae(select.value, 0));
  $("go").addEventListener("click", () => go(Number($("feature-id").value)));
  $("feature-id").addEventListener("keydown", (e) => { if (e.key === "Enter") go(Number($("feature-id").value)); });
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("random").addEventListener("click", () => {
    if (state.order.length) go(state.order[Math.floor(Math.random() * state.order.length)]);
  });
  $("sort").addEventListener("change", computeOrder);
  $("search").addEventListener("input", computeOrder);
  window.addEventListener("hashchange", restoreFromHash);
  await restoreFromHash();
}

main();
