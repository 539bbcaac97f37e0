"""Rows from the source: SQL (SQLAlchemy), CSV or JSON (an array or JSON lines)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from atende_extract.config import ExtractConfig, SourceConfig


def _plain(value: Any) -> Any:
    """JSON-friendly: Decimals as strings (never floats: prices stay exact), dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def sql_rows(source: SourceConfig) -> Iterator[dict[str, Any]]:
    from sqlalchemy import create_engine, text  # imported only for SQL sources

    assert source.url
    assert source.query
    engine = create_engine(source.url)
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(text(source.query))
            for row in result.mappings():
                yield {str(k): _plain(v) for k, v in row.items()}
    finally:
        engine.dispose()


def csv_rows(source: SourceConfig) -> Iterator[dict[str, Any]]:
    assert source.path
    with Path(source.path).open(encoding=source.encoding, newline="") as handle:
        yield from csv.DictReader(handle, delimiter=source.csv_delimiter)


def json_rows(source: SourceConfig) -> Iterator[dict[str, Any]]:
    assert source.path
    text = Path(source.path).read_text(encoding=source.encoding).strip()
    if text.startswith("["):
        yield from json.loads(text)
    else:
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)


def rows(config: ExtractConfig) -> Iterator[dict[str, Any]]:
    reader = {"sql": sql_rows, "csv": csv_rows, "json": json_rows}[config.source.kind]
    return reader(config.source)


def _column(row: dict[str, Any], column: str, field: str) -> Any:
    """The row's value for ``column``; matched case-insensitively when the exact name is
    absent, because databases fold unquoted names (PostgreSQL answers ``CODPROD`` as
    ``codprod``, Oracle as ``CODPROD``) and the mapping is written by a person."""
    if column in row:
        return row[column]
    folded = [key for key in row if key.casefold() == column.casefold()]
    if len(folded) == 1:
        return row[folded[0]]
    if folded:
        raise SystemExit(f"column {column!r} (for {field}) matches {folded}: name it exactly")
    raise SystemExit(f"column {column!r} (for {field}) is not in the source rows")


def map_row(row: dict[str, Any], config: ExtractConfig) -> dict[str, Any]:
    """One source row as an Atende record (only mapped fields; validation is server-side,
    where invalid records are quarantined with a reason instead of stopping the push)."""
    record: dict[str, Any] = {}
    for field, column in config.columns.items():
        value = _column(row, column, field)
        if field == "available":
            value = str(value).strip().lower() in config.available_values
        elif field == "source_id":
            value = str(value).strip()
        elif isinstance(value, str):
            value = value.strip()
        record[field] = value
    return record
