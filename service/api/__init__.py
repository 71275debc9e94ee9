"""The HTTP layer: routes (binding only), body reading, admission (gate, memory), deadlines, parsing, streams, problems."""
