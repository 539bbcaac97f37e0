"""Billing's domain models: ledger, balance, call sessions, payments, prices, API bodies."""
