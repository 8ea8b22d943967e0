// Feature browser: static files only. Reads data/index.json, then per SAE data/<id>/summary.json
// (arrays over features, for ordering, search and filters), lazily the shard holding a feature,
// the dataset's positions.json (the example boards), and for live positions the network
// (net.json + net.bin) and the SAE's encoder (encoder.bin), run by othello.js.
// Every data string goes in with textContent; nothing is inserted as HTML.
"use strict";

const state = {
  index: null, sae: null, summary: null, search: [], order: [], feature: 0, view: "feature",
  record: null, relative: false, log: false,
  live: { pos: null, moves: [], board: null },
};
const cache = new Map();  // url -> Promise (JSON, or an ArrayBuffer for .bin)
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

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

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function clearError() { $("error").hidden = true; $("error").textContent = ""; }

function load(url, what) {
  if (!cache.has(url)) {
    const p = (async () => {
      let response;
      try {
        response = await fetch(url, { cache: "no-cache" });
      } catch (err) {
        throw new Error(`Could not load ${what} (${url}): ${err.message}`);
      }
      if (!response.ok) throw new Error(`Could not load ${what} (${url}): HTTP ${response.status}`);
      if (url.endsWith(".bin")) return response.arrayBuffer();
      const text = await response.text();
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new Error(`The ${what} ${url} is broken: not valid JSON (${err.message}).`);
      }
    })();
    cache.set(url, p);
    p.catch(() => cache.delete(url));
  }
  return cache.get(url);
}

const fmt = (x, digits = 3) => (typeof x === "number" ? x.toFixed(digits) : "-");
const pct = (x) => (typeof x === "number" ? (100 * x).toFixed(2) + "%" : "-");
const squareName = Othello.squareName;

// Percentage points with fractions: 1 decimal from 1 pp up, 2 below; never "-0.00".
function pp(v) {
  const x = 100 * v, digits = Math.abs(x) >= 1 ? 1 : 2;
  const s = x.toFixed(digits);
  return Number(s) === 0 ? (0).toFixed(digits) : (x > 0 ? "+" : "") + s;
}

// ----- concepts: the square a label names ("c4 mine", "legal e5") and the free words it matches
function conceptSquare(label, n) {
  const m = /\b([a-z])([0-9]+)\b/.exec(label || "");
  if (!m) return -1;
  const c = m[1].charCodeAt(0) - 97, r = Number(m[2]) - 1;
  return c < n && r >= 0 && r < n ? r * n + c : -1;
}

function squareWords(sq, n) {
  const r = Math.floor(sq / n), c = sq % n, last = n - 1, words = [];
  const edge = r === 0 || c === 0 || r === last || c === last;
  if ((r === 0 || r === last) && (c === 0 || c === last)) words.push("corner");
  if (edge) words.push("edge");
  if (!edge && (r === 1 || r === last - 1) && (c === 1 || c === last - 1)) words.push("x-square");
  if (Math.abs(2 * r - last) <= 1 && Math.abs(2 * c - last) <= 1) words.push("centre", "center");
  return words;
}

function searchText(i) {
  const s = state.summary, n = boardSize(), th = s.thresholds || {};
  const parts = [s.concept[i], (s.concept2 || [])[i] || ""];
  for (const label of parts) {
    const sq = conceptSquare(label, n);
    if (sq >= 0) parts.push(...squareWords(sq, n));
  }
  parts.push(...flags(i, th));
  return parts.join(" | ").toLowerCase();
}

function flags(i, th = state.summary.thresholds || {}) {
  const s = state.summary, out = [];
  if (s.freq[i] === 0) out.push("dead");
  if (s.freq[i] > (th.dense ?? 0.2)) out.push("dense");
  if (s.freq[i] > 0 && s.f1[i] < (th.unexplained ?? 0.3)) out.push("unexplained");
  return out;
}

function boardSize() {
  const ds = (state.index.datasets || {})[state.sae.dataset];
  return ds && ds.size ? ds.size : 6;
}

// ----- boards (a1 top-left, columns a.., rows 1.. downwards, X black, O white)
function boardGrid(n, cellFor, cls = "board") {
  const grid = el("div", { class: cls, style: `--n:${n}` });
  grid.append(el("div", { class: "label" }));
  for (let c = 0; c < n; c++) grid.append(el("div", { class: "label", text: String.fromCharCode(97 + c) }));
  for (let r = 0; r < n; r++) {
    grid.append(el("div", { class: "label", text: String(r + 1) }));
    for (let c = 0; c < n; c++) grid.append(cellFor(r * n + c));
  }
  return grid;
}

// pos: {n, board (X/O/. string or Int8Array), black, last}; opts: legal, best, highlight, onPlay
function drawBoard(pos, opts = {}) {
  const n = pos.n, legal = new Set(opts.legal || []), best = new Set(opts.best || []);
  const text = typeof pos.board === "string" ? pos.board : Othello.toString(pos);
  const mineChar = pos.black ? "X" : "O";
  return boardGrid(n, (sq) => {
    const ch = text[sq];
    const cell = el("div", { class: "cell", "data-square": squareName(sq, n), "data-disc": ch });
    if (ch !== ".") {  // the disc is the cell's ::before (one element per square)
      cell.classList.add(state.relative ? (ch === mineChar ? "mine" : "theirs") : (ch === "X" ? "black" : "white"));
    } else if (legal.has(sq)) {
      cell.classList.add("legal");
      if (opts.onPlay) cell.addEventListener("click", () => opts.onPlay(sq));
    }
    if (best.has(sq)) cell.append(el("span", { class: "star", text: "\u2605" }));
    if (sq === pos.last) cell.classList.add("last");
    if (sq === opts.highlight) cell.classList.add("concept");
    if (opts.overlay && opts.overlay[sq]) cell.append(el("span", { class: "overlay", text: opts.overlay[sq] }));
    return cell;
  });
}

function sideText(black) {
  if (state.relative) return black ? "mine = X (black) to move" : "mine = O (white) to move";
  return black ? "X (black) to move" : "O (white) to move";
}

function exampleView(row, act, positions, highlight, extra = null) {
  const i = positions ? positions.at.get(row) : undefined;
  const box = el("div", { class: "example", "data-row": row, "data-act": act }, [
    el("div", { class: "act", text: `act ${fmt(act)}` }),
  ]);
  if (extra) box.append(el("div", { class: "band", text: extra }));
  if (i === undefined) {
    box.append(el("div", { class: "missing", text: positions ? `row ${row}: no board in positions.json` : "board not loaded" }));
    return box;
  }
  const t = positions.table, n = t.size;
  const pos = { n, board: t.board[i], black: Boolean(t.black[i]), last: t.last[i] };
  const legal = Othello.legalMoves(Othello.fromString(pos.board, pos.black));
  const best = t.best[i] || [];
  box.dataset.legal = legal.join(",");
  box.dataset.best = best.join(",");
  box.append(drawBoard(pos, { legal, best, highlight }));
  const last = pos.last >= 0 ? `, last ${squareName(pos.last, n)}` : "";
  box.append(el("div", { class: "side", text: sideText(pos.black) + last }));
  box.append(el("div", { class: "legal-moves", text: legal.length ? "legal " + legal.map((m) => squareName(m, n)).join(" ") : "game over" }));
  if (t.best[i]) {
    const v = t.value[i];
    box.append(el("div", { class: "perfect", text: `best ${best.map((m) => squareName(m, n)).join(" ")} (${v > 0 ? "+" : ""}${v})` }));
  }
  box.append(el("button", { class: "analyse", text: "analyse", onclick: () => openPosition({ board: pos.board, black: pos.black }) }));
  return box;
}

// ----- heat maps over the board
function heatColour(v, vmax) {
  const a = Math.min(1, Math.abs(v) / (vmax || 1));
  const [r, g, b] = v >= 0 ? [214, 39, 40] : [31, 119, 180];
  const mix = (c) => Math.round(255 + (c - 255) * a);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

function effectMap(policy, title, value, n, highlight) {
  const vmax = Math.max(1e-6, ...policy.map(Math.abs));
  const grid = boardGrid(n, (sq) => {
    const cell = el("div", { class: "cell", "data-square": squareName(sq, n), "data-delta": policy[sq] });
    cell.style.background = heatColour(policy[sq], vmax);
    if (Number(pp(policy[sq])) !== 0) cell.append(el("span", { text: pp(policy[sq]) }));
    cell.title = `${squareName(sq, n)}: ${pp(policy[sq])} pp`;
    if (sq === highlight) cell.classList.add("concept");
    return cell;
  }, "board heat");
  return el("div", { class: "panel heatmap" }, [
    el("h3", { text: title }), grid,
    el("div", { class: "passcell", text: `pass ${pp(policy[n * n])} pp` }),
    el("div", { class: "value", text: `value ${value >= 0 ? "+" : ""}${fmt(value, 4)}` }),
  ]);
}

function topMoves(policy, sign, n, count = 3) {
  return policy.map((d, m) => [m, d]).filter(([, d]) => sign * d > 5e-4)
    .sort((a, b) => sign * (b[1] - a[1]) || a[0] - b[0]).slice(0, count);
}

function moveList(label, moves, n) {
  const text = moves.length ? moves.map(([m, d]) => `${squareName(m, n)} ${pp(d)}pp`).join(", ") : "none";
  return el("div", { class: "moves" }, [el("b", { text: label + ": " }), el("span", { text })]);
}

// P(square | fires) against the base rate: colour = difference, text = P in %.
function squareMap(name, probs, base, n, highlight) {
  const grid = boardGrid(n, (sq) => {
    const p = probs[sq] / 1000, b = base[sq] / 1000;
    const cell = el("div", { class: "cell", "data-square": squareName(sq, n), "data-p": p, "data-base": b });
    cell.style.background = heatColour(p - b, 1);
    cell.append(el("span", { text: (100 * p).toFixed(0) }));
    cell.title = `${squareName(sq, n)} ${name}: ${(100 * p).toFixed(1)}% when firing, ${(100 * b).toFixed(1)}% overall`;
    if (sq === highlight) cell.classList.add("concept");
    return cell;
  }, "board heat");
  return el("div", { class: "panel squaremap", "data-map": name }, [el("h3", { text: `P(${name} | fires)` }), grid]);
}

function squareMaps(f, n, highlight) {
  const s = state.summary, box = el("div", { class: "row", id: "square-maps" });
  if (!f.maps || !s.base) {
    box.append(el("div", { text: "Square maps: this feature never fired on the concept rows." }));
    return box;
  }
  const empty = (m) => m.mine.map((x, i) => 1000 - x - m.theirs[i]);
  const maps = [["mine", f.maps.mine, s.base.mine], ["theirs", f.maps.theirs, s.base.theirs],
    ["empty", empty(f.maps), empty(s.base)], ["legal", f.maps.legal, s.base.legal]];
  for (const [name, probs, base] of maps) box.append(squareMap(name, probs, base, n, highlight));
  box.append(el("div", { class: "note", text: "Numbers: % of firing rows; red above the base rate, blue below (hover for both)." }));
  return box;
}

// ----- histogram with axes, counts and a log option
function histogram(hist) {
  const w = 300, h = 110, left = 42, bottom = 28, counts = hist.counts, log = state.log;
  const y = (c) => (log ? Math.log10(1 + c) : c);
  const top = Math.max(1e-9, ...counts.map(y));
  const svg = svgEl("svg", { width: left + w + 8, height: h + bottom + 6, class: "hist", "data-log": log ? "1" : "0" });
  const bw = w / counts.length;
  counts.forEach((c, i) => {
    const bh = (h * y(c)) / top;
    const rect = svgEl("rect", { x: left + i * bw, y: 4 + h - bh, width: Math.max(1, bw - 1), height: bh, fill: "#3a7d44", "data-count": c });
    rect.append(svgEl("title", {}, `${fmt((i * hist.max) / counts.length, 2)}-${fmt(((i + 1) * hist.max) / counts.length, 2)}: ${c} rows`));
    svg.append(rect);
  });
  svg.append(svgEl("line", { x1: left, y1: 4 + h, x2: left + w, y2: 4 + h, stroke: "#333" }));
  svg.append(svgEl("line", { x1: left, y1: 4, x2: left, y2: 4 + h, stroke: "#333" }));
  for (const f of [0, 0.5, 1]) {
    const x = left + f * w;
    svg.append(svgEl("line", { x1: x, y1: 4 + h, x2: x, y2: 8 + h, stroke: "#333" }));
    svg.append(svgEl("text", { x, y: h + 18, "font-size": 10, "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle", class: "xtick" }, fmt(f * hist.max, 2)));
  }
  svg.append(svgEl("text", { x: left + w / 2, y: h + bottom + 2, "font-size": 10, "text-anchor": "middle" }, "activation"));
  const maxCount = Math.max(0, ...counts);
  const ticks = log ? [0, ...[1, 10, 100, 1000, 10000, 100000, 1000000].filter((t) => t <= maxCount)] : [0, Math.round(maxCount / 2), maxCount];
  for (const t of [...new Set(ticks)]) {
    const yy = 4 + h - (h * y(t)) / top;
    svg.append(svgEl("text", { x: left - 4, y: yy + 3, "font-size": 10, "text-anchor": "end", class: "ytick" }, String(t)));
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const toggle = el("label", { class: "logtoggle" }, [
    el("input", { type: "checkbox", id: "hist-log", ...(log ? { checked: "" } : {}), onchange: (e) => { state.log = e.target.checked; renderFeature(state.record); writeHash(); } }),
    el("span", { text: " log counts" })]);
  return el("div", { class: "panel" }, [el("h3", { text: "Activation histogram (firing rows)" }), svg,
    el("div", { class: "note", id: "hist-total", text: `${total} firing rows, counts per bin${log ? " (log scale)" : ""}` }), toggle]);
}

// ----- SAE, feature and position data
function saeUrl(sae) { return `data/${sae.id}/`; }
function datasetUrl(sae) { return `data/${sae.dataset}/`; }

async function loadRecord(sae, summary, id) {
  const s = Math.floor(id / summary.shard_size);
  const url = `${saeUrl(sae)}shard_${String(s).padStart(3, "0")}.json`;
  const shard = await load(url, "feature shard");
  const rec = shard.features && shard.features[id - shard.start];
  if (!rec || rec.id !== id) throw new Error(`feature shard ${url} is broken: feature ${id} is missing`);
  return rec;
}

async function loadPositions(sae) {
  const url = `${datasetUrl(sae)}positions.json`;
  const key = url + "#map";
  if (!cache.has(key)) {
    const p = load(url, "example boards").then((table) => {
      if (!Array.isArray(table.row) || !Array.isArray(table.board)) throw new Error(`The example boards ${url} are broken: no rows.`);
      return { table, at: new Map(table.row.map((r, i) => [r, i])) };
    });
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return cache.get(key);
}

async function loadModel(sae, summary) {
  const base = datasetUrl(sae);
  const [desc, netBuf] = await Promise.all([load(`${base}net.json`, "network description"), load(`${base}net.bin`, "network weights")]);
  const net = { w: Othello.tensors(netBuf, desc), width: desc.width, blocks: desc.blocks, eps: desc.layer_norm_eps };
  const encDesc = summary.encoder;
  if (!encDesc) throw new Error(`${saeUrl(sae)}summary.json names no encoder: regenerate the data.`);
  const encBuf = await load(`${saeUrl(sae)}${encDesc.file}`, "SAE encoder weights");
  return { net, enc: { desc: encDesc, w: Othello.tensors(encBuf, encDesc) } };
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
  const words = $("search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const filter = $("filter").value;
  let ids = Array.from({ length: n }, (_, i) => i);
  if (filter !== "all") ids = ids.filter((i) => (filter === "alive" ? s.freq[i] > 0 : flags(i).includes(filter)));
  if (words.length) {
    ids = ids.filter((i) => words.every((w) => (/^#?\d+$/.test(w) ? i === Number(w.replace("#", "")) : state.search[i].includes(w))));
  }
  const key = $("sort").value;
  if (key === "freq") ids.sort((a, b) => s.freq[b] - s.freq[a] || a - b);
  if (key === "f1") ids.sort((a, b) => s.f1[b] - s.f1[a] || a - b);
  state.order = ids;
  $("match-count").textContent = words.length || filter !== "all" ? `${ids.length} match${ids.length === 1 ? "" : "es"}` : "";
  renderList();
}

function renderList() {
  const list = $("list"), s = state.summary;
  list.replaceChildren(...state.order.map((i) => {
    const b = el("button", { "data-id": i, onclick: () => go(i),
      text: `#${i}  ${pct(s.freq[i])}  ${s.concept[i]} (F1 ${fmt(s.f1[i], 2)})` });
    if (i === state.feature) b.classList.add("current");
    return b;
  }));
  markCurrent();
}

function markCurrent() {
  let current = null;
  for (const b of $("list").children) {
    const on = Number(b.dataset.id) === state.feature;
    b.classList.toggle("current", on);
    if (on) current = b;
  }
  if (current) current.scrollIntoView({ block: "nearest" });
}

function featureLink(saeId, id, text, cls = "") {
  return el("button", { class: cls, "data-sae": saeId, "data-id": id, text,
    onclick: () => (saeId === state.sae.id ? go(id) : navigate({ sae: saeId, feature: id })) });
}

function neighbours(f) {
  const sid = state.sae.id, rows = [
    el("h3", { text: "Similar features (decoder cosine)" }),
    el("div", { class: "similar" }, f.similar.map(([id, cos]) => featureLink(sid, id, `#${id} (${fmt(cos, 2)})`))),
    el("h3", { text: "Fire together (co-activation, Jaccard)" }),
    el("div", { class: "coact" }, (f.coact || []).length ? f.coact.map(([id, jac]) => featureLink(sid, id, `#${id} (${fmt(jac, 2)})`)) : [el("span", { text: "none" })]),
  ];
  if ((f.family || []).length) {
    rows.push(el("h3", { text: "Family: closest features in the other widths (decoder cosine)" }));
    f.family.forEach((matches, k) => {  // in the order of the index entry's family
      const saeId = (state.sae.family || [])[k];
      const other = state.index.saes.find((s) => s.id === saeId);
      if (!other) return;
      rows.push(el("div", { class: "family", "data-sae": saeId }, [
        el("span", { class: "width", text: `${other.n_features} features: ` }),
        ...matches.map(([id, cos]) => featureLink(saeId, id, `#${id} (${fmt(cos, 2)})`))]));
    });
  }
  return el("div", { class: "panel neighbours" }, rows);
}

function conceptsPanel(f) {
  const list = f.concepts || [];
  const rows = list.map((c, k) => el("div", { class: "concept-row", "data-rank": k + 1 }, [
    el("b", { text: `${k ? "second" : "best"}: ` }), el("span", { class: "concept-label", text: c.label }),
    el("span", { text: `  F1 ${fmt(c.f1)}, precision ${fmt(c.precision)}, recall ${fmt(c.recall)} (fires above ${c.t} x max)` })]));
  const fl = flags(f.id);
  return el("div", { class: "panel concepts", id: "concept" }, [
    el("h3", { text: "Board concepts" }),
    ...(rows.length ? rows : [el("div", { text: "none: it never fires on the concept rows" })]),
    ...(fl.length ? [el("div", { class: "flags", text: "flags: " + fl.join(", ") })] : []),
  ]);
}

function renderFeature(f, positions = state.positions) {
  const s = state.summary, box = $("feature"), n = boardSize();
  const side = (e) => ({ value: e.value, policy: e.policy_e4.map((x) => x / 1e4) });
  const eff = { scale: f.effect.scale, add: side(f.effect.add), remove: side(f.effect.remove) };
  const highlight = conceptSquare((f.concepts[0] || {}).label, n);
  const band = (q) => `decile ${q + 1}: ${fmt(f.edges[q], 2)}-${fmt(f.edges[q + 1], 2)}`;
  const examples = (list, id, label) => el("div", { class: "boards", id }, list.map(([r, a]) => exampleView(r, a, positions, highlight, label)));
  box.replaceChildren(
    el("h2", { id: "feature-title", text: `Feature ${f.id} of ${s.n_features}` }),
    el("div", { class: "facts" }, [
      el("span", { id: "freq", text: `fires on ${pct(f.freq)} of positions` }),
      el("span", { id: "mean-act", text: `mean activation when firing ${fmt(f.mean_act)}` }),
      el("span", { id: "max-act", text: `max ${fmt(f.max_act)}` }),
    ]),
    el("div", { class: "row" }, [conceptsPanel(f), histogram(f.hist), neighbours(f)]),
    el("div", { class: "row" }, [
      effectMap(eff.add.policy, `Policy change when added (x${fmt(eff.scale, 2)}), pp`, eff.add.value, n, highlight),
      effectMap(eff.remove.policy, "Policy change when removed (top boards), pp", eff.remove.value, n, highlight),
      el("div", { class: "panel", id: "moves" }, [
        el("h3", { text: "Moves" }),
        moveList("added promotes", topMoves(eff.add.policy, 1, n), n), moveList("added suppresses", topMoves(eff.add.policy, -1, n), n),
        moveList("removed promotes", topMoves(eff.remove.policy, 1, n), n), moveList("removed suppresses", topMoves(eff.remove.policy, -1, n), n),
      ]),
    ]),
    el("h3", { text: "Square maps" }),
    squareMaps(f, n, highlight),
    el("h3", { text: f.top.length ? `Top activating boards (${f.top.length})` : "Top activating boards: this feature never fired" }),
    examples(f.top, "top-boards"),
  );
  box.dataset.featureId = String(f.id);
  box.dataset.sae = state.sae.id;
  box.dataset.complete = "0";
  // the boards below the fold follow a frame later, so the feature shows up sooner
  const token = renderToken;
  requestAnimationFrame(() => setTimeout(() => {
    if (token !== renderToken || box.dataset.featureId !== String(f.id)) return;
    box.append(
      el("h3", { text: "Boards from every decile of the firing activations (5 each)" }),
      el("div", { class: "boards", id: "band-boards" }, f.bands.flatMap((list, q) => list.map(([r, a]) => exampleView(r, a, positions, highlight, band(q))))),
      el("h3", { text: "Weakest firing boards" }),
      examples(f.weakest, "weakest-boards"));
    box.dataset.complete = "1";
  }, 0));
}
let renderToken = 0;
async function showFeature(id) {
  const token = ++renderToken;
  state.feature = id;
  $("feature-id").value = id;
  markCurrent();
  const sae = state.sae, summary = state.summary;
  try {
    const [f, positions] = await Promise.all([loadRecord(sae, summary, id),
      loadPositions(sae).catch((err) => ({ error: err }))]);
    if (token !== renderToken) return;
    clearError();
    state.record = f;
    state.positions = positions.error ? null : positions;
    renderFeature(f);
    if (positions.error) showError(`${positions.error.message} The feature is shown without its boards.`);
  } catch (err) {
    if (token !== renderToken) return;
    $("feature").replaceChildren();
    showError(err.message);
  }
}

// ----- live positions
function openPosition(spec) {
  state.view = "position";
  if (spec.board) {
    state.live = { pos: Othello.fromString(spec.board, spec.black), moves: [], board: spec };
  } else {
    state.live = { pos: null, moves: [], board: null };
    $("moves-input").value = spec.moves || "";
  }
  showView();
  if (spec.board) { $("moves-input").value = ""; renderLive(); } else playMoves($("moves-input").value);
}

function livePositionText() {
  const n = boardSize();
  return state.live.moves.map((m) => squareName(m, n)).join(" ");
}

function playMoves(text) {
  const n = boardSize();
  $("moves-error").hidden = true;
  let result;
  try {
    result = Othello.replay(text, n);
  } catch (err) {
    $("moves-error").textContent = `Cannot play that move list: ${err.message}`;
    $("moves-error").hidden = false;
    $("live").dataset.state = "error";
    return;
  }
  state.live = { pos: result.pos, moves: result.moves, board: null };
  return renderLive();
}

function clickMove(move) {
  const live = state.live;
  live.pos = Othello.play(live.pos, move);
  live.moves.push(move);
  // a side without a move passes (written in the list, as the rules module wants it)
  const legal = Othello.legalMoves(live.pos), n = live.pos.n;
  if (legal.length === 1 && legal[0] === n * n) { live.pos = Othello.play(live.pos, n * n); live.moves.push(n * n); }
  if (!live.board) $("moves-input").value = livePositionText();
  renderLive();
}

let liveToken = 0;
async function renderLive() {
  const token = ++liveToken, live = state.live, sae = state.sae, summary = state.summary;
  const box = $("live");
  box.dataset.state = "loading";
  let model;
  try {
    model = await loadModel(sae, summary);
  } catch (err) {
    if (token !== liveToken) return;
    box.dataset.state = "error";
    $("live-out").replaceChildren(el("div", { class: "missing", text: "No live position: " + err.message }));
    showError(err.message);
    return;
  }
  if (token !== liveToken) return;
  let out;
  try {
    out = Othello.evaluate(model.net, model.enc, live.pos);
  } catch (err) {
    box.dataset.state = "error";
    showError(err.message);
    return;
  }
  const n = live.pos.n, overlay = {};
  for (const m of out.legal) if (m < n * n) overlay[m] = (100 * out.probs[m]).toFixed(0);
  const active = Array.from(out.latents.keys()).filter((j) => out.latents[j] > 0).sort((a, b) => out.latents[b] - out.latents[a] || a - b);
  const legalText = out.legal.map((m) => `${squareName(m, n)} ${(100 * out.probs[m]).toFixed(1)}%`).join(", ");
  const disc = Array.from(live.pos.board).reduce((acc, v) => [acc[0] + (v === 1), acc[1] + (v === -1)], [0, 0]);
  $("live-board").replaceChildren(drawBoard(live.pos, { legal: out.legal, onPlay: clickMove, overlay }));
  $("live-out").replaceChildren(
    el("div", { id: "live-side", text: out.legal.length ? sideText(live.pos.black) : `game over: X ${disc[0]}, O ${disc[1]}` }),
    el("div", { id: "live-value", "data-value": out.value, text: `value for the side to move ${out.value >= 0 ? "+" : ""}${out.value.toFixed(4)}` }),
    el("div", { id: "live-policy", text: out.legal.length ? `policy: ${legalText}` : "policy: no legal move" }),
    ...(out.legal[0] === n * n ? [el("button", { id: "live-pass", text: "pass", onclick: () => clickMove(n * n) })] : []),
    el("h3", { text: `Active features of ${sae.id} at block ${model.enc.desc.layer} (${active.length})` }),
    el("div", { id: "live-features", class: "live-features" }, active.map((j) =>
      el("button", { "data-id": j, "data-act": out.latents[j], onclick: () => navigate({ sae: sae.id, feature: j }),
        text: `#${j}  ${out.latents[j].toFixed(3)}  ${summary.concept[j]}` }))),
  );
  box.dataset.state = "ready";
  box.dataset.moves = livePositionText();
  writeHash();
}

// ----- views, deep links and navigation
function showView() {
  const live = state.view === "position";
  $("live").hidden = !live;
  $("feature").hidden = live;
  $("view-feature").classList.toggle("current", !live);
  $("view-position").classList.toggle("current", live);
}

function writeHash() {
  if (!state.sae) return;
  const p = new URLSearchParams();
  p.set("sae", state.sae.id);
  if (state.view === "position") {
    p.set("view", "position");
    if (state.live.board) { p.set("board", state.live.board.board); p.set("black", state.live.board.black ? "1" : "0"); }
    if (state.live.moves.length) p.set("moves", livePositionText());
  } else {
    p.set("feature", String(state.feature));
  }
  if ($("search").value.trim()) p.set("q", $("search").value.trim());
  if ($("filter").value !== "all") p.set("filter", $("filter").value);
  if ($("sort").value !== "id") p.set("sort", $("sort").value);
  if (state.relative) p.set("colours", "mine");
  if (state.log) p.set("log", "1");
  const hash = "#" + p.toString();
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

function go(id) {
  if (!state.summary) return;
  const n = state.summary.n_features;
  if (!Number.isInteger(id) || id < 0 || id >= n) {
    showError(`No feature ${id}: this SAE has features 0 to ${n - 1}.`);
    return;
  }
  state.view = "feature";
  showView();
  showFeature(id).then(writeHash);
}

function navigate(params) {
  location.hash = "#" + new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

async function selectSae(id) {
  const sae = state.index.saes.find((s) => s.id === id);
  if (!sae) { showError(`Unknown SAE "${id}" in the link; choose one from the list.`); return false; }
  state.sae = sae;
  $("sae-select").value = id;
  renderMetrics(sae);
  try {
    state.summary = await load(`${saeUrl(sae)}summary.json`, "SAE summary");
    if (!Array.isArray(state.summary.freq) || !Array.isArray(state.summary.concept)) throw new Error(`The SAE summary ${saeUrl(sae)}summary.json is broken: no feature arrays.`);
  } catch (err) {
    state.summary = null;
    $("feature").replaceChildren(); $("list").replaceChildren();
    showError(err.message);
    return false;
  }
  state.search = state.summary.freq.map((_, i) => searchText(i));
  return true;
}

function step(delta) {
  if (!state.order.length) return;
  const pos = state.order.indexOf(state.feature);
  go(pos < 0 ? state.order[0] : state.order[(pos + delta + state.order.length) % state.order.length]);
}

async function restoreFromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const saeId = p.get("sae") || state.index.saes[0].id;
  $("search").value = p.get("q") || "";
  $("filter").value = ["all", "alive", "dead", "dense", "unexplained"].includes(p.get("filter")) ? p.get("filter") : "all";
  $("sort").value = ["id", "freq", "f1"].includes(p.get("sort")) ? p.get("sort") : "id";
  state.relative = p.get("colours") === "mine";
  $("colours").value = state.relative ? "mine" : "absolute";
  state.log = p.get("log") === "1";
  if (!state.sae || state.sae.id !== saeId || !state.summary) {
    if (!(await selectSae(saeId))) return;
  }
  computeOrder();
  if (p.get("view") === "position") {
    if (p.get("board")) {
      try {
        openPosition({ board: p.get("board"), black: p.get("black") !== "0" });
      } catch (err) { showError(`The position in the link is broken: ${err.message}`); }
    } else openPosition({ moves: p.get("moves") || "" });
    return;
  }
  const feature = p.has("feature") ? Number(p.get("feature")) : 0;
  go(Number.isInteger(feature) ? Math.min(Math.max(feature, 0), state.summary.n_features - 1) : 0);
}

function onKey(e) {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName);
  if (typing) { if (e.key === "Escape") e.target.blur(); return; }
  if (e.key === "/") { e.preventDefault(); $("search").focus(); $("search").select(); return; }
  if (state.view !== "feature") return;
  if (e.key === "ArrowRight" || e.key === "ArrowDown") { e.preventDefault(); step(1); }
  if (e.key === "ArrowLeft" || e.key === "ArrowUp") { e.preventDefault(); step(-1); }
}

async function main() {
  try {
    state.index = await load("data/index.json", "the SAE index");
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
  select.addEventListener("change", () => navigate({ sae: select.value, feature: 0 }));
  $("go").addEventListener("click", () => go(Number($("feature-id").value)));
  $("feature-id").addEventListener("keydown", (e) => { if (e.key === "Enter") go(Number($("feature-id").value)); });
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("random").addEventListener("click", () => {
    if (state.order.length) go(state.order[Math.floor(Math.random() * state.order.length)]);
  });
  for (const id of ["sort", "filter"]) $(id).addEventListener("change", () => { computeOrder(); writeHash(); });
  $("search").addEventListener("input", () => { computeOrder(); writeHash(); });
  $("colours").addEventListener("change", () => {
    state.relative = $("colours").value === "mine";
    if (state.view === "position") renderLive(); else if (state.record) renderFeature(state.record);
    writeHash();
  });
  $("view-feature").addEventListener("click", () => go(state.feature));
  $("view-position").addEventListener("click", () => openPosition({ moves: $("moves-input").value }));
  $("moves-play").addEventListener("click", () => playMoves($("moves-input").value));
  $("moves-input").addEventListener("keydown", (e) => { if (e.key === "Enter") playMoves($("moves-input").value); });
  $("moves-undo").addEventListener("click", () => {
    if (state.live.board) return;
    const n = boardSize(), moves = state.live.moves.slice(0, -1);
    while (moves.length && moves[moves.length - 1] === n * n) moves.pop();
    $("moves-input").value = moves.map((m) => squareName(m, n)).join(" ");
    playMoves($("moves-input").value);
  });
  $("moves-reset").addEventListener("click", () => { $("moves-input").value = ""; playMoves(""); });
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", restoreFromHash);
  await restoreFromHash();
}

// For the browser test and the bench: the page's own forward pass on a move list.
window.vis = {
  async evaluate(moves) {
    const model = await loadModel(state.sae, state.summary);
    const out = Othello.evaluate(model.net, model.enc, Othello.replay(moves, boardSize()).pos);
    return { logits: Array.from(out.logits), probs: Array.from(out.probs), value: out.value, latents: Array.from(out.latents) };
  },
};

main();
