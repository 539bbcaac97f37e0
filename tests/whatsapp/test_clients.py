"""The gateway clients against the fakes: request shapes, error classes, retries, breaker,
sending once per idempotency key, the echo record, and sender_for_tenant."""

from __future__ import annotations

import socket

import pytest

from atende_local.bootstrap import LocalResources
from atende_local.fake_whatsapp import FakeWhatsAppServer
from atende_shared.models.tenant import Integrations, Tenant
from atende_shared.tenant_secrets import Integration, IntegrationSecret
from atende_shared.whatsapp import OutboundText, WhatsAppSendError
from atende_shared.whatsapp.clients import EvolutionClient, ZapiClient, recipient
from atende_shared.whatsapp.factory import sender_for_tenant
from atende_shared.whatsapp.resilience import ResilientSender, RetryPolicy
from atende_shared.whatsapp.sent import MemorySentLog, RecordingSender, sent_log
from tests.whatsapp.conftest import EVOLUTION, EVOLUTION_V1, ZAPI

FAST = RetryPolicy(attempts=3, initial_wait_seconds=0, max_wait_seconds=0, breaker_fail_max=3)


def _message(text: str = "Seu pedido #12 chegou", key: str = "order:1:placed") -> OutboundText:
    return OutboundText(
        tenant_id="pizzaria", to="+55 11 99999-9999", text=text, idempotency_key=key
    )


def _zapi(gateway: FakeWhatsAppServer, **overrides: str) -> ZapiClient:
    values = {
        "instance_id": ZAPI.instance_id,
        "instance_token": ZAPI.instance_token,
        "client_token": ZAPI.client_token,
        **overrides,
    }
    return ZapiClient(base_url=gateway.url, **values)


def _evolution(gateway: FakeWhatsAppServer, v1: bool = False, **overrides: str) -> EvolutionClient:
    instance = EVOLUTION_V1 if v1 else EVOLUTION
    values = {"instance": instance.name, "apikey": instance.apikey, **overrides}
    return EvolutionClient(base_url=gateway.url, version="v1" if v1 else "v2", **values)


def test_recipient_is_digits_for_phones_and_untouched_for_chat_ids() -> None:
    assert recipient("+55 (11) 99999-9999") == "5511999999999"
    assert recipient("120363025246125486@g.us") == "120363025246125486@g.us"
    assert recipient("1203630-group") == "1203630-group"


def test_zapi_client_sends_the_documented_body_and_returns_the_whatsapp_id(
    gateway: FakeWhatsAppServer,
) -> None:
    result = _zapi(gateway).send_text(_message())
    [sent] = gateway.fake.sent()
    assert (sent["to"], sent["text"]) == ("5511999999999", "Seu pedido #12 chegou")
    assert result.gateway == "zapi"
    assert result.message_id == sent["message_id"]


@pytest.mark.parametrize("v1", [False, True])
def test_evolution_client_sends_its_versions_body(gateway: FakeWhatsAppServer, v1: bool) -> None:
    result = _evolution(gateway, v1=v1).send_text(_message())
    [sent] = gateway.fake.sent()
    assert sent["api_version"] == ("v1" if v1 else "v2")
    assert result.message_id == sent["message_id"]


def test_the_wrong_version_is_a_permanent_refusal(gateway: FakeWhatsAppServer) -> None:
    client = EvolutionClient(
        base_url=gateway.url, instance=EVOLUTION.name, apikey=EVOLUTION.apikey, version="v1"
    )
    with pytest.raises(WhatsAppSendError) as caught:
        client.send_text(_message())
    assert not caught.value.transient
    assert 'requires property \\"text\\"' in caught.value.reason or "text" in caught.value.reason


@pytest.mark.parametrize(
    ("build", "status"),
    [
        (lambda g: _zapi(g, client_token="wrong"), "401"),
        (lambda g: _zapi(g, instance_token="wrong"), "404"),
        (lambda g: _evolution(g, apikey="wrong"), "401"),
    ],
)
def test_refusals_are_permanent(gateway: FakeWhatsAppServer, build, status: str) -> None:
    with pytest.raises(WhatsAppSendError) as caught:
        build(gateway).send_text(_message())
    assert caught.value.transient is False
    assert status in caught.value.reason


def test_5xx_429_and_unreachable_are_transient(gateway: FakeWhatsAppServer) -> None:
    client = _zapi(gateway)
    for status in (503, 429):
        gateway.fake.fail_next(status)
        with pytest.raises(WhatsAppSendError) as caught:
            client.send_text(_message())
        assert caught.value.transient is True
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    closed = ZapiClient(
        base_url=f"http://127.0.0.1:{port}", instance_id="i", instance_token="t", client_token="c"
    )
    with pytest.raises(WhatsAppSendError) as caught:
        closed.send_text(_message())
    assert caught.value.transient is True


def test_transient_failures_are_retried_until_the_gateway_answers(
    gateway: FakeWhatsAppServer,
) -> None:
    gateway.fake.fail_next(503, 502)
    result = ResilientSender(_zapi(gateway), FAST).send_text(_message())
    assert gateway.fake.requests == 3
    assert [m["message_id"] for m in gateway.fake.sent()] == [result.message_id]


def test_permanent_refusals_are_not_retried(gateway: FakeWhatsAppServer) -> None:
    with pytest.raises(WhatsAppSendError):
        ResilientSender(_zapi(gateway, client_token="wrong"), FAST).send_text(_message())
    assert gateway.fake.requests == 1


def test_the_breaker_opens_after_repeated_failures_and_stops_calling(
    gateway: FakeWhatsAppServer,
) -> None:
    # Given a gateway that is down
    gateway.fake.fail_next(*([503] * 20))
    sender = ResilientSender(_zapi(gateway), FAST)
    # When sends keep failing
    for _ in range(3):
        with pytest.raises(WhatsAppSendError) as caught:
            sender.send_text(_message())
        assert caught.value.transient
    # Then after fail_max failures the gateway is no longer called: sends fail fast
    assert gateway.fake.requests == FAST.breaker_fail_max
    assert "circuit open" in caught.value.reason


def test_permanent_refusals_never_open_the_breaker(gateway: FakeWhatsAppServer) -> None:
    sender = ResilientSender(_zapi(gateway, client_token="wrong"), FAST)
    for _ in range(FAST.breaker_fail_max + 2):
        with pytest.raises(WhatsAppSendError) as caught:
            sender.send_text(_message())
        assert "circuit" not in caught.value.reason
    assert gateway.fake.requests == FAST.breaker_fail_max + 2


def test_a_logical_message_is_sent_once_and_its_echo_id_is_ours(
    gateway: FakeWhatsAppServer,
) -> None:
    log = MemorySentLog()
    sender = RecordingSender(ResilientSender(_zapi(gateway), FAST), log)
    first = sender.send_text(_message())
    again = sender.send_text(_message())
    assert first == again
    assert len(gateway.fake.sent()) == 1
    assert log.is_ours("pizzaria", first.message_id or "")
    assert not log.is_ours("pizzaria", "SOMEONE-ELSES")


def test_the_dynamo_sent_log_answers_as_the_memory_one(aws: LocalResources) -> None:
    from atende_shared.whatsapp import SendResult

    log = sent_log(aws.tables["main"])
    message = _message()
    assert log.sent("pizzaria", message.idempotency_key) is None
    log.record(message, SendResult(gateway="zapi", message_id="3EB0ABC"))
    assert log.sent("pizzaria", message.idempotency_key) == SendResult(
        gateway="zapi", message_id="3EB0ABC"
    )
    assert log.is_ours("pizzaria", "3EB0ABC")
    assert not log.is_ours("pizzaria", "3EB0XYZ")
    assert not log.is_ours("other-tenant", "3EB0ABC")


class _Secrets:
    def __init__(self, values: dict[Integration, dict[str, str]]) -> None:
        self._values = values

    def get(self, tenant_id: str, integration: Integration) -> IntegrationSecret | None:
        values = self._values.get(integration)
        return IntegrationSecret(current=values) if values is not None else None


def _tenant(gateway: str | None) -> Tenant:
    return Tenant(
        tenant_id="pizzaria",
        name="Pizzaria",
        integrations=Integrations(whatsapp_gateway=gateway),  # type: ignore[arg-type]
    )


def test_sender_for_tenant_reads_the_gateway_and_its_secret(gateway: FakeWhatsAppServer) -> None:
    secrets = _Secrets(
        {
            "zapi": {
                "instance_id": ZAPI.instance_id,
                "instance_token": ZAPI.instance_token,
                "client_token": ZAPI.client_token,
                "base_url": gateway.url,
            },
            "evolution": {
                "instance": EVOLUTION_V1.name,
                "apikey": EVOLUTION_V1.apikey,
                "base_url": gateway.url,
                "api_version": "v1",
            },
        }
    )
    sender_for_tenant(_tenant("zapi"), secrets, policy=FAST).send_text(_message(key="a"))
    sender_for_tenant(_tenant("evolution"), secrets, policy=FAST).send_text(_message(key="b"))
    assert [(m["gateway"], m.get("api_version")) for m in gateway.fake.sent()] == [
        ("zapi", None),
        ("evolution", "v1"),
    ]


@pytest.mark.parametrize(
    ("gateway_name", "values", "needle"),
    [
        (None, {}, "no WhatsApp gateway"),
        ("zapi", {}, "no zapi secret"),
        ("evolution", {"evolution": {"apikey": "k"}}, "lacks base_url, instance"),
    ],
)
def test_sender_for_tenant_without_configuration_is_a_permanent_error(
    gateway_name: str | None, values: dict[Integration, dict[str, str]], needle: str
) -> None:
    with pytest.raises(WhatsAppSendError) as caught:
        sender_for_tenant(_tenant(gateway_name), _Secrets(values))
    assert caught.value.transient is False
    assert needle in caught.value.reason
