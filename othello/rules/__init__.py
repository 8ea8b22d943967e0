"""Othello rules: bitboards, compiled kernels, exact solver and the perfect-play oracle."""
