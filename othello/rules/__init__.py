"""Othello rules: bitboards (scalar, batched numpy, compiled numba), the one encoder, symmetries,
perft, the exact solvers and the perfect-play oracle, and a naive reference."""
