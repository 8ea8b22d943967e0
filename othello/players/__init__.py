"""Othello players: the registry of player specs, classic players, matches between them."""
