"""Asaas' own API, read with the tenant's API key: ``GET /v3/payments/{id}``.

Source (docs.asaas.com, "Authentication" and "Retrieve a single payment"): the key goes in
the ``access_token`` header (with a ``User-Agent``); a missing or wrong key is ``401``; the
answer is the payment object (``PaymentGetResponseDTO``: ``id``, ``customer``, ``value``,
``status``, ``deleted``...); an unknown id is ``404``; errors are
``{"errors": [{"code", "description"}]}``. Production is ``https://api.asaas.com``, the
sandbox ``https://api-sandbox.asaas.com``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import ValidationError

from atende_shared.errors import DependencyUnavailable
from atende_shared.models.asaas import AsaasPayment
from atende_shared.tenant_secrets import SecretReader
from functions.billing.logic.verification import SourceAnswer

USER_AGENT = "atende-billing"
_PAYMENT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


class AsaasPaymentSource:
    """:class:`~functions.billing.logic.verification.PaymentSource` over httpx."""

    def __init__(
        self,
        secrets: SecretReader,
        *,
        base_url: str,
        timeout_seconds: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._secrets = secrets
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_seconds,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def lookup(self, tenant_id: str, payment_id: str) -> SourceAnswer:
        secret = self._secrets.get(tenant_id, "asaas")
        api_key = secret.current.get("api_key") if secret else None
        if not api_key:
            return SourceAnswer(configured=False)
        if not _PAYMENT_ID.fullmatch(payment_id):  # no id Asaas issues looks like this
            return SourceAnswer(configured=True, payment=None)
        try:
            answer = self._client.get(
                f"/v3/payments/{payment_id}",
                headers={"access_token": api_key},
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailable(f"Asaas unreachable: {type(exc).__name__}") from exc
        if answer.status_code == 404:
            return SourceAnswer(configured=True, payment=None)
        if answer.status_code != 200:
            raise DependencyUnavailable(
                f"Asaas answered {answer.status_code} to GET /v3/payments: {_errors(answer)}"
            )
        try:
            return SourceAnswer(configured=True, payment=AsaasPayment.model_validate(answer.json()))
        except (ValueError, ValidationError) as exc:
            raise DependencyUnavailable("Asaas answered a payment we cannot read") from exc


def _errors(answer: httpx.Response) -> str:
    try:
        body: Any = answer.json()
        return "; ".join(str(e.get("code")) for e in body.get("errors", []))[:200]
    except (ValueError, AttributeError):
        return "(no error body)"
