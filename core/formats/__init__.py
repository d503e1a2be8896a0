"""Other tools' files and agentdeck's own: importers and the native export format."""
