"""Interpreting the Othello agent: activation datasets, board concepts, probes, trajectories."""
