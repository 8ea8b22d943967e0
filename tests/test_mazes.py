"""Maze generation and moves, the two networks' views, and vector fields of hand-made policies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from mazes.env import (
    MazeConfig,
    corner_mask,
    distances,
    generate_walls,
    move,
    new_mazes,
    observe,
    open_squares,
    step,
    within,
)
from mazes.fields import Probe, arrows, decision_squares, field_logits
from mazes.misgeneralisation import rate
from mazes.net import ConvNet, NetConfig, ValueIterationNet, build_net, cheese_offsets

# a hand-drawn 5x5 maze: '#' wall, '.' open
HAND = ["..#..",
        "#.#.#",
        ".....",
        ".###.",
        "...#."]
HAND_WALLS = np.array([[ch == "#" for ch in row] for row in HAND])


@pytest.mark.parametrize("size", [3, 7, 9])
def test_generated_mazes_are_perfect_and_fully_reachable(size: int) -> None:
    walls = generate_walls(300, size, np.random.default_rng(size))
    cells = ((size + 1) // 2) ** 2
    for w in walls:
        open_ = ~w
        assert open_[::2, ::2].all()  # every cell carved
        assert not open_[1::2, 1::2].any()  # the squares between four cells stay walls
        assert open_.sum() == 2 * cells - 1  # a spanning tree: cells + (cells - 1) passages
        dist = distances(w, (0, 0))
        assert (dist[open_] >= 0).all() and (dist[w] == -1).all()
        # a tree has exactly one fewer adjacent open pair than open squares (no loops)
        pairs = (open_[1:] & open_[:-1]).sum() + (open_[:, 1:] & open_[:, :-1]).sum()
        assert pairs == open_.sum() - 1
    assert len({w.tobytes() for w in walls}) > 250 or size == 3  # randomised, not one maze


def test_generation_is_seeded() -> None:
    a = generate_walls(5, 9, np.random.default_rng(1))
    b = generate_walls(5, 9, np.random.default_rng(1))
    c = generate_walls(5, 9, np.random.default_rng(2))
    assert (a == b).all() and (a != c).any()


def test_walls_and_edges_block_moves() -> None:
    walls = np.broadcast_to(HAND_WALLS, (6, 5, 5))
    pos = np.array([[0, 1], [0, 1], [0, 0], [2, 0], [4, 2], [4, 4]])
    # up off the grid, right into a wall, down into a wall, down, right into a wall, up
    actions = np.array([0, 1, 2, 2, 1, 0])
    expected = np.array([[0, 1], [0, 1], [0, 0], [3, 0], [4, 2], [3, 4]])
    assert (move(walls, pos, actions) == expected).all()


def test_random_moves_stay_on_open_squares_and_step_ends_at_the_cheese() -> None:
    rng = np.random.default_rng(0)
    mazes = new_mazes(64, MazeConfig(size=7), rng)
    rows = np.arange(64)
    for _ in range(30):
        before = mazes.mouse.copy()
        _, done, won = step(mazes, rng.integers(4, size=64), max_steps=1000)
        assert (~mazes.walls[rows, mazes.mouse[:, 0], mazes.mouse[:, 1]]).all()
        assert (np.abs(mazes.mouse - before).sum(1) <= 1).all()
        assert (won == (mazes.mouse == mazes.cheese).all(1)).all() and (done == won).all()
    _, done, _ = step(mazes, np.zeros(64, dtype=int), max_steps=31)
    assert done.all()  # the step cap ends every episode


def test_cheese_regions() -> None:
    rng = np.random.default_rng(3)
    corner = corner_mask(9, 3)
    inside = new_mazes(200, MazeConfig(cheese="corner"), rng)
    assert corner[inside.cheese[:, 0], inside.cheese[:, 1]].all()
    outside = new_mazes(200, MazeConfig(cheese="not-corner"), rng)
    assert not corner[outside.cheese[:, 0], outside.cheese[:, 1]].any()
    assert not corner[outside.mouse[:, 0], outside.mouse[:, 1]].any()
    assert not (outside.mouse == outside.cheese).all(1).any()


CONV = NetConfig(arch="conv", channels=4)


def test_value_iteration_gives_distances_and_scores_moves_by_target_square() -> None:
    """With step reward -1 and cheese weight 3, v is 2 minus the distance to the cheese."""
    mouse, cheese = np.array([[2, 1]]), np.array([[0, 4]])
    obs = torch.from_numpy(observe(HAND_WALLS[None], mouse, cheese))
    net = build_net(5, NetConfig(passes=12), seed=0)
    assert isinstance(net, ValueIterationNet) and net.think(obs).shape == (1, 0)
    logits, _ = net(obs)
    assert torch.equal(logits, torch.zeros(1, 4))  # the untrained policy is uniform
    with torch.no_grad():
        net.reward.weight[0, 1] = 3.0
        net.reward.bias.fill_(-1.0)
    v = net.value_map(obs)[0][0, 1:-1, 1:-1].detach().numpy()
    dist = distances(HAND_WALLS, cheese[0])
    assert np.array_equal(v[~HAND_WALLS], 2.0 - dist[~HAND_WALLS]) and not v[HAND_WALLS].any()
    logits, _ = net(obs)
    # from (2, 1): up (1, 1), right (2, 2), down is a wall (stays at (2, 1)), left (2, 0)
    hand = [v[1, 1], v[2, 2], v[2, 1], v[2, 0]]
    assert torch.allclose(logits[0], torch.tensor(hand))
    short = ValueIterationNet(5, NetConfig(passes=2))
    short.load_state_dict(net.state_dict())
    far = short.value_map(obs)[0][0, 1:-1, 1:-1].detach().numpy()
    assert far[4, 0] == -2.0 and far[0, 3] == 1.0  # beyond 2 moves: -1 a pass; 1 move: 2 - 1


def test_conv_net_sees_offsets_to_the_cheese_and_scores_moves_by_target_square() -> None:
    obs = torch.from_numpy(observe(HAND_WALLS[None], np.array([[2, 1]]), np.array([[0, 4]])))
    offsets = cheese_offsets(obs)[0].numpy() * 5
    assert offsets[:, 0, 4].tolist() == [0, 0] and offsets[:, 2, 1].tolist() == [2, -3]
    net = build_net(5, replace(CONV, iterations=2), seed=0)
    assert isinstance(net, ConvNet)
    maps = {}
    net.head.register_forward_hook(lambda module, inputs, output: maps.update(out=output[0]))
    logits, value = net(obs)
    # in the wall-ringed 7x7 grid the mouse (2, 1) sits at (3, 2): up (2, 2), right (3, 3),
    # down (4, 2), left (3, 1)
    assert torch.equal(logits[0], maps["out"][0, [2, 3, 4, 3], [2, 3, 2, 1]])
    assert torch.equal(value[0], maps["out"][1, 3, 2])
    corner = net(torch.from_numpy(observe(HAND_WALLS[None], np.array([[0, 0]]),
                                          np.array([[0, 4]]))))[0]
    assert torch.equal(corner[0, [0, 3]], maps["out"][0, [0, 1], [1, 0]])  # the ring of wall


def test_vector_field_of_a_hand_made_policy() -> None:
    """The policy reads the mouse's square from the mouse plane and plays a fixed table."""
    table = {(0, 0): (0.7, 0.1, 0.1, 0.1), (0, 1): (0.1, 0.1, 0.7, 0.1),
             (2, 4): (0.0, 0.5, 0.0, 0.5), (4, 1): (0.25, 0.4, 0.25, 0.1)}

    def policy(obs: np.ndarray) -> np.ndarray:
        out = np.zeros((len(obs), 4))
        for i, plane in enumerate(obs[:, 1]):
            r, c = np.argwhere(plane)[0]
            out[i] = np.log(np.maximum(table.get((r, c), (0.25,) * 4), 1e-12))
        return out

    probe = Probe("hand", HAND_WALLS, np.array([0, 4]))
    cells = probe.squares()
    assert len(cells) == (~HAND_WALLS).sum() - 1 and not (cells == [0, 4]).all(1).any()
    field = arrows(np.exp(field_logits(policy, probe)))
    hand = {(0, 0): (0.0, 0.6),   # mostly up: x = p(right) - p(left) = 0, y = 0.7 - 0.1
            (0, 1): (0.0, -0.6),  # mostly down
            (2, 4): (0.0, 0.0),   # right and left cancel
            (4, 1): (0.3, 0.0)}   # p(right) 0.4 - p(left) 0.1; up and down cancel
    for (r, c), xy in hand.items():
        i = np.flatnonzero((cells == [r, c]).all(1))[0]
        assert np.allclose(field[i], xy, atol=1e-9)
    others = ~np.isin(np.arange(len(cells)), [np.flatnonzero((cells == k).all(1))[0]
                                              for k in table])
    assert np.allclose(field[others], 0.0)  # uniform elsewhere: no arrow


def test_best_moves_and_decision_squares_of_the_hand_maze() -> None:
    probe = Probe("hand", HAND_WALLS, np.array([0, 4]))
    cells, best = probe.squares(), probe.best_moves()
    at = {tuple(c): b for c, b in zip(cells, best, strict=True)}
    assert at[(2, 3)].tolist() == [True, False, False, False]  # up, towards (1, 3) -> (0, 3)
    assert at[(2, 1)].tolist() == [False, True, False, False]  # right along row 2
    assert at[(0, 0)].tolist() == [False, True, False, False]  # the dead end at the top-left
    junctions = {tuple(cells[i]) for i in decision_squares(probe, 10)}
    assert junctions == {(2, 1), (2, 3)}  # the squares with three or more open neighbours


def test_rate_gives_the_wilson_interval() -> None:
    r = rate(np.array([True] * 8 + [False] * 2))
    assert r["count"] == 8 and r["of"] == 10 and r["share"] == 0.8
    assert r["wilson95"] == pytest.approx([0.4902, 0.9433], abs=1e-4)


def test_open_squares_are_row_major() -> None:
    assert open_squares(HAND_WALLS)[:3].tolist() == [[0, 0], [0, 1], [0, 3]]


def test_within_matches_breadth_first_distances_and_places_the_curriculum_mouse() -> None:
    rng = np.random.default_rng(4)
    mazes = new_mazes(100, MazeConfig(), rng)
    dist = np.stack([distances(w, c) for w, c in zip(mazes.walls, mazes.cheese, strict=True)])
    for moves in (0, 1, 5, 20):
        assert (within(mazes.walls, mazes.cheese, moves) == ((dist >= 0) & (dist <= moves))).all()
    near = new_mazes(300, MazeConfig(), rng, reach=2)
    d = [distances(w, c)[tuple(m)] for w, c, m in zip(near.walls, near.cheese, near.mouse,
                                                      strict=True)]
    assert set(d) == {1, 2}


def test_ppo_trains_the_conv_net_through_the_last_passes_only() -> None:
    obs = torch.from_numpy(observe(HAND_WALLS[None], np.array([[2, 1]]), np.array([[0, 4]])))
    full = ConvNet(5, replace(CONV, iterations=3, backprop=8))
    cut = ConvNet(5, replace(CONV, iterations=3, backprop=1))
    cut.load_state_dict(full.state_dict())
    outputs = [full(obs), cut(obs), cut(obs, cut.think(obs))]
    for logits, value in outputs[1:]:  # the same function, however it is split
        assert torch.allclose(logits, outputs[0][0]) and torch.allclose(value, outputs[0][1])
    assert not full.think(obs).any()  # nothing runs without gradient by default
    grads = []
    for net, (logits, value) in zip((full, cut), outputs[:2], strict=True):
        (logits.sum() + value).backward()
        grads.append(net.block.weight.grad)
    # one pass of gradient: the block's weights see only the input of its last pass
    assert grads[1].abs().sum() > 0 and not torch.allclose(grads[0], grads[1])
