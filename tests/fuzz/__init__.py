"""Fuzz tests: hypothesis throws malformed CLI arguments, MCP tool arguments and import files
at agentdeck and checks that each is refused with one clear line and no change to the database.
Scale the number of examples with AGENTDECK_FUZZ_EXAMPLES (a multiplier, default 1)."""
