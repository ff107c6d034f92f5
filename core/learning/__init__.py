"""Learning: shadow trades, strategy statistics with honest intervals, the knowledge base and the optimizer."""
