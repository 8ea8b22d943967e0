"""AlphaZero for Othello: the Game implementation, the network, the player, its evaluation."""
