"""Models shared by more than one domain."""
