"""Tests of the OTLP receiver (`agentdeck.core.otel`, `agentdeck otel`)."""
