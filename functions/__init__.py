"""Lambda code, one package per domain."""
