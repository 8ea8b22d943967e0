"""Compiled (numba) walks over the array forest: PUCT descent, the Gumbel rule below a Gumbel
root, and the backup.

Why: per simulation the numpy walk costs a dozen array operations per tree level, which on a CPU
weighed more than the network itself; a compiled loop over trees and levels costs microseconds.
The arithmetic is the numpy rule's, in float32 and in the same order (Q, then c_puct * P times
sqrt(N) + 1e-8, over 1 + n, first maximum wins), so the compiled search visits exactly what the
numpy one did. Loaded on the first search (numba is slow to import), cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

F32_ONE = np.float32(1.0)
F32_EPS = np.float32(1e-8)


@njit(cache=True)
def puct_walk(visits, value_sum, prior, legal, node_value, child, terminal, c_puct,
              path_node, path_action, depth, leaf_value, fresh):
    """Walk every tree from its root by PUCT to an unexpanded edge or a terminal node; write the
    path (`path_node`, `path_action` per level), its length, and for terminal ends the leaf
    value (`fresh[b]` False) - else `fresh[b]` True: the last edge needs expanding."""
    c = np.float32(c_puct)
    for b in range(visits.shape[0]):
        node, d = 0, 0
        while True:
            total = np.float32(0.0)
            for a in range(visits.shape[2]):
                total += visits[b, node, a]
            scale = np.float32(np.sqrt(total)) + F32_EPS
            best, best_score = -1, -np.inf
            for a in range(visits.shape[2]):
                if not legal[b, node, a]:
                    continue
                n = visits[b, node, a]
                q = value_sum[b, node, a] / max(n, F32_ONE) if n > 0 else node_value[b, node]
                score = q + (c * prior[b, node, a]) * scale / (F32_ONE + n)
                if best < 0 or score > best_score:
                    best, best_score = a, score
            path_node[b, d], path_action[b, d] = node, best
            d += 1
            nxt = child[b, node, best]
            if nxt < 0:
                fresh[b] = True
                break
            if terminal[b, nxt]:
                fresh[b] = False
                leaf_value[b] = node_value[b, nxt]
                break
            node = nxt
        depth[b] = d


@njit(cache=True)
def backup(visits, value_sum, path_node, path_action, depth, leaf_value):
    """Add each tree's leaf value to every edge of its path, signed for the player choosing at
    that edge (the leaf's side iff an even number of plies separates them)."""
    for b in range(depth.shape[0]):
        for level in range(depth[b]):
            sign = F32_ONE if (depth[b] - level) % 2 == 0 else -F32_ONE
            node, action = path_node[b, level], path_action[b, level]
            visits[b, node, action] += F32_ONE
            value_sum[b, node, action] += sign * leaf_value[b]


@njit(cache=True)
def gumbel_walk(visits, value_sum, prior, legal, node_value, child, terminal, c_visit, c_scale,
                root_action, path_node, path_action, depth, leaf_value, fresh):
    """`puct_walk` below a Gumbel root: the first step is `root_action[b]`, then every node
    takes argmax(pi' - n / (1 + N)) with pi' = softmax(log P + sigma(completed Q)): the
    arithmetic of `alphazero.gumbel.improved_policy`, in float64."""
    actions = visits.shape[2]
    z = np.empty(actions)
    for b in range(visits.shape[0]):
        node, d, best = 0, 0, root_action[b]
        while True:
            if d > 0:
                n_sum, n_max, p_vis, pq = 0.0, 0.0, 0.0, 0.0
                for a in range(actions):
                    n = visits[b, node, a]
                    n_sum += n
                    n_max = max(n_max, n)
                    if n > 0:
                        p_vis += prior[b, node, a]
                        pq += prior[b, node, a] * (value_sum[b, node, a] / n)
                v = node_value[b, node]
                v_mix = (v + n_sum * pq / p_vis) / (1 + n_sum) if p_vis > 0 else v
                scale = (c_visit + n_max) * c_scale
                z_max = -np.inf
                for a in range(actions):
                    z[a] = -np.inf
                    if legal[b, node, a] and prior[b, node, a] > 0:
                        n = visits[b, node, a]
                        q = value_sum[b, node, a] / n if n > 0 else v_mix
                        z[a] = np.log(prior[b, node, a]) + scale * (q + 1) / 2
                        z_max = max(z_max, z[a])
                total = 0.0
                for a in range(actions):
                    if z[a] > -np.inf:
                        z[a] = np.exp(z[a] - z_max)
                        total += z[a]
                best, best_score = -1, -np.inf
                for a in range(actions):
                    if not legal[b, node, a]:
                        continue
                    pi = z[a] / total if z[a] > -np.inf else 0.0
                    score = pi - visits[b, node, a] / (1 + n_sum)
                    if best < 0 or score > best_score:
                        best, best_score = a, score
            path_node[b, d], path_action[b, d] = node, best
            d += 1
            nxt = child[b, node, best]
            if nxt < 0:
                fresh[b] = True
                break
            if terminal[b, nxt]:
                fresh[b] = False
                leaf_value[b] = node_value[b, nxt]
                break
            node = nxt
        depth[b] = d
