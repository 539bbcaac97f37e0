"""Interfaces logic depends on, separate from their boto3 implementations: importing a
port never loads boto3 (an import-linter contract in ``.importlinter`` keeps it so)."""
