"""agentdeck terminal interface."""
