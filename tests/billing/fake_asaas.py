"""A contract-faithful fake of Asaas' ``GET /v3/payments/{id}``, as an httpx transport.

Built from Asaas' documentation (docs.asaas.com):

- "Authentication": "Send the key in the ``access_token`` header. If it is missing,
  invalid, or does not belong to the environment being used, the API will return
  ``401 Unauthorized``"; a ``User-Agent`` header is required on accounts created since
  2024-06-13.
- "Retrieve a single payment" (``GET /v3/payments/{id}``): the payment object,
  ``PaymentGetResponseDTO``: ``object: "payment"``, ``id``, ``dateCreated``, ``customer``,
  ``value`` (number), ``netValue``, ``billingType``, ``status`` (``PENDING``,
  ``RECEIVED``, ``CONFIRMED``, ``OVERDUE``, ``REFUNDED``, ``RECEIVED_IN_CASH``...),
  ``externalReference``, ``deleted``...
- Errors: ``ErrorResponseDTO`` = ``{"errors": [{"code": ..., "description": ...}]}``; an
  id the account does not own answers ``404``.

Each account (API key) sees only its own payments, as Asaas does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

_PATH = re.compile(r"^/v3/payments/([^/]+)$")


@dataclass
class FakeAsaas:
    #: api key → {payment id → payment object}
    accounts: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    down: bool = False

    def add_payment(
        self,
        api_key: str,
        payment_id: str,
        *,
        customer: str,
        value: float,
        status: str = "RECEIVED",
        deleted: bool = False,
    ) -> None:
        self.accounts.setdefault(api_key, {})[payment_id] = {
            "object": "payment",
            "id": payment_id,
            "dateCreated": "2026-11-20",
            "customer": customer,
            "value": value,
            "netValue": round(value * 0.97, 2),
            "billingType": "PIX",
            "status": status,
            "externalReference": None,
            "deleted": deleted,
        }

    @staticmethod
    def _error(status: int, code: str, description: str) -> httpx.Response:
        body = {"errors": [{"code": code, "description": description}]}
        return httpx.Response(status, json=body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        key = request.headers.get("access_token")
        if not key or key not in self.accounts:
            return self._error(401, "invalid_access_token", "A chave de API informada é inválida")
        if not request.headers.get("user-agent"):
            return self._error(400, "invalid_user_agent", "User-Agent obrigatório")
        match = _PATH.fullmatch(request.url.path)
        if request.method != "GET" or not match:
            return self._error(404, "not_found", "Recurso não encontrado")
        payment = self.accounts[key].get(match.group(1))
        if payment is None:
            return self._error(404, "invalid_object", "Cobrança não encontrada")
        return httpx.Response(200, content=json.dumps(payment).encode())

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
