"""Bling ERP (API v3) over httpx: OAuth with rotating refresh tokens, a shared rate limit,
paged product reads, stock balances, and order write-back.

Facts this follows (docs/sync.md, DESIGN.md): 3 requests/s and 120,000/day per account
across every caller; pages via ``pagina``/``limite`` (max 100), incremental via
``dataAlteracaoInicial``; ``situacao`` A (active), I (inactive), E (excluded: never live);
prices are floats; the refresh token rotates on every refresh, so one refresher at a time
and the new pair is stored before it is used.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_incrementing,
)

from atende_shared.errors import AtendeError, DependencyUnavailable
from atende_shared.events import OrderPlaced
from atende_shared.models.common import utc_now
from atende_shared.observability import MetricUnit, logger, metrics
from functions.sync.logic.connectors.base import SourcePage
from functions.sync.logic.ports import Lock

SOURCE = "bling"
PAGE_LIMIT = 100
BALANCE_CHUNK = 50
_BLING_TZ = ZoneInfo("America/Sao_Paulo")


class BlingRefused(AtendeError):
    """Bling refused a request for good (4xx other than 401/429): retrying will not help."""

    code = "bling_refused"


class BlingNotFound(BlingRefused):
    code = "bling_not_found"


class BlingAuthLost(DependencyUnavailable):
    """The refresh token was refused: the tenant must reconnect Bling (alert the admin)."""

    code = "bling_auth_lost"


@dataclass(frozen=True)
class BlingCredentials:
    client_id: str
    client_secret: str
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: datetime | None = None
    order_contact_id: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> BlingCredentials:
        expires = fields.get("expires_at")
        return cls(
            client_id=fields.get("client_id", ""),
            client_secret=fields.get("client_secret", ""),
            access_token=fields.get("access_token") or None,
            refresh_token=fields.get("refresh_token") or None,
            expires_at=datetime.fromisoformat(expires) if expires else None,
            order_contact_id=fields.get("order_contact_id") or None,
        )

    def to_fields(self) -> dict[str, str]:
        fields = {"client_id": self.client_id, "client_secret": self.client_secret}
        if self.access_token:
            fields["access_token"] = self.access_token
        if self.refresh_token:
            fields["refresh_token"] = self.refresh_token
        if self.expires_at:
            fields["expires_at"] = self.expires_at.isoformat()
        if self.order_contact_id:
            fields["order_contact_id"] = self.order_contact_id
        return fields

    def usable(self, now: datetime, margin: timedelta = timedelta(seconds=60)) -> bool:
        return bool(self.access_token and self.expires_at and self.expires_at - margin > now)


class TokenVault(Protocol):
    def load(self) -> BlingCredentials | None: ...
    def save(self, credentials: BlingCredentials) -> None: ...


class RateLimiter(Protocol):
    def acquire(self) -> None: ...


class BlingTokenManager:
    """Hands out a valid access token; refreshes under a lock, storing the new pair first."""

    LOCK_NAME = "bling-token"

    def __init__(
        self,
        *,
        vault: TokenVault,
        lock: Lock,
        http: httpx.Client,
        token_url: str,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        lock_wait_seconds: float = 20.0,
    ) -> None:
        self._vault = vault
        self._lock = lock
        self._http = http
        self._token_url = token_url
        self._clock = clock
        self._sleep = sleep
        self._lock_wait = lock_wait_seconds
        self._cached: BlingCredentials | None = None

    def credentials(self) -> BlingCredentials:
        creds = self._cached or self._vault.load()
        if creds is None:
            raise BlingAuthLost("no Bling credentials stored for this tenant")
        self._cached = creds
        return creds

    def access_token(self) -> str:
        creds = self.credentials()
        if creds.usable(self._clock()):
            assert creds.access_token is not None
            return creds.access_token
        return self.refresh(stale=creds.access_token)

    def refresh(self, *, stale: str | None) -> str:
        """A fresh access token replacing ``stale`` (refreshing only if nobody else did)."""
        waited = 0.0
        while True:
            token = self._lock.acquire(self.LOCK_NAME, ttl_seconds=30)
            if token is not None:
                try:
                    return self._refresh_locked(stale)
                finally:
                    self._lock.release(self.LOCK_NAME, token)
            # Someone else is refreshing: wait for the pair they store.
            self._sleep(0.25)
            waited += 0.25
            current = self._vault.load()
            if current and current.access_token != stale and current.usable(self._clock()):
                self._cached = current
                assert current.access_token is not None
                return current.access_token
            if waited >= self._lock_wait:
                raise DependencyUnavailable("timed out waiting for another Bling token refresh")

    def _refresh_locked(self, stale: str | None) -> str:
        current = self._vault.load()
        if current is None:
            raise BlingAuthLost("no Bling credentials stored for this tenant")
        if current.access_token != stale and current.usable(self._clock()):
            self._cached = current  # refreshed by someone else while we queued
            assert current.access_token is not None
            return current.access_token
        if not current.refresh_token:
            raise BlingAuthLost("no Bling refresh token: the tenant must connect Bling")
        try:
            answer = self._http.post(
                self._token_url,
                auth=(current.client_id, current.client_secret),
                data={"grant_type": "refresh_token", "refresh_token": current.refresh_token},
                headers={"Accept": "1.0"},
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailable(f"Bling token endpoint unreachable: {exc}") from exc
        if answer.status_code in (400, 401):
            metrics.add_metric(name="BlingAuthLost", unit=MetricUnit.Count, value=1)
            logger.error(
                "ALERT Bling refused the refresh token", extra={"status": answer.status_code}
            )
            raise BlingAuthLost(f"Bling refused the refresh token: {answer.text[:200]}")
        if answer.status_code >= 300:
            raise DependencyUnavailable(f"Bling token endpoint answered {answer.status_code}")
        body = answer.json()
        renewed = BlingCredentials(
            client_id=current.client_id,
            client_secret=current.client_secret,
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=self._clock() + timedelta(seconds=int(body.get("expires_in", 21_600))),
            order_contact_id=current.order_contact_id,
        )
        # The old refresh token is dead now: the new pair must be stored before anything
        # uses it, or a crash here would lose the account's only valid refresh token.
        saving = Retrying(
            stop=stop_after_attempt(3),
            wait=wait_incrementing(start=0.5, increment=0.5),
            retry=retry_if_exception_type(DependencyUnavailable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            saving(self._vault.save, renewed)
        except DependencyUnavailable:
            logger.error("ALERT could not store the rotated Bling tokens")
            raise
        self._cached = renewed
        metrics.add_metric(name="BlingTokenRefreshed", unit=MetricUnit.Count, value=1)
        assert renewed.access_token is not None
        return renewed.access_token


class BlingApi:
    """Authenticated, rate-limited, retrying requests to the Bling API."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        tokens: BlingTokenManager,
        limiter: RateLimiter,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 10,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._limiter = limiter
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._base = backoff_base
        self._cap = backoff_cap
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.requests_sent = 0
        self.throttled = 0

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self._cap)
            except ValueError:
                pass
        delay = min(self._cap, self._base * 2**attempt)
        return delay * (0.5 + self._rng.random() / 2)

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        retry_after = error.retry_after if isinstance(error, _Transient) else None
        return self._backoff(state.attempt_number - 1, retry_after)

    def request(
        self, method: Literal["GET", "POST"], path: str, *, params: Any = None, json: Any = None
    ) -> dict[str, Any]:
        """One Bling call: transport errors, 429 (honouring ``Retry-After``) and 5xx are
        retried with jittered exponential backoff (tenacity); a 401 refreshes the token
        once and retries at once; other 4xx are final."""
        token = self._tokens.access_token()
        refreshed = False

        def attempt() -> dict[str, Any]:
            nonlocal token, refreshed
            self._limiter.acquire()
            self.requests_sent += 1
            try:
                answer = self._http.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )
            except httpx.TransportError as exc:
                logger.warning("Bling unreachable, backing off", extra={"error": str(exc)})
                raise _Transient(str(exc)) from exc
            status = answer.status_code
            if status == 429:
                self.throttled += 1
                metrics.add_metric(name="BlingThrottled", unit=MetricUnit.Count, value=1)
                raise _Transient("throttled", retry_after=answer.headers.get("Retry-After"))
            if status == 401 and not refreshed:
                # Expired or revoked mid-run: refresh once (unless someone already did).
                token = self._tokens.refresh(stale=token)
                refreshed = True
                raise _Transient("token refreshed", retry_after="0")
            if status >= 500:
                raise _Transient(f"{status}")
            if status == 404:
                raise BlingNotFound(f"{method} {path}: not found")
            if status >= 400:
                raise BlingRefused(f"{method} {path}: {status} {answer.text[:300]}")
            return dict(answer.json()) if answer.content else {}

        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as exc:
            raise DependencyUnavailable(
                f"{method} {path}: gave up after {self._max_attempts} attempts"
            ) from exc


class _Transient(Exception):
    """A Bling answer worth retrying (transport error, 429, 5xx, a refreshed token)."""

    def __init__(self, reason: str, *, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def bling_datetime(moment: datetime) -> str:
    """Bling filters take local (São Paulo) wall-clock time, ``YYYY-MM-DD HH:MM:SS``."""
    return moment.astimezone(_BLING_TZ).strftime("%Y-%m-%d %H:%M:%S")


def is_variation(product: Mapping[str, Any]) -> bool:
    """A variation of another product (Bling lists them with ``idProdutoPai``)."""
    return str(product.get("idProdutoPai") or "0") not in ("", "0")


def variation_options(parent: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A product with variations (``formato`` V): its ``variacoes`` as the item's options.

    A variation's label is ``variacao.nome`` ("Tamanho:Grande;Borda:Catupiry" → "Grande
    Catupiry"), else its name without the parent's; its price falls back to the parent's."""
    parent_name = str(parent.get("nome") or "")
    options: list[dict[str, Any]] = []
    for variation in parent.get("variacoes") or []:
        if not isinstance(variation, Mapping) or variation.get("situacao") == "E":
            continue
        label = str((variation.get("variacao") or {}).get("nome") or "")
        if label:
            name = " ".join(part.split(":", 1)[-1].strip() for part in label.split(";"))
        else:
            name = str(variation.get("nome") or "").removeprefix(parent_name).strip(" -")
        price = variation.get("preco")
        options.append(
            {
                "option_id": str(variation.get("codigo") or variation.get("id")),
                "name": name or str(variation.get("id")),
                "price": price if price not in (None, 0, 0.0) else parent.get("preco"),
                "available": variation.get("situacao", "A") == "A",
            }
        )
    return options


def product_record(product: Mapping[str, Any], stock: float | None = None) -> dict[str, Any]:
    """A Bling product (list or detail shape) as a canonical record; a product with
    variations becomes one item whose options are its variations (folded, not mirrored as
    separate items)."""
    category = product.get("categoria") or {}
    options = variation_options(product) if product.get("formato") == "V" else []
    return {
        "source_id": str(product.get("id", "")),
        "sku": product.get("codigo"),
        "name": product.get("nome"),
        "price": product.get("preco"),
        "description": product.get("descricaoCurta") or "",
        "category": str(category.get("descricao") or "") if isinstance(category, dict) else "",
        # I (inactive) is mirrored as unavailable; E never gets here (see read_page).
        "available": product.get("situacao") == "A",
        "stock": None if options else stock,
        "source_version": product.get("dataAlteracao"),
        "options": options,
    }


class BlingCatalogConnector:
    """Reads the catalog of one Bling account."""

    source = SOURCE

    def __init__(self, api: BlingApi, *, page_limit: int = PAGE_LIMIT) -> None:
        self._api = api
        self._limit = page_limit

    def balances(self, product_ids: Sequence[str]) -> dict[str, float]:
        """Virtual stock (what can be sold) per product id, from ``/estoques/saldos``."""
        out: dict[str, float] = {}
        for start in range(0, len(product_ids), BALANCE_CHUNK):
            chunk = list(product_ids[start : start + BALANCE_CHUNK])
            answer = self._api.request("GET", "/estoques/saldos", params={"idsProdutos[]": chunk})
            for row in answer.get("data", []):
                product = row.get("produto") or {}
                out[str(product.get("id"))] = float(row.get("saldoVirtualTotal") or 0)
        return out

    def read_page(
        self, *, mode: Literal["incremental", "full"], page: int, since: datetime | None
    ) -> SourcePage:
        params: dict[str, Any] = {"pagina": page, "limite": self._limit}
        if mode == "incremental" and since is not None:
            params["dataAlteracaoInicial"] = bling_datetime(since)
        products = self._api.request("GET", "/produtos", params=params).get("data", [])
        removed = [str(p["id"]) for p in products if p.get("situacao") == "E"]
        # Variations are folded into their parent's options (read from its detail, which
        # lists them all whatever page they fall on), never mirrored as items of their own.
        kept = [p for p in products if p.get("situacao") in ("A", "I") and not is_variation(p)]
        kept = [self._with_variations(p) for p in kept]
        stock = self.balances([str(p["id"]) for p in kept]) if kept else {}
        return SourcePage(
            records=[product_record(p, stock.get(str(p["id"]))) for p in kept],
            # A short page is the last one: saves the request that would answer [].
            has_more=len(products) >= self._limit,
            removed=removed,
        )

    def read_product(self, product_id: str) -> dict[str, Any] | None:
        """One product as a canonical record; None when it is gone (404 or ``E``)."""
        try:
            product = self._api.request("GET", f"/produtos/{product_id}").get("data") or {}
        except BlingNotFound:
            return None
        if is_variation(product):  # a variation changed: its parent's item carries it
            return self.read_product(str(product["idProdutoPai"]))
        if product.get("situacao") not in ("A", "I"):
            return None
        stock = self.balances([str(product_id)]).get(str(product_id))
        return product_record(product, stock)

    def _with_variations(self, product: Mapping[str, Any]) -> Mapping[str, Any]:
        if product.get("formato") != "V" or product.get("variacoes"):
            return product
        detail = self._api.request("GET", f"/produtos/{product['id']}").get("data") or {}
        return {**product, "variacoes": detail.get("variacoes") or []}


class BlingOrderTarget:
    """Writes an order as a Bling sales order, at most once per platform order id."""

    target = SOURCE

    def __init__(self, api: BlingApi, *, contact_id: str | None) -> None:
        self._api = api
        self._contact_id = contact_id

    def find(self, order_id: str) -> str | None:
        answer = self._api.request("GET", "/pedidos/vendas", params={"numerosLojas[]": [order_id]})
        for row in answer.get("data", []):
            if str(row.get("numeroLoja")) == order_id:
                return str(row["id"])
        return None

    def create(self, order: OrderPlaced, product_ids: Mapping[str, str]) -> str:
        if not self._contact_id:
            raise BlingRefused("no order_contact_id in the tenant's Bling secret")
        items = []
        for line in order.lines:
            entry: dict[str, Any] = {
                "descricao": line.name,
                "quantidade": line.quantity,
                "valor": line.unit_price_cents / 100,
            }
            if line.item_id in product_ids:
                entry["produto"] = {"id": int(product_ids[line.item_id])}
            items.append(entry)
        body = {
            "numeroLoja": order.order_id,
            "data": order.occurred_at.astimezone(_BLING_TZ).strftime("%Y-%m-%d"),
            "contato": {"id": int(self._contact_id)},
            "itens": items,
            "observacoes": f"Pedido por telefone (Atende), chamada {order.call_id}",
        }
        answer = self._api.request("POST", "/pedidos/vendas", json=body)
        return str((answer.get("data") or {})["id"])
