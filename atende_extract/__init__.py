"""``atende-extract``: push a legacy ERP's catalog to Atende's ingestion endpoint.

Reads rows from a SQL database through SQLAlchemy (SQL Server in production, SQLite in
tests) or from a CSV/JSON file, maps columns to Atende's record fields with a small
config, and pushes batches with retries; a crashed run resumes where it stopped.
"""
