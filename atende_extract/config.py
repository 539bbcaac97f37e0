"""The extractor's configuration (a TOML or JSON file)::

[target]
url = "https://api.atende.example"       # or http://127.0.0.1:8000 locally
tenant_id = "demo-pizzaria"
stream = "catalog"                         # or "stock"
token_env = "ATENDE_INGEST_TOKEN"          # the tenant's ingest token lives here
batch_size = 500

[source]
kind = "sql"                               # "sql", "csv" or "json"
url = "mssql+pyodbc://user:pass@erp/dsn"   # any SQLAlchemy URL; sqlite:///erp.db
query = "SELECT CODPROD, DESCR, PRECO, SALDO, ATIVO FROM PRODUTOS"
# path = "produtos.csv"                    # for csv/json

[columns]                                  # Atende field = source column
source_id = "CODPROD"
name = "DESCR"
price = "PRECO"                            # currency units; or price_cents
stock = "SALDO"
available = "ATIVO"
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FIELDS = (
    "source_id",
    "sku",
    "name",
    "price",
    "price_cents",
    "description",
    "category",
    "stock",
    "available",
    "aliases",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetConfig(_Strict):
    url: str
    tenant_id: str
    stream: Literal["catalog", "stock"] = "catalog"
    token: str | None = None
    token_env: str = "ATENDE_INGEST_TOKEN"  # noqa: S105 - a variable name, not a secret
    batch_size: int = Field(500, ge=1, le=2_000)
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(8, ge=1, le=50)

    def resolved_token(self) -> str:
        token = self.token or os.environ.get(self.token_env)
        if not token:
            raise SystemExit(f"no ingest token: set {self.token_env} or target.token")
        return token


class SourceConfig(_Strict):
    kind: Literal["sql", "csv", "json"]
    url: str | None = None
    query: str | None = None
    path: str | None = None
    csv_delimiter: str = ","
    encoding: str = "utf-8"

    @model_validator(mode="after")
    def _complete(self) -> SourceConfig:
        if self.kind == "sql" and not (self.url and self.query):
            raise ValueError("a sql source needs url and query")
        if self.kind in ("csv", "json") and not self.path:
            raise ValueError(f"a {self.kind} source needs path")
        return self


class ExtractConfig(_Strict):
    target: TargetConfig
    source: SourceConfig
    columns: dict[str, str]
    #: Values of the ``available`` column that mean "sellable" (case-insensitive).
    available_values: list[str] = Field(
        default_factory=lambda: ["1", "true", "t", "s", "sim", "y", "yes", "a", "ativo"]
    )
    state_file: str = ".atende-extract-state.json"

    @model_validator(mode="after")
    def _columns(self) -> ExtractConfig:
        unknown = set(self.columns) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown target fields in [columns]: {sorted(unknown)}")
        if "source_id" not in self.columns:
            raise ValueError("[columns] must map source_id")
        if self.target.stream == "catalog" and not {"price", "price_cents"} & set(self.columns):
            raise ValueError("[columns] must map price or price_cents for the catalog stream")
        return self


def load_config(path: str | Path) -> ExtractConfig:
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    data = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    config = ExtractConfig.model_validate(data)
    state = Path(config.state_file)
    if not state.is_absolute():
        config.state_file = str(file.parent / state)
    return config
