"""Othello rules: bitboards, batched kernels, the encoder, symmetries, perft, exact solver."""
