"""Matplotlib Othello boards with the project's conventions (as `othello.rules.board.render`): a1 in
the top-left corner, columns a.. left to right, rows 1.. top to bottom, X = Black (black discs),
O = White (white discs). Move probabilities are a heat map on the legal squares (the others are
zero); the pass (a move like any other) gets its own cell below the board, on the same scale.
Library code: the entry point picks the matplotlib backend (`common.process.setup_process`).
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Rectangle

from othello.rules.board import Position
from othello.rules.encoding import legal_mask

BOARD_COLOUR = "#3a7d44"
HEAT_CMAP = "YlOrRd"


def draw_board(ax, pos: Position, probs: np.ndarray | None = None, vmax: float = 1.0,
               cmap: str = HEAT_CMAP, legal_dots: bool = True, fontsize: float = 7,
               highlight: list[int] | tuple[int, ...] = ()):
    """Draw `pos` on `ax`; `probs` (length N*N + 1, pass last) colours the legal squares and the
    pass cell on the fixed scale [0, vmax]; `highlight` squares (e.g. the solver's best moves)
    get a blue outline. Returns the colour mappable (for a colour bar)."""
    n = pos.size
    norm = matplotlib.colors.Normalize(0.0, vmax)
    colours = plt.get_cmap(cmap)
    legal = pos.legal_mask()
    ax.add_patch(Rectangle((-0.5, -0.5), n, n, facecolor=BOARD_COLOUR, zorder=0))
    for sq in range(n * n):
        r, c = divmod(sq, n)
        bit = 1 << sq
        if pos.black & bit or pos.white & bit:
            face = "black" if pos.black & bit else "white"
            ax.add_patch(Circle((c, r), 0.4, facecolor=face, edgecolor="black", lw=0.6, zorder=3))
            continue
        if probs is not None and legal & bit:
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, zorder=1,
                                   facecolor=colours(norm(float(probs[sq])))))
        elif legal_dots and legal & bit:
            ax.plot(c, r, ".", color="0.8", ms=3, zorder=2)
    for k in range(n + 1):
        ax.plot([-0.5, n - 0.5], [k - 0.5, k - 0.5], color="black", lw=0.5, zorder=2)
        ax.plot([k - 0.5, k - 0.5], [-0.5, n - 0.5], color="black", lw=0.5, zorder=2)
    for sq in highlight:
        if sq < n * n:
            r, c = divmod(sq, n)
            ax.add_patch(Rectangle((c - 0.42, r - 0.42), 0.84, 0.84, fill=False,
                                   edgecolor="tab:blue", lw=1.5, zorder=4))
    # The pass cell, below the board; grey when passing is not legal.
    pass_legal = bool(legal_mask(pos)[n * n])
    face = (colours(norm(float(probs[n * n]))) if probs is not None and pass_legal
            else "0.85")
    ax.add_patch(Rectangle((-0.5, n - 0.3), 1, 0.8, facecolor=face, edgecolor="black", lw=0.5))
    label = f"pass {float(probs[n * n]):.2f}" if probs is not None else "pass"
    ax.text(0.7, n + 0.1, label, va="center", fontsize=fontsize)
    ax.set_xlim(-0.55, n - 0.45)
    ax.set_ylim(n + 0.55, -0.55)  # row 1 at the top
    ax.set_aspect("equal")
    ax.set_xticks(range(n), [chr(ord("a") + c) for c in range(n)], fontsize=fontsize)
    ax.set_yticks(range(n), [str(r + 1) for r in range(n)], fontsize=fontsize)
    ax.xaxis.tick_top()
    ax.tick_params(length=0, pad=1)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return matplotlib.cm.ScalarMappable(norm=norm, cmap=colours)


def side_to_move(pos: Position) -> str:
    """'X (black) to move' or 'O (white) to move', for titles."""
    return ("X (black)" if pos.black_to_move else "O (white)") + " to move"
