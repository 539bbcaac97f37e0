"""The conversation consumer as Lambda runs it: moto, the demo tenant seeded to send to the
fake gateways, SQS FIFO batches with partial failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from atende_local import fake_whatsapp
from atende_local.bootstrap import LocalResources
from atende_local.fake_whatsapp import FakeWhatsAppServer
from atende_local.runtime import LambdaContext
from atende_local.seed import demo_whatsapp_instances, seed_demo
from atende_shared.aws import client
from atende_shared.models.envelope import InboundEvent
from atende_shared.whatsapp.resilience import reset_breakers
from functions.orders.dal.sessions import conversation_store
from functions.orders.handlers.whatsapp_deps import whatsapp_deps
from tests.whatsapp.chat_fakes import evolution, zapi


@pytest.fixture
def platform(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWhatsAppServer]:
    """Given moto with the demo tenant whose gateways are the running fakes."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("ATENDE_STAGE", "local")
    server = fake_whatsapp.start("127.0.0.1", 0)
    for instance in demo_whatsapp_instances():
        if isinstance(instance, fake_whatsapp.ZapiInstance):
            server.fake.add_zapi(instance)
        else:
            server.fake.add_evolution(instance)
    seed_demo(main_table=aws.tables["main"], whatsapp_base_url=server.url)
    QUEUE_ARN["messaging"] = client("sqs").get_queue_attributes(
        QueueUrl=aws.queues["messaging"].url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    whatsapp_deps.cache_clear()
    reset_breakers()
    yield server
    server.stop()
    whatsapp_deps.cache_clear()


QUEUE_ARN: dict[str, str] = {}


def _record(event: InboundEvent | str, group: str, n: int) -> dict[str, Any]:
    body = event if isinstance(event, str) else event.model_dump_json()
    return {
        "messageId": f"m{n}",
        "receiptHandle": f"r{n}",
        "body": body,
        "attributes": {"MessageGroupId": group, "MessageDeduplicationId": f"d{n}"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN.get("messaging", "arn:aws:sqs:us-east-1:1:x.fifo"),
        "awsRegion": "us-east-1",
    }


def _invoke(*records: dict[str, Any]) -> dict[str, Any]:
    from functions.orders.handlers.whatsapp import handler

    context = LambdaContext(
        function_name="orders-whatsapp", memory_limit_in_mb=512, timeout_seconds=50
    )
    return handler({"Records": list(records)}, context)


def test_a_poison_message_is_dead_lettered_alone_and_every_conversation_flows(
    platform: FakeWhatsAppServer, aws: LocalResources
) -> None:
    # Given a batch where one conversation's first message is poison (not an envelope)
    a1 = zapi("quero uma coca 2 litros", phone="5511911110001")
    a2 = zapi("e um guaraná", phone="5511911110001")
    b2 = zapi("e uma água", phone="5511922220002")
    answer = _invoke(
        _record(a1, "demo-pizzaria#5511911110001", 1),
        _record("{not json", "demo-pizzaria#5511922220002", 2),
        _record(b2, "demo-pizzaria#5511922220002", 3),
        _record(a2, "demo-pizzaria#5511911110001", 4),
    )
    # Then the poison went to the DLQ at once, with its reason, holding nothing back
    assert answer == {"batchItemFailures": []}
    dead = client("sqs").receive_message(
        QueueUrl=aws.queues["messaging"].dlq_url, MessageAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in dead] == ["{not json"]
    assert dead[0]["MessageAttributes"]["atende_failure_reason"]["StringValue"]
    # And both conversations were answered, each in order, through the fake Z-API
    sent = platform.fake.sent()
    assert [m["to"] for m in sent] == ["5511911110001", "5511922220002", "5511911110001"]
    assert "Coca-Cola 2L" in sent[0]["text"]
    assert "Água" in sent[1]["text"]
    assert "Guaraná" in sent[2]["text"]


def test_a_transient_failure_holds_back_only_its_own_conversation(
    platform: FakeWhatsAppServer,
) -> None:
    # Given the gateway down for the first message (every in-process retry fails)
    platform.fake.fail_next(503, 503, 503)
    a1 = zapi("quero uma coca 2 litros", phone="5511911110011")
    a2 = zapi("e um guaraná", phone="5511911110011")
    b1 = zapi("quero uma água", phone="5511922220012")
    answer = _invoke(
        _record(a1, "demo-pizzaria#5511911110011", 1),
        _record(b1, "demo-pizzaria#5511922220012", 2),
        _record(a2, "demo-pizzaria#5511911110011", 3),
    )
    # Then the failed message and the rest of its conversation are returned, in order ...
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}
    # ... while the other conversation was answered
    assert [m["to"] for m in platform.fake.sent()] == ["5511922220012"]


def test_a_gateway_outage_fails_the_record_and_the_retry_replies_once(
    platform: FakeWhatsAppServer,
) -> None:
    message = evolution("quero uma coca 2 litros", jid="5511933330003@s.whatsapp.net")
    record = _record(message, "demo-pizzaria#5511933330003", 1)
    platform.fake.fail_next(503, 503, 503)  # every in-process retry of the first attempt
    assert _invoke(record) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert platform.fake.sent() == []
    # SQS redelivers: the session already holds the turn; the stored reply goes out once
    assert _invoke(record) == {"batchItemFailures": []}
    assert _invoke(record) == {"batchItemFailures": []}
    [sent] = platform.fake.sent()
    assert sent["gateway"] == "evolution"
    assert "Coca-Cola 2L" in sent["text"]


def test_our_echo_from_the_gateway_is_recognised_through_the_sent_log(
    platform: FakeWhatsAppServer, aws: LocalResources
) -> None:
    _invoke(_record(zapi("oi", phone="5511944440004"), "g", 1))
    [sent] = platform.fake.sent()
    echo = zapi(sent["text"], phone="5511944440004", message_id=sent["message_id"], from_me=True)
    human = zapi("Oi, aqui é a Maria da pizzaria", phone="5511944440004", from_me=True)
    assert _invoke(_record(echo, "g", 2), _record(human, "g", 3)) == {"batchItemFailures": []}
    store = conversation_store(aws.tables["main"])
    pause = store.get_pause("demo-pizzaria", "5511944440004")
    assert pause is not None
    assert pause.reason == "human_reply"
    assert len(platform.fake.sent()) == 1


def test_the_dynamo_session_write_is_conditional_on_its_version(aws: LocalResources) -> None:
    from datetime import UTC, datetime, timedelta

    from functions.orders.logic.chat_ports import StaleSession
    from functions.orders.models.whatsapp import Session

    store = conversation_store(aws.tables["main"])
    now = datetime.now(UTC)
    first = Session(
        tenant_id="demo-pizzaria",
        customer="5511955550005",
        conversation_id="wa-1",
        chat_id="5511955550005",
        version=1,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(minutes=30),
        state={"cart": [{"x": 1.5}]},
    )
    store.save_session(first, expected_version=None)
    with pytest.raises(StaleSession):
        store.save_session(first, expected_version=None)
    second = first.model_copy(update={"version": 2, "turns": 1})
    store.save_session(second, expected_version=1)
    with pytest.raises(StaleSession):
        store.save_session(second.model_copy(update={"version": 3}), expected_version=1)
    assert store.get_session("demo-pizzaria", "5511955550005") == second
    assert [store.count_message("demo-pizzaria", "c", "202611212300") for _ in range(3)] == [
        1,
        2,
        3,
    ]
    assert store.count_llm_turn("demo-pizzaria", "2026-11-21") == 1
    store.remember_lid("demo-pizzaria", "1@lid", "+5511955550005")
    assert store.phone_for_lid("demo-pizzaria", "1@lid") == "+5511955550005"
    assert store.phone_for_lid("demo-pizzaria", "2@lid") is None
    assert json.loads(json.dumps(second.state)) == {"cart": [{"x": 1.5}]}
