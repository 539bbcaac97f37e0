"""The orders domain: the order record and its lifecycle, call records, notifications."""
