"""agentdeck demo: simulated agents working a sample board, for first runs and recordings."""
