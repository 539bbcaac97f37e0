"""Plugg.to hub: notifications carry only ids, so every change is a re-read.

Token: ``POST /oauth/token`` (password grant with the tenant's client id/secret and API
user/password, kept in its ``pluggto`` secret); reads pass ``access_token`` as a query
parameter. Products: ``GET /products/{id}`` → ``{"Product": {...}}``; listing
``GET /products?page=N&limit=M`` → ``{"result": [{"Product": {...}}], "total": T}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

import httpx

from atende_shared.errors import DependencyUnavailable
from functions.sync.logic.connectors.base import SourcePage

SOURCE = "pluggto"


class PluggtoApi:
    def __init__(
        self,
        *,
        http: httpx.Client,
        credentials: Mapping[str, str],
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
    ) -> None:
        self._http = http
        self._creds = dict(credentials)
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._token: str | None = None
        self._token_expires = 0.0

    def _access_token(self, *, force: bool = False) -> str:
        if not force and self._token and self._token_expires - 60 > self._clock():
            return self._token
        answer = self._http.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": self._creds.get("client_id", ""),
                "client_secret": self._creds.get("client_secret", ""),
                "username": self._creds.get("username", ""),
                "password": self._creds.get("password", ""),
            },
        )
        if answer.status_code != 200:
            raise DependencyUnavailable(f"Plugg.to token endpoint answered {answer.status_code}")
        body = answer.json()
        self._token = str(body["access_token"])
        self._token_expires = self._clock() + int(body.get("expires_in", 3600))
        return self._token

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        force = False
        for attempt in range(self._max_attempts):
            token = self._access_token(force=force)
            answer = self._http.get(path, params={**(params or {}), "access_token": token})
            if answer.status_code == 401 and not force:
                force = True
                continue
            if answer.status_code == 404:
                return None
            if answer.status_code == 429 or answer.status_code >= 500:
                self._sleep(min(30.0, 0.5 * 2**attempt))
                continue
            if answer.status_code >= 400:
                raise DependencyUnavailable(f"Plugg.to {path}: {answer.status_code}")
            return dict(answer.json())
        raise DependencyUnavailable(f"Plugg.to {path}: gave up")


def product_record(product: Mapping[str, Any]) -> dict[str, Any]:
    categories = product.get("categories") or []
    price = product.get("special_price") or product.get("price")
    return {
        "source_id": str(product.get("id") or ""),
        "sku": product.get("sku"),
        "name": product.get("name"),
        "price": price,
        "description": product.get("short_description") or product.get("description") or "",
        "category": str(categories[0].get("name", "")) if categories else "",
        "available": product.get("status", "active") != "inactive",
        "stock": product.get("quantity"),
        "options": [
            {
                "option_id": v.get("sku") or v.get("id"),
                "name": v.get("name"),
                "price": v.get("special_price") or v.get("price") or price,
                "available": (v.get("quantity") is None or v.get("quantity", 0) > 0),
            }
            for v in product.get("variations") or []
        ],
        "source_version": product.get("modified"),
    }


class PluggtoConnector:
    source = SOURCE

    def __init__(self, api: PluggtoApi, *, page_limit: int = 100) -> None:
        self._api = api
        self._limit = page_limit

    def read_product(self, product_id: str) -> dict[str, Any] | None:
        answer = self._api.get(f"/products/{product_id}")
        if not answer or "Product" not in answer:
            return None
        return product_record(answer["Product"])

    def balances(self, product_ids: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid in product_ids:
            record = self.read_product(pid)
            if record and record.get("stock") is not None:
                out[pid] = float(record["stock"])
        return out

    def read_page(
        self, *, mode: Literal["incremental", "full"], page: int, since: datetime | None
    ) -> SourcePage:
        params: dict[str, Any] = {"page": page, "limit": self._limit}
        if mode == "incremental" and since is not None:
            params["modified"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = self._api.get("/products", params) or {}
        rows = [r.get("Product", r) for r in answer.get("result", [])]
        return SourcePage(
            records=[product_record(r) for r in rows], has_more=len(rows) >= self._limit
        )
