"""Usage measured by the agents' own OpenTelemetry: an OTLP/HTTP receiver for agentdeck.

`decode` turns OTLP request bodies into `MeasuredPoint`s (the interface `Deck.record_measured`
takes); `receiver` serves them over HTTP. The OpenTelemetry protobuf classes are imported only
when a body is decoded, so no other command pays for them.
"""
