"""Contract-faithful stand-ins for Bling and Plugg.to, and a virtual clock.

The Bling fake enforces what the real API does to a client that misbehaves: more than 3
requests inside any one-second window or 120,000 a day answer 429; an expired or unknown
bearer token answers 401; the refresh token rotates on every refresh and the old one is
refused (400 invalid_grant); ``limite`` is capped at 100; ``idsProdutos[]`` is required for
balances; orders need a contact and items. Time is the shared virtual clock, so tests
never sleep for real.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx

SP = ZoneInfo("America/Sao_Paulo")


class VirtualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._t = (start or datetime(2026, 11, 22, 12, 0, tzinfo=UTC)).timestamp()
        self.slept = 0.0

    def time(self) -> float:
        return self._t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def sleep(self, seconds: float) -> None:
        self._t += max(0.0, seconds)
        self.slept += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self._t += seconds


class Crash(BaseException):
    """Raised inside a request to simulate the worker dying mid-run (nothing is saved)."""


@dataclass
class FakeBling:
    clock: VirtualClock
    client_id: str = "cid"
    client_secret: str = "csecret"
    per_second: int = 3
    per_day: int = 120_000
    access_ttl: int = 21_600
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: parent id → its variations as the product detail lists them (``variacoes``)
    variations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    balances: dict[int, float] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: set[int] = field(default_factory=lambda: {777})
    storm: int = 0  # the next N API requests answer 429 whatever the rate
    crash_when: Callable[[httpx.Request], bool] | None = None
    log: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    throttled: int = 0
    refreshes: int = 0

    def __post_init__(self) -> None:
        self._recent: deque[float] = deque()
        self._day_count = 0
        self._access: dict[str, float] = {}
        self._refresh: str | None = None
        self._ids = itertools.count(9_000_000)
        self.transport = httpx.MockTransport(self.handle)

    # -- test helpers ----------------------------------------------------------------------

    def authorize(self) -> tuple[str, str, float]:
        """The tokens a tenant gets when it connects Bling (authorization-code grant)."""
        return self._issue()

    def _issue(self) -> tuple[str, str, float]:
        access = "at_" + secrets.token_hex(8)
        self._refresh = "rt_" + secrets.token_hex(8)
        expires = self.clock.time() + self.access_ttl
        self._access[access] = expires
        return access, self._refresh, expires

    def expire_access_tokens(self) -> None:
        for token in self._access:
            self._access[token] = self.clock.time() - 1

    def add_product(
        self,
        pid: int,
        *,
        codigo: str | None = None,
        nome: str | None = None,
        preco: float | None = 10.0,
        situacao: str = "A",
        stock: float = 5,
        descricao: str = "",
    ) -> None:
        self.products[pid] = {
            "id": pid,
            "nome": nome or f"Produto {pid}",
            "codigo": codigo if codigo is not None else f"SKU-{pid}",
            "preco": preco,
            "tipo": "P",
            "situacao": situacao,
            "formato": "S",
            "descricaoCurta": descricao,
            "dataAlteracao": self.clock.now().astimezone(SP).strftime("%Y-%m-%d %H:%M:%S"),
        }
        self.balances[pid] = stock

    def add_variations(
        self, parent: int, variations: list[tuple[int, str, float | None]], *, nome: str
    ) -> None:
        """A product with variations, as Bling keeps it: the parent (``formato`` V) lists
        them in ``variacoes`` on its detail; each variation is also a product of its own,
        listed with ``idProdutoPai``."""
        self.add_product(parent, nome=nome, preco=0)
        children = []
        for pid, label, preco in variations:
            value = label.split(":", 1)[-1]
            self.add_product(pid, nome=f"{nome} {value}", preco=preco, codigo=f"{parent}-{value}")
            self.products[pid]["idProdutoPai"] = parent
            children.append(
                {
                    **self.products[pid],
                    "variacao": {"nome": label, "ordem": len(children) + 1,
                                 "produtoPai": {"id": parent}},
                }
            )  # fmt: skip
        self.products[parent]["formato"] = "V"
        self.variations[parent] = children

    def touch(self, pid: int, **changes: Any) -> None:
        self.products[pid].update(changes)
        self.products[pid]["dataAlteracao"] = (
            self.clock.now().astimezone(SP).strftime("%Y-%m-%d %H:%M:%S")
        )

    def webhook(
        self, event: str, data: dict[str, Any], *, event_id: str | None = None
    ) -> dict[str, Any]:
        return {
            "eventId": event_id or secrets.token_hex(8),
            "date": self.clock.now().isoformat().replace("+00:00", "Z"),
            "version": "v1",
            "event": event,
            "companyId": "c0ffee",
            "data": data,
        }

    def api_requests(self, path_prefix: str = "/") -> list[tuple[str, str, dict[str, list[str]]]]:
        return [r for r in self.log if r[1].startswith(path_prefix)]

    # -- the HTTP contract -----------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/Api/v3")
        params = parse_qs(request.url.query.decode(), keep_blank_values=True)
        if path == "/oauth/token":
            return self._token(request)
        if self.crash_when and self.crash_when(request):
            raise Crash(f"worker died during {request.method} {path}")
        now = self.clock.time()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if (
            self.storm > 0
            or len(self._recent) >= self.per_second
            or self._day_count >= self.per_day
        ):
            self.storm = max(0, self.storm - 1)
            self.throttled += 1
            return _error(429, "TOO_MANY_REQUESTS", "limite de requisições atingido")
        self._recent.append(now)
        self._day_count += 1
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or self._access.get(token, 0) <= now:
            return _error(401, "invalid_token", "invalid_token")
        self.log.append((request.method, path, params))
        if request.method == "GET" and path == "/produtos":
            return self._list_products(params)
        if request.method == "GET" and path.startswith("/produtos/"):
            pid = int(path.rsplit("/", 1)[1])
            if pid not in self.products:
                return _error(404, "RESOURCE_NOT_FOUND", "produto não encontrado")
            detail = dict(self.products[pid])
            if pid in self.variations:  # only the detail lists a product's variations
                detail["variacoes"] = [
                    {**v, "situacao": self.products[v["id"]]["situacao"]}
                    for v in self.variations[pid]
                ]
            return httpx.Response(200, json={"data": detail})
        if request.method == "GET" and path == "/estoques/saldos":
            ids = params.get("idsProdutos[]")
            if not ids:
                return _error(400, "VALIDATION_ERROR", "idsProdutos é obrigatório")
            data = [
                {
                    "produto": {
                        "id": int(i),
                        "codigo": self.products.get(int(i), {}).get("codigo"),
                    },
                    "saldoFisicoTotal": self.balances.get(int(i), 0),
                    "saldoVirtualTotal": self.balances.get(int(i), 0),
                }
                for i in ids
                if int(i) in self.products
            ]
            return httpx.Response(200, json={"data": data})
        if request.method == "GET" and path == "/pedidos/vendas":
            wanted = set(params.get("numerosLojas[]", []))
            rows = [
                {"id": oid, "numero": o["numero"], "numeroLoja": o["numeroLoja"]}
                for oid, o in self.orders.items()
                if not wanted or o["numeroLoja"] in wanted
            ]
            return httpx.Response(200, json={"data": rows})
        if request.method == "POST" and path == "/pedidos/vendas":
            return self._create_order(json.loads(request.content))
        return _error(404, "RESOURCE_NOT_FOUND", f"no route {request.method} {path}")

    def _token(self, request: httpx.Request) -> httpx.Response:
        basic = request.headers.get("Authorization", "").removeprefix("Basic ")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if basic != expected:
            return httpx.Response(401, json={"error": {"type": "invalid_client"}})
        form = parse_qs(request.content.decode())
        if form.get("grant_type") != ["refresh_token"]:
            return httpx.Response(400, json={"error": {"type": "unsupported_grant_type"}})
        if not self._refresh or form.get("refresh_token") != [self._refresh]:
            return httpx.Response(400, json={"error": {"type": "invalid_grant"}})
        self.refreshes += 1
        access, refresh, _ = self._issue()
        return httpx.Response(
            200,
            json={
                "access_token": access,
                "expires_in": self.access_ttl,
                "token_type": "Bearer",
                "scope": "98309 318257570",
                "refresh_token": refresh,
            },
        )

    def _list_products(self, params: dict[str, list[str]]) -> httpx.Response:
        page = int(params.get("pagina", ["1"])[0])
        limit = int(params.get("limite", ["100"])[0])
        if page < 1 or not 1 <= limit <= 100:
            return _error(400, "VALIDATION_ERROR", "pagina/limite inválidos")
        rows = [self.products[k] for k in sorted(self.products)]
        if "dataAlteracaoInicial" in params:
            since = params["dataAlteracaoInicial"][0]
            rows = [p for p in rows if p["dataAlteracao"] >= since]
        start = (page - 1) * limit
        return httpx.Response(200, json={"data": rows[start : start + limit]})

    def _create_order(self, body: dict[str, Any]) -> httpx.Response:
        contact = (body.get("contato") or {}).get("id")
        if contact not in self.contacts:
            return _error(400, "VALIDATION_ERROR", "contato inválido")
        if not body.get("itens") or not body.get("data"):
            return _error(400, "VALIDATION_ERROR", "itens e data são obrigatórios")
        for item in body["itens"]:
            if "produto" in item and int(item["produto"]["id"]) not in self.products:
                return _error(400, "VALIDATION_ERROR", "produto inexistente")
        oid = next(self._ids)
        self.orders[oid] = {
            **body,
            "numero": len(self.orders) + 1,
            "numeroLoja": body.get("numeroLoja"),
        }
        return httpx.Response(201, json={"data": {"id": oid}})


def _error(status: int, kind: str, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"type": kind, "message": message, "description": message}}
    )


def sp_now(clock: VirtualClock, delta: timedelta = timedelta()) -> str:
    return (clock.now() + delta).astimezone(SP).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class FakePluggto:
    """Plugg.to: password-grant tokens (expiring), ``access_token`` as a query parameter,
    ``{"Product": {...}}`` documents, notifications that carry ids only."""

    clock: VirtualClock
    client_id: str = "pcid"
    client_secret: str = "psecret"
    username: str = "api-user"
    password: str = "api-pass"
    token_ttl: int = 3_600
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    storm: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)
    tokens_issued: int = 0

    def __post_init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self.transport = httpx.MockTransport(self.handle)

    def add_product(self, pid: str, **fields: Any) -> None:
        self.products[pid] = {
            "id": pid,
            "sku": fields.pop("sku", f"PG-{pid}"),
            "name": fields.pop("name", f"Produto {pid}"),
            "price": fields.pop("price", 20.0),
            "special_price": fields.pop("special_price", None),
            "quantity": fields.pop("quantity", 4),
            "status": "active",
            "categories": [{"name": "Pizzas"}],
            "variations": [],
            **fields,
        }

    def notification(self, pid: str, action: str = "updated") -> dict[str, Any]:
        return {
            "type": "products",
            "id": pid,
            "action": action,
            "user": 1234,
            "changes": {"status": False, "stock": True, "price": True},
        }

    def expire_tokens(self) -> None:
        for token in self._tokens:
            self._tokens[token] = self.clock.time() - 1

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/token" and request.method == "POST":
            form = parse_qs(request.content.decode())
            wanted = {
                "grant_type": ["password"],
                "client_id": [self.client_id],
                "client_secret": [self.client_secret],
                "username": [self.username],
                "password": [self.password],
            }
            if any(form.get(k) != v for k, v in wanted.items()):
                return httpx.Response(401, json={"error": "invalid_client"})
            token = "pg_" + secrets.token_hex(6)
            self._tokens[token] = self.clock.time() + self.token_ttl
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": token,
                    "expires_in": self.token_ttl,
                    "token_type": "bearer",
                    "refresh_token": "r_" + token,
                },
            )
        params = parse_qs(request.url.query.decode())
        token = (params.get("access_token") or [""])[0]
        if self._tokens.get(token, 0) <= self.clock.time():
            return httpx.Response(401, json={"error": "invalid_token"})
        if self.storm > 0:
            self.storm -= 1
            return httpx.Response(429, json={"error": "too many requests"})
        self.log.append((request.method, path))
        if path.startswith("/products/"):
            pid = path.rsplit("/", 1)[1]
            if pid not in self.products:
                return httpx.Response(404, json={"error": "product not found"})
            return httpx.Response(200, json={"Product": self.products[pid]})
        if path == "/products":
            page = int(params.get("page", ["1"])[0])
            limit = int(params.get("limit", ["100"])[0])
            rows = [self.products[k] for k in sorted(self.products)]
            chunk = rows[(page - 1) * limit : page * limit]
            return httpx.Response(
                200, json={"total": len(rows), "result": [{"Product": p} for p in chunk]}
            )
        return httpx.Response(404, json={"error": "no route"})
