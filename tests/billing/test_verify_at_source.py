"""A payment is verified at Asaas (``GET /v3/payments/{id}`` with the tenant's API key)
before any credit: a leaked webhook token alone must not create balance.

Asaas is the contract-faithful fake in ``tests/billing/fake_asaas.py`` (sources quoted
there), reached through the real httpx client of ``functions/billing/dal/asaas.py``."""

from __future__ import annotations

from typing import Any

import pytest

from atende_shared.consumers import PermanentFailure, permanent_reason
from atende_shared.errors import DependencyUnavailable
from atende_shared.models.tenant import Integrations
from atende_shared.tenant_secrets import Integration, IntegrationSecret
from functions.billing.dal.asaas import AsaasPaymentSource
from functions.billing.logic.messages import process_payments_message
from tests.billing.builders import asaas_envelope, asaas_payload
from tests.billing.conftest import TENANT, tenant
from tests.billing.fake_asaas import FakeAsaas
from tests.billing.fakes import make_deps

API_KEY = "$aact_test_key_of_the_tenant"
CUSTOMER = "cus_000005219613"


class Secrets:
    def __init__(self, values: dict[tuple[str, str], dict[str, str]]) -> None:
        self.values = values

    def get(self, tenant_id: str, integration: Integration) -> IntegrationSecret | None:
        current = self.values.get((tenant_id, integration))
        return IntegrationSecret(current=current) if current else None


@pytest.fixture
def asaas() -> FakeAsaas:
    fake = FakeAsaas()
    fake.add_payment(API_KEY, "pay_genuine", customer=CUSTOMER, value=150.0)
    fake.add_payment(API_KEY, "pay_pending", customer=CUSTOMER, value=80.0, status="PENDING")
    fake.add_payment("$aact_someone_else", "pay_theirs", customer="cus_other", value=500.0)
    return fake


def deps_with(asaas: FakeAsaas, *, api_key: str | None = API_KEY) -> Any:
    owner = tenant().model_copy(update={"integrations": Integrations(payment_customer_id=CUSTOMER)})
    deps = make_deps([owner])
    secret = {"webhook_token": "t", **({"api_key": api_key} if api_key else {})}
    deps.payment_source = AsaasPaymentSource(
        Secrets({(TENANT, "asaas"): secret}),
        base_url="https://api-sandbox.asaas.com",
        transport=asaas.transport(),
    )
    return deps


def deliver(deps: Any, payment_id: str, value: float, **kw: Any) -> Any:
    payload = asaas_payload(
        "PAYMENT_RECEIVED", payment_id=payment_id, value=value, customer=CUSTOMER, **kw
    )
    return process_payments_message(deps, asaas_envelope(TENANT, payload).model_dump_json())


def balance(deps: Any) -> int:
    return int(deps.store.get_balance(TENANT).balance_cents)


def test_a_genuine_payment_is_credited_after_asaas_confirms_it(asaas: FakeAsaas) -> None:
    deps = deps_with(asaas)
    assert deliver(deps, "pay_genuine", 150.0).status == "posted"
    assert balance(deps) == 15_000
    [request] = asaas.requests
    assert request.url.path == "/v3/payments/pay_genuine"
    assert request.headers["access_token"] == API_KEY


@pytest.mark.parametrize(
    ("payment_id", "value", "reason"),
    [
        # a forged event with the leaked webhook token: Asaas never issued this payment
        ("pay_forged", 1_000.0, "payment_not_found_at_source"),
        # a real payment, inflated
        ("pay_genuine", 1_500.0, "value_mismatch_at_source"),
        # another Asaas account's payment (the tenant's key cannot see it)
        ("pay_theirs", 500.0, "payment_not_found_at_source"),
    ],
)
def test_a_leaked_webhook_token_alone_creates_no_balance(
    asaas: FakeAsaas, payment_id: str, value: float, reason: str
) -> None:
    # Given the tenant's Asaas API key is configured
    deps = deps_with(asaas)
    # When an authentic-looking event arrives that Asaas does not confirm
    with pytest.raises(PermanentFailure) as refused:
        deliver(deps, payment_id, value)
    # Then nothing is credited and the message is poison (DLQ at once, with the reason)
    assert permanent_reason(refused.value) == reason
    assert balance(deps) == 0


def test_a_payment_of_another_customer_is_refused(asaas: FakeAsaas) -> None:
    asaas.add_payment(API_KEY, "pay_other_customer", customer="cus_not_ours", value=10.0)
    deps = deps_with(asaas)
    payload = asaas_payload(
        "PAYMENT_RECEIVED", payment_id="pay_other_customer", value=10.0, customer=CUSTOMER
    )
    with pytest.raises(PermanentFailure, match="customer"):
        process_payments_message(deps, asaas_envelope(TENANT, payload).model_dump_json())
    assert balance(deps) == 0


def test_a_payment_not_yet_paid_at_asaas_is_retried_not_credited(asaas: FakeAsaas) -> None:
    deps = deps_with(asaas)
    with pytest.raises(DependencyUnavailable):
        deliver(deps, "pay_pending", 80.0)
    assert permanent_reason(DependencyUnavailable("x")) is None  # transient: redelivered
    assert balance(deps) == 0


@pytest.mark.parametrize("failure", ["down", "bad_key"])
def test_asaas_unreachable_or_refusing_the_key_is_transient(asaas: FakeAsaas, failure: str) -> None:
    asaas.down = failure == "down"
    deps = deps_with(asaas, api_key=API_KEY if failure == "down" else "$aact_revoked")
    with pytest.raises(DependencyUnavailable):
        deliver(deps, "pay_genuine", 150.0)
    assert balance(deps) == 0


def test_without_an_api_key_the_event_is_applied_as_received(asaas: FakeAsaas) -> None:
    deps = deps_with(asaas, api_key=None)
    assert deliver(deps, "pay_anything", 20.0).status == "posted"
    assert balance(deps) == 2_000
    assert asaas.requests == []
