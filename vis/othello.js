// Othello rules and the network's forward pass, for the feature browser's live positions.
// Mirrors othello/rules/board.py (a1 top-left, row-major squares, pass = n*n, explicit passes in
// move lists) and othello/az/model.py (embed -> residual blocks x + W relu(LN(x)) + b -> final LN
// -> policy logits and tanh value), with the input encoding of othello/rules/encoding.py and the
// SAE encoder of sae/archs/base.py. Arithmetic is in float64 over the exported float32 weights.
"use strict";

const Othello = (() => {
  const DIRS = [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]];

  function squareName(sq, n) {
    if (sq === n * n) return "pass";
    return String.fromCharCode(97 + (sq % n)) + (Math.floor(sq / n) + 1);
  }

  // A position: board Int8Array(n*n) in absolute colours (1 black, -1 white, 0 empty).
  function start(n) {
    const board = new Int8Array(n * n), h = n / 2;
    board[(h - 1) * n + h - 1] = -1; board[h * n + h] = -1;
    board[(h - 1) * n + h] = 1; board[h * n + h - 1] = 1;
    return { n, board, black: true, last: -1 };
  }

  function fromString(text, black, last = -1) {
    const n = Math.round(Math.sqrt(text.length));
    if (n * n !== text.length || n < 4 || n % 2 || /[^XO.]/.test(text)) {
      throw new Error(`"${text.slice(0, 40)}" is not a board: write ${"n*n"} characters X, O or .`);
    }
    const board = Int8Array.from(text, (c) => (c === "X" ? 1 : c === "O" ? -1 : 0));
    return { n, board, black, last };
  }

  function toString(pos) {
    return Array.from(pos.board, (v) => (v === 1 ? "X" : v === -1 ? "O" : ".")).join("");
  }

  function flips(pos, sq, side) {
    const { n, board } = pos, out = [];
    if (board[sq] !== 0) return out;
    const r0 = Math.floor(sq / n), c0 = sq % n;
    for (const [dr, dc] of DIRS) {
      const line = [];
      let r = r0 + dr, c = c0 + dc;
      while (r >= 0 && r < n && c >= 0 && c < n && board[r * n + c] === -side) {
        line.push(r * n + c); r += dr; c += dc;
      }
      if (line.length && r >= 0 && r < n && c >= 0 && c < n && board[r * n + c] === side) out.push(...line);
    }
    return out;
  }

  function squaresFor(pos, side) {
    const out = [];
    for (let sq = 0; sq < pos.n * pos.n; sq++) if (flips(pos, sq, side).length) out.push(sq);
    return out;
  }

  // Legal moves as move numbers: [pass] when the side to move must pass, [] when the game is over.
  function legalMoves(pos) {
    const side = pos.black ? 1 : -1, mine = squaresFor(pos, side);
    if (mine.length) return mine;
    return squaresFor(pos, -side).length ? [pos.n * pos.n] : [];
  }

  function play(pos, move) {
    const n = pos.n, side = pos.black ? 1 : -1;
    if (move === n * n) {
      const legal = legalMoves(pos);
      if (legal.length !== 1 || legal[0] !== n * n) throw new Error("pass is only legal when the side to move has no move");
      return { n, board: pos.board, black: !pos.black, last: move };
    }
    const f = move >= 0 && move < n * n ? flips(pos, move, side) : [];
    if (!f.length) throw new Error(`${squareName(move, n)} is not a legal move here`);
    const board = Int8Array.from(pos.board);
    board[move] = side;
    for (const s of f) board[s] = side;
    return { n, board, black: !pos.black, last: move };
  }

  function parseMove(text, n) {
    const t = text.trim().toLowerCase(), lastCol = String.fromCharCode(96 + n);
    if (t === "pass") return n * n;
    if (t.length < 2 || t[0] < "a" || t[0] > lastCol || !/^\d+$/.test(t.slice(1))) {
      throw new Error(`'${text.trim()}' is not a move: write a column a-${lastCol} and a row 1-${n} (like c4), or 'pass'`);
    }
    const row = Number(t.slice(1));
    if (row < 1 || row > n) throw new Error(`'${text.trim()}' is off the board: rows go from 1 to ${n}`);
    return (row - 1) * n + (t.charCodeAt(0) - 97);
  }

  // Moves separated by spaces or commas ("c2 d2", "c2,d2"), or run together ("c2d2"); the error
  // names the bad ply like othello.rules.board.replay_moves.
  function splitMoves(text) {
    return text.split(/[\s,;]+/).filter(Boolean).flatMap((tok) =>
      /^([a-z]\d|pass)+$/i.test(tok) && tok.length > 2 ? tok.match(/pass|[a-z]\d/gi) : [tok]);
  }

  function replay(text, n) {
    let pos = start(n);
    const moves = [];
    splitMoves(text).forEach((tok, i) => {
      try {
        const m = parseMove(tok, n);
        pos = play(pos, m);
        moves.push(m);
      } catch (err) {
        const side = pos.black ? "black" : "white";
        const legal = legalMoves(pos);
        const hint = legal.length === 1 && legal[0] === n * n ? " (it has no legal move: write 'pass')" : "";
        throw new Error(`ply ${i + 1} (${side}${hint}): ${err.message}`);
      }
    });
    return { pos, moves };
  }

  // ----- the network
  function tensors(buffer, desc) {
    const out = {};
    for (const [name, t] of Object.entries(desc.tensors)) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      if ((t.offset + size) * 4 > buffer.byteLength) throw new Error(`weights file too short for ${name}`);
      out[name] = new Float32Array(buffer, t.offset * 4, size);
    }
    return out;
  }

  function linear(w, b, x, nOut) {  // torch Linear: w [nOut, nIn]
    const nIn = x.length, y = new Float64Array(nOut);
    for (let o = 0; o < nOut; o++) {
      let s = b[o];
      const row = o * nIn;
      for (let i = 0; i < nIn; i++) s += w[row + i] * x[i];
      y[o] = s;
    }
    return y;
  }

  function layerNorm(x, w, b, eps) {
    const d = x.length;
    let mean = 0, v = 0;
    for (let i = 0; i < d; i++) mean += x[i];
    mean /= d;
    for (let i = 0; i < d; i++) v += (x[i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps), y = new Float64Array(d);
    for (let i = 0; i < d; i++) y[i] = (x[i] - mean) * inv * w[i] + b[i];
    return y;
  }

  function planes(pos) {  // mine, theirs, empty from the side to move
    const s = pos.n * pos.n, side = pos.black ? 1 : -1, x = new Float64Array(3 * s);
    for (let q = 0; q < s; q++) x[(pos.board[q] === side ? 0 : pos.board[q] === -side ? 1 : 2) * s + q] = 1;
    return x;
  }

  function block(net, k, x) {
    const w = net.w, p = `blocks.${k}.`;
    const h = layerNorm(x, w[p + "norm.weight"], w[p + "norm.bias"], net.eps);
    for (let i = 0; i < h.length; i++) if (h[i] < 0) h[i] = 0;
    const y = linear(w[p + "linear.weight"], w[p + "linear.bias"], h, x.length);
    for (let i = 0; i < y.length; i++) y[i] += x[i];
    return y;
  }

  function encode(enc, x) {
    const { d, n_features: f, scale } = enc.desc, w = enc.w, xs = new Float64Array(d);
    for (let i = 0; i < d; i++) xs[i] = x[i] * scale - (enc.desc.subtract_dec_bias ? w.dec_bias[i] : 0);
    const pre = Float64Array.from(w.enc_bias);
    for (let i = 0; i < d; i++) {
      const xi = xs[i], row = i * f;
      if (xi !== 0) for (let j = 0; j < f; j++) pre[j] += xi * w.enc_weight[row + j];
    }
    if (enc.desc.arch === "topk") {  // the k largest: a native numeric sort finds the k-th
      const k = enc.desc.k, cut = Float64Array.from(pre).sort()[f - k];
      let ties = k - pre.reduce((c, v) => c + (v > cut), 0);
      for (let j = 0; j < f; j++) {
        if (pre[j] > cut) continue;
        if (pre[j] === cut && ties > 0) ties--; else pre[j] = 0;
      }
    } else if (enc.desc.arch !== "relu") {
      throw new Error(`live features are not implemented for the "${enc.desc.arch}" architecture`);
    }
    for (let j = 0; j < f; j++) if (pre[j] < 0) pre[j] = 0;
    return pre;
  }

  // Policy logits, legal-move probabilities, value, and the SAE's latents at its layer.
  function evaluate(net, enc, pos) {
    const w = net.w, legal = legalMoves(pos);
    let x = linear(w["embed.weight"], w["embed.bias"], planes(pos), net.width);
    let latents = null;
    for (let k = 0; k <= net.blocks; k++) {
      if (enc && k === enc.desc.layer) latents = encode(enc, x);
      if (k < net.blocks) x = block(net, k, x);
    }
    const h = layerNorm(x, w["final_norm.weight"], w["final_norm.bias"], net.eps);
    const logits = linear(w["policy_head.weight"], w["policy_head.bias"], h, pos.n * pos.n + 1);
    const value = Math.tanh(linear(w["value_head.weight"], w["value_head.bias"], h, 1)[0]);
    const probs = new Float64Array(logits.length);
    if (legal.length) {
      const top = Math.max(...legal.map((m) => logits[m]));
      let z = 0;
      for (const m of legal) { probs[m] = Math.exp(logits[m] - top); z += probs[m]; }
      for (const m of legal) probs[m] /= z;
    }
    return { logits, probs, value, latents, legal };
  }

  return { squareName, start, fromString, toString, legalMoves, play, parseMove, replay,
    tensors, evaluate };
})();
