"""The MCP server: an adapter over `agentdeck.core.Deck` that nothing in core imports."""
