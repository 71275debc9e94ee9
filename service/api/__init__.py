"""HTTP routes: parse, call the engine once, wrap the result."""
