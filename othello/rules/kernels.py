"""Compiled (numba) Othello kernels on uint64 bitboards for board sizes 4-8: move generation,
flips, perft, and the exact endgame search behind the oracle.

Same conventions as `othello.rules.board`: square = row * N + col, a position is (me, opp) from the
side to move, a score is the final disc difference for the side to move (empties count for
nobody). Every constant is a `np.uint64` (numba promotes uint64 mixed with int64 to float64), and
the geometry of all sizes sits in module-level arrays that numba freezes into the compiled code,
so one compiled function serves every size. Compiled code is cached on disk (`cache=True`).

The search is negamax alpha-beta with principal-variation (null-window) re-searches, in the
style of Edax: a two-way transposition table of bounds and best move (replacement by depth),
enhanced transposition cutoffs, fastest-first ordering (fewest opponent replies, corners and
parity as tie-breaks) high in the tree, parity ordering without table below `TT_MIN_EMPTIES`,
and one hand-written, non-recursive solver per count of the last 1-4 empty squares (no move
generator, no table).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

MIN_SIZE, MAX_SIZE = 4, 8
INF = 100  # above any score (|score| <= 64)
NO_MOVE = 255
SMALL_EMPTIES = 4  # from here on: loop over empty squares, no move generator, no table
TT_MIN_EMPTIES = 7  # shallower nodes are cheaper to search again than to store
ETC_MIN_EMPTIES = 10  # enhanced transposition cutoffs from here up
SHALLOW_MIN_EMPTIES = 12  # order by a shallow search from here up (16: 1.6x the time at 25)
SHALLOW_STEP = 3  # one more ply of shallow search every SHALLOW_STEP empties
SCRATCH_SLOTS = 40  # more than the most legal moves on 8x8 (33 is the known record)

U0 = np.uint64(0)
U1 = np.uint64(1)
U8 = np.uint64(8)
U16 = np.uint64(16)
U24 = np.uint64(24)
UFF = np.uint64(0xFF)
H1 = np.uint64(0x9E3779B97F4A7C15)
H2 = np.uint64(0xC2B2AE3D27D4EB4F)
U29 = np.uint64(29)
U32 = np.uint64(32)
BIAS = 128  # bounds are stored as bound + BIAS in one byte


def _geometry() -> tuple[np.ndarray, ...]:
    """Per size (index = size): full mask, the 4 shift amounts, masks applied after a left or a
    right shift (no wrap across the side columns), corner mask, parity quadrants (as masks and
    per square), and per square the 8 rays of squares that a move there may flip."""
    full = np.zeros(MAX_SIZE + 1, np.uint64)
    shift = np.zeros((MAX_SIZE + 1, 4), np.uint64)
    lmask = np.zeros((MAX_SIZE + 1, 4), np.uint64)
    rmask = np.zeros((MAX_SIZE + 1, 4), np.uint64)
    corners = np.zeros(MAX_SIZE + 1, np.uint64)
    quads = np.zeros((MAX_SIZE + 1, 4), np.uint64)
    quad_of = np.zeros((MAX_SIZE + 1, MAX_SIZE * MAX_SIZE), np.int64)
    rays = np.zeros((MAX_SIZE + 1, MAX_SIZE * MAX_SIZE, 8), np.uint64)
    for n in range(MIN_SIZE, MAX_SIZE + 1):
        f = (1 << (n * n)) - 1
        col0 = sum(1 << (r * n) for r in range(n))
        col_last = col0 << (n - 1)
        full[n] = f
        # left shifts: east (+1), south-west (+n-1), south (+n), south-east (+n+1)
        for d, (s, dc) in enumerate(((1, 1), (n - 1, -1), (n, 0), (n + 1, 1))):
            shift[n, d] = s
            lmask[n, d] = f & ~(col0 if dc == 1 else col_last if dc == -1 else 0)
            # the right shift by s is the opposite direction: column step -dc
            rmask[n, d] = f & ~(col_last if dc == 1 else col0 if dc == -1 else 0)
        last = n - 1
        corners[n] = (1 << 0) | (1 << last) | (1 << (last * n)) | (1 << (last * n + last))
        h = (n + 1) // 2
        for sq in range(n * n):
            r, c = divmod(sq, n)
            quad_of[n, sq] = (r >= h) * 2 + (c >= h)
            quads[n, quad_of[n, sq]] |= np.uint64(1 << sq)
            # rays 0-3 run towards higher squares (E, SW, S, SE), 4-7 towards lower ones
            for d, (dr, dc) in enumerate(((0, 1), (1, -1), (1, 0), (1, 1),
                                          (0, -1), (-1, 1), (-1, 0), (-1, -1))):
                rr, cc = r + dr, c + dc
                while 0 <= rr < n and 0 <= cc < n:
                    rays[n, sq, d] |= np.uint64(1 << (rr * n + cc))
                    rr, cc = rr + dr, cc + dc
    return full, shift, lmask, rmask, corners, quads, quad_of, rays


FULL, SHIFT, LMASK, RMASK, CORNERS, QUADS, QUAD_OF, RAYS = _geometry()


@intrinsic
def popcount(typingctx, x):
    """Number of set bits (the CPU's popcnt)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@intrinsic
def lowest_square(typingctx, x):
    """Index of the lowest set bit (x != 0)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], context.get_constant(types.boolean, True))

    return sig, codegen


@intrinsic
def highest_square(typingctx, x):
    """Index of the highest set bit (x != 0)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        lz = builder.ctlz(args[0], context.get_constant(types.boolean, True))
        return builder.sub(context.get_constant(types.uint64, 63), lz)

    return sig, codegen


@njit(cache=True, inline="always")
def count(x):
    return np.int64(popcount(x))


@njit(cache=True)
def legal_moves(me, opp, size):
    """Bitmask of the squares where the side to move may play."""
    reps = size - 3
    moves = U0
    for d in range(4):
        s = SHIFT[size, d]
        m = LMASK[size, d]
        om = opp & m
        t = (me << s) & om
        for _ in range(reps):
            t |= (t << s) & om
        moves |= (t << s) & m
        m = RMASK[size, d]
        om = opp & m
        t = (me >> s) & om
        for _ in range(reps):
            t |= (t >> s) & om
        moves |= (t >> s) & m
    return moves & ~(me | opp) & FULL[size]


@njit(cache=True)
def neighbours(x, size):
    """Squares next to some square of `x` (in any of the 8 directions)."""
    out = U0
    for d in range(4):
        s = SHIFT[size, d]
        out |= ((x << s) & LMASK[size, d]) | ((x >> s) & RMASK[size, d])
    return out


@njit(cache=True)
def flips(me, opp, sq, size):
    """Opponent discs flipped by playing the empty square `sq` (0 when the move is illegal).

    Along each of the 8 rays from `sq`, the first square that is not the opponent's must be
    mine, and then every ray square before it flips: the lowest set bit of ray & ~opp for the
    rays towards higher squares, the highest for the others (no loop over the discs)."""
    out = U0
    for d in range(4):
        ray = RAYS[size, sq, d]
        block = ray & ~opp
        first = block & (U0 - block)
        if first & me:
            out |= ray & (first - U1)
    for d in range(4, 8):
        ray = RAYS[size, sq, d]
        block = ray & ~opp
        if block:
            first = U1 << highest_square(block)
            if first & me:
                out |= ray & ~((first << U1) - U1)
    return out


@njit(cache=True)
def legal_rows(states, size):
    """bool `[n, size*size + 1]` of uint64 states `[n, 2]`: the legal squares, and the pass (last)
    where the side to move must pass (`othello.rules.encoding.legal_actions`, compiled)."""
    squares = size * size
    out = np.zeros((states.shape[0], squares + 1), np.bool_)
    for i in range(states.shape[0]):
        moves = legal_moves(states[i, 0], states[i, 1], size)
        if moves:
            for sq in range(squares):
                out[i, sq] = (moves >> np.uint64(sq)) & U1 != U0
        elif legal_moves(states[i, 1], states[i, 0], size):
            out[i, squares] = True
    return out


@njit(cache=True)
def play_rows(states, actions, size):
    """States `[n, 2]` after each row's legal action, from the next side to move (the pass,
    action size*size, just hands over the move)."""
    out = np.empty_like(states)
    for i in range(states.shape[0]):
        me, opp, a = states[i, 0], states[i, 1], actions[i]
        if a == size * size:
            out[i, 0], out[i, 1] = opp, me
        else:
            f = flips(me, opp, a, size)
            out[i, 0], out[i, 1] = opp & ~f, me | f | (U1 << np.uint64(a))
    return out


@njit(cache=True)
def encode_rows(states, size):
    """float32 `[n, 3, size, size]` planes mine / theirs / empty (`encoding.encode_states`)."""
    out = np.zeros((states.shape[0], 3, size, size), np.float32)
    for i in range(states.shape[0]):
        for sq in range(size * size):
            bit = U1 << np.uint64(sq)
            plane = 0 if states[i, 0] & bit else (1 if states[i, 1] & bit else 2)
            out[i, plane, sq // size, sq % size] = 1.0
    return out


@njit(cache=True)
def perft(me, opp, size, depth):
    """Leaves at `depth` plies (a pass is a ply, a finished game is a leaf); bulk-counts the
    last ply."""
    if depth == 0:
        return np.int64(1)
    moves = legal_moves(me, opp, size)
    if moves == U0:
        if legal_moves(opp, me, size) == U0:
            return np.int64(1)
        if depth == 1:
            return np.int64(1)
        return perft(opp, me, size, depth - 1)
    if depth == 1:
        return count(moves)
    total = np.int64(0)
    while moves:
        sq = lowest_square(moves)
        b = U1 << sq
        moves ^= b
        f = flips(me, opp, sq, size)
        total += perft(opp & ~f, me | f | b, size, depth - 1)
    return total


@njit(cache=True, inline="always")
def _final(me, opp):
    return count(me) - count(opp)


@njit(cache=True)
def _last(me, opp, sq, size):
    """Exact score with only `sq` empty: whoever can flip there plays it, the mover first."""
    diff = count(me) - count(opp)
    n = count(flips(me, opp, sq, size))
    if n:
        return diff + 2 * n + 1
    n = count(flips(opp, me, sq, size))
    if n:
        return diff - 2 * n - 1
    return diff


@njit(cache=True, inline="always")
def _parity_first(empty, size):
    """The empty squares in quadrants with an odd number of empties (the mover there gets the
    last move: Edax's parity ordering)."""
    odd = U0
    for q in range(4):
        e = empty & QUADS[size, q]
        if popcount(e) & U1:
            odd |= e
    return odd


@njit(cache=True)
def _side2(me, opp, alpha, beta, x1, x2, size, stats):
    """Best score of the mover over its moves at x1 then x2 (-INF when it has none); each
    one-empty position reached counts as a node."""
    best = -INF
    f = flips(me, opp, x1, size)
    if f:
        stats[0] += 1
        best = -_last(opp & ~f, me | f | (U1 << x1), x2, size)
        if best >= beta:
            return best
    f = flips(me, opp, x2, size)
    if f:
        stats[0] += 1
        v = -_last(opp & ~f, me | f | (U1 << x2), x1, size)
        if v > best:
            best = v
    return best


@njit(cache=True)
def _solve2(me, opp, alpha, beta, x1, x2, size, stats):
    """Exact (fail-soft) score with the two empty squares x1, x2."""
    stats[0] += 1
    v = _side2(me, opp, alpha, beta, x1, x2, size, stats)
    if v > -INF:
        return v
    v = _side2(opp, me, -beta, -alpha, x1, x2, size, stats)
    if v > -INF:
        return -v
    return _final(me, opp)


@njit(cache=True)
def _side3(me, opp, alpha, beta, x1, x2, x3, size, stats):
    """Best score of the mover over x1, x2, x3 in that order (-INF when it has no move)."""
    best = -INF
    for i in range(3):
        if i == 0:
            sq, a, b = x1, x2, x3
        elif i == 1:
            sq, a, b = x2, x1, x3
        else:
            sq, a, b = x3, x1, x2
        f = flips(me, opp, sq, size)
        if f == U0:
            continue
        v = -_solve2(opp & ~f, me | f | (U1 << sq), -beta, -alpha, a, b, size, stats)
        if v > best:
            best = v
            if v > alpha:
                alpha = v
                if alpha >= beta:
                    return best
    return best


@njit(cache=True)
def _solve3(me, opp, alpha, beta, x1, x2, x3, size, stats):
    """Exact (fail-soft) score with three empty squares; the one alone in its quadrant (odd
    parity: its mover gets the last move there) goes first."""
    stats[0] += 1
    q1, q2, q3 = QUAD_OF[size, x1], QUAD_OF[size, x2], QUAD_OF[size, x3]
    if q1 == q2 and q1 != q3:
        x1, x3 = x3, x1
    elif q1 == q3 and q1 != q2:
        x1, x2 = x2, x1
    v = _side3(me, opp, alpha, beta, x1, x2, x3, size, stats)
    if v > -INF:
        return v
    v = _side3(opp, me, -beta, -alpha, x1, x2, x3, size, stats)
    if v > -INF:
        return -v
    return _final(me, opp)


@njit(cache=True)
def _side4(me, opp, alpha, beta, xs, size, stats):
    """Best score of the mover over the four squares `xs` (packed 8 bits each, in order)."""
    best = -INF
    for i in range(4):
        sq = (xs >> U8 * np.uint64(i)) & UFF
        rest = U0
        k = U0
        for j in range(4):
            if j != i:
                rest |= ((xs >> U8 * np.uint64(j)) & UFF) << U8 * k
                k += U1
        f = flips(me, opp, sq, size)
        if f == U0:
            continue
        v = -_solve3(opp & ~f, me | f | (U1 << sq), -beta, -alpha, rest & UFF,
                     (rest >> U8) & UFF, rest >> U16, size, stats)
        if v > best:
            best = v
            if v > alpha:
                alpha = v
                if alpha >= beta:
                    return best
    return best


@njit(cache=True)
def _solve4(me, opp, alpha, beta, empty, size, stats):
    """Exact (fail-soft) score with four empty squares: odd quadrants first (Edax's parity
    ordering), corners first within each group."""
    stats[0] += 1
    odd = _parity_first(empty, size)
    c = CORNERS[size]
    xs = U0
    k = U0
    for group in range(4):
        if group == 0:
            cand = empty & odd & c
        elif group == 1:
            cand = empty & odd & ~c
        elif group == 2:
            cand = empty & ~odd & c
        else:
            cand = empty & ~odd & ~c
        while cand:
            sq = lowest_square(cand)
            cand ^= U1 << sq
            xs |= sq << U8 * k
            k += U1
    v = _side4(me, opp, alpha, beta, xs, size, stats)
    if v > -INF:
        return v
    v = _side4(opp, me, -beta, -alpha, xs, size, stats)
    if v > -INF:
        return -v
    return _final(me, opp)


@njit(cache=True)
def _small(me, opp, alpha, beta, n, size, stats):
    """Exact (fail-soft) score with at most SMALL_EMPTIES (4) empty squares: no move generator
    and no table (a square is legal exactly when it flips something), one function per count,
    none of them recursive."""
    empty = ~(me | opp) & FULL[size]
    if n == 4:
        return _solve4(me, opp, alpha, beta, empty, size, stats)
    x1 = lowest_square(empty)
    x2 = lowest_square(empty ^ (U1 << x1))
    if n == 3:
        return _solve3(me, opp, alpha, beta, x1, x2,
                       lowest_square(empty ^ (U1 << x1) ^ (U1 << x2)), size, stats)
    if n == 2:
        return _solve2(me, opp, alpha, beta, x1, x2, size, stats)
    stats[0] += 1
    return _last(me, opp, x1, size) if n == 1 else _final(me, opp)


@njit(cache=True)
def _evaluate(me, opp, size):
    """Cheap midgame score for move ordering: weighted mobility, corners, potential mobility."""
    c = CORNERS[size]
    empty = ~(me | opp) & FULL[size]
    mm = legal_moves(me, opp, size)
    om = legal_moves(opp, me, size)
    return (8 * (count(mm) + count(mm & c) - count(om) - count(om & c))
            + 16 * (count(me & c) - count(opp & c))
            + 2 * (count(neighbours(opp, size) & empty) - count(neighbours(me, size) & empty)))


@njit(cache=True)
def _shallow1(me, opp, alpha, beta, size):
    """Alpha-beta to depth 1 on `_evaluate` (a pass is a ply)."""
    moves = legal_moves(me, opp, size)
    if moves == U0:
        if legal_moves(opp, me, size) == U0:
            return 1000 * (count(me) - count(opp))
        return -_evaluate(opp, me, size)
    best = -1000000
    while moves:
        sq = lowest_square(moves)
        b = U1 << sq
        moves ^= b
        f = flips(me, opp, sq, size)
        v = -_evaluate(opp & ~f, me | f | b, size)
        if v > best:
            best = v
            if v > alpha:
                alpha = v
                if alpha >= beta:
                    break
    return best


@njit(cache=True)
def _shallow2(me, opp, alpha, beta, size):
    """Alpha-beta to depth 2 on `_evaluate` (a pass is a ply)."""
    moves = legal_moves(me, opp, size)
    if moves == U0:
        if legal_moves(opp, me, size) == U0:
            return 1000 * (count(me) - count(opp))
        return -_shallow1(opp, me, -beta, -alpha, size)
    best = -1000000
    while moves:
        sq = lowest_square(moves)
        b = U1 << sq
        moves ^= b
        f = flips(me, opp, sq, size)
        v = -_shallow1(opp & ~f, me | f | b, -beta, -alpha, size)
        if v > best:
            best = v
            if v > alpha:
                alpha = v
                if alpha >= beta:
                    break
    return best


@njit(cache=True)
def _shallow3(me, opp, alpha, beta, size):
    """Alpha-beta to depth 3 on `_evaluate` (a pass is a ply)."""
    moves = legal_moves(me, opp, size)
    if moves == U0:
        if legal_moves(opp, me, size) == U0:
            return 1000 * (count(me) - count(opp))
        return -_shallow2(opp, me, -beta, -alpha, size)
    best = -1000000
    while moves:
        sq = lowest_square(moves)
        b = U1 << sq
        moves ^= b
        f = flips(me, opp, sq, size)
        v = -_shallow2(opp & ~f, me | f | b, -beta, -alpha, size)
        if v > best:
            best = v
            if v > alpha:
                alpha = v
                if alpha >= beta:
                    break
    return best


@njit(cache=True)
def shallow(me, opp, depth, size):
    """Fixed-depth (0-3) alpha-beta on `_evaluate`, to order moves high in the exact search
    (Feinstein ordered his 6x6 proof by short midgame searches). Written as one function per
    depth: numba 0.68.1's on-disk cache segfaulted here on loading a recursive function that calls
    another recursive one (tests/test_oracle_engine.py reloads the cache in a subprocess)."""
    if depth <= 0:
        return _evaluate(me, opp, size)
    if depth == 1:
        return _shallow1(me, opp, -1000000, 1000000, size)
    if depth == 2:
        return _shallow2(me, opp, -1000000, 1000000, size)
    return _shallow3(me, opp, -1000000, 1000000, size)


@njit(cache=True, inline="always")
def _slot(me, opp, mask):
    """Index of the first entry of the position's two-entry bucket."""
    h = me * H1 ^ opp * H2
    h ^= h >> U29
    return np.int64(h & mask & ~U1)


@njit(cache=True)
def tt_probe(tt, me, opp):
    """(lower, upper, move) stored for the position, or (-INF, INF, NO_MOVE)."""
    i = _slot(me, opp, np.uint64(tt.shape[0] - 1))
    for j in range(i, i + 2):
        if tt[j, 0] == me and tt[j, 1] == opp:
            d = tt[j, 2]
            return (np.int64(d & UFF) - BIAS, np.int64((d >> U8) & UFF) - BIAS,
                    np.int64((d >> U16) & UFF))
    return -INF, INF, NO_MOVE


@njit(cache=True)
def tt_store(tt, me, opp, lower, upper, move, depth):
    """Store bounds (tightened with any bounds already held for the position); otherwise
    replace the shallower entry of the bucket."""
    i = _slot(me, opp, np.uint64(tt.shape[0] - 1))
    j = -1
    for k in range(i, i + 2):
        if tt[k, 0] == me and tt[k, 1] == opp:
            d = tt[k, 2]
            lo = max(lower, np.int64(d & UFF) - BIAS)
            up = min(upper, np.int64((d >> U8) & UFF) - BIAS)
            if lo <= up:  # proven bounds never contradict; if they did, the new ones would win
                lower, upper = lo, up
            j = k
            break
    if j < 0:
        d0 = np.int64((tt[i, 2] >> U24) & UFF)
        d1 = np.int64((tt[i + 1, 2] >> U24) & UFF)
        j = i if d0 <= d1 else i + 1
    tt[j, 0] = me
    tt[j, 1] = opp
    tt[j, 2] = (np.uint64(lower + BIAS) | (np.uint64(upper + BIAS) << U8)
                | (np.uint64(move) << U16) | (np.uint64(depth) << U24))


@njit(cache=True)
def search(me, opp, alpha, beta, n, size, tt, buf, stats):
    """Fail-soft negamax value of (me, opp) with `n` empty squares in the window (alpha, beta).

    `tt` is the transposition table (uint64 [2^k, 3]: me, opp, packed bounds / move / depth),
    `buf` a scratch array (uint64 [65, SCRATCH_SLOTS, 4]) indexed by the number of empties, so
    that no node allocates; `stats[0]` counts nodes."""
    if n <= SMALL_EMPTIES:
        return _small(me, opp, alpha, beta, n, size, stats)
    stats[0] += 1
    moves = legal_moves(me, opp, size)
    if moves == U0:
        if legal_moves(opp, me, size) == U0:
            return _final(me, opp)
        return -search(opp, me, -beta, -alpha, n, size, tt, buf, stats)

    use_tt = n >= TT_MIN_EMPTIES
    tt_move = NO_MOVE
    if use_tt:
        lower, upper, tt_move = tt_probe(tt, me, opp)
        if lower >= beta:
            return lower
        if upper <= alpha:
            return upper
        if lower == upper:
            # exact inside the window: narrowing to (v, v) would search an empty window, where
            # a fail-soft result equal to v is read as a bound of the wrong side and stored
            return lower
        if lower > alpha:
            alpha = lower
        if upper < beta:
            beta = upper
    alpha0 = alpha

    # Children into this level's scratch: square, child me, child opp, ordering key.
    scratch = buf[n]
    k = 0
    empty = ~(me | opp) & FULL[size]
    odd = _parity_first(empty, size)
    corners = CORNERS[size]
    while moves:
        sq = lowest_square(moves)
        b = U1 << sq
        moves ^= b
        f = flips(me, opp, sq, size)
        cme = opp & ~f
        copp = me | f | b
        if use_tt:
            if n >= ETC_MIN_EMPTIES:
                clo, cup, _ = tt_probe(tt, cme, copp)
                if -cup >= beta:  # enhanced transposition cutoff
                    return -cup
            if np.int64(sq) == tt_move:
                key = 0
            elif n >= SHALLOW_MIN_EMPTIES:
                key = 100000 + shallow(cme, copp, (n - SHALLOW_MIN_EMPTIES) // SHALLOW_STEP + 1,
                                       size)
            else:
                # fastest first: fewest replies, then corners, then parity
                cm = legal_moves(cme, copp, size)
                pm = neighbours(copp, size) & empty & ~b
                key = (16 * (count(cm) + count(cm & corners)) + 1024 + 4 * count(pm)
                       - 4 * ((b & corners) != U0) - 2 * ((b & odd) != U0))
        else:
            key = 4 - 2 * ((b & odd) != U0) - ((b & corners) != U0)
        scratch[k, 0] = sq
        scratch[k, 1] = cme
        scratch[k, 2] = copp
        scratch[k, 3] = np.uint64(key)
        k += 1

    best = -INF
    best_move = NO_MOVE
    for i in range(k):
        # selection sort as we go: cutoffs usually come before the list is sorted
        jbest = i
        for j in range(i + 1, k):
            if scratch[j, 3] < scratch[jbest, 3]:
                jbest = j
        if jbest != i:
            for f_ in range(4):
                t = scratch[i, f_]
                scratch[i, f_] = scratch[jbest, f_]
                scratch[jbest, f_] = t
        cme = scratch[i, 1]
        copp = scratch[i, 2]
        if i == 0:
            v = -search(cme, copp, -beta, -alpha, n - 1, size, tt, buf, stats)
        else:
            v = -search(cme, copp, -alpha - 1, -alpha, n - 1, size, tt, buf, stats)
            if alpha < v < beta:
                v = -search(cme, copp, -beta, -v, n - 1, size, tt, buf, stats)
        if v > best:
            best = v
            best_move = np.int64(scratch[i, 0])
            if v > alpha:
                alpha = v
                if alpha >= beta:
                    break

    if use_tt:
        if best <= alpha0:
            tt_store(tt, me, opp, -INF, best, best_move, n)
        elif best >= beta:
            tt_store(tt, me, opp, best, INF, best_move, n)
        else:
            tt_store(tt, me, opp, best, best, best_move, n)
    return best


def new_table(bits: int) -> np.ndarray:
    """An empty transposition table of 2**bits entries (24 bytes each)."""
    return np.zeros((1 << bits, 3), np.uint64)


def new_scratch() -> np.ndarray:
    """The per-search scratch array that `search` needs."""
    return np.zeros((MAX_SIZE * MAX_SIZE + 1, SCRATCH_SLOTS, 4), np.uint64)
