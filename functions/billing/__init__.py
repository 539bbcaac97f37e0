"""Wiring is in wiring.py; code in handlers/, logic/, dal/, models/."""
