"""Connectors: each reads one kind of source and yields canonical records (see normalise)."""
