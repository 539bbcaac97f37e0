"""DLQ listing and replay against moto; the demo tenant's seed."""

from __future__ import annotations

import json

from atende_local.bootstrap import LocalResources
from atende_local.dlq import find_queue, list_queues, move_messages, peek
from atende_local.seed import DEMO_SECRETS, DEMO_TENANT_ID, seed_demo
from atende_shared.aws import client
from atende_shared.dal.tenants import tenant_store
from atende_shared.tenant_secrets import SecretsManagerReader


def test_replay_moves_dlq_messages_back_with_their_attributes(aws: LocalResources) -> None:
    # Given two messages dead-lettered from the calls queue and one from a FIFO queue
    sqs = client("sqs")
    calls = aws.queues["calls"]
    payments = aws.queues["payments"]
    for n in range(2):
        sqs.send_message(
            QueueUrl=calls.dlq_url,
            MessageBody=json.dumps({"n": n}),
            MessageAttributes={"correlation_id": {"DataType": "String", "StringValue": f"c{n}"}},
        )
    sqs.send_message(
        QueueUrl=payments.dlq_url,
        MessageBody="{}",
        MessageGroupId="demo-pizzaria",
        MessageDeduplicationId="evt-1",
    )
    infos = list_queues(sqs, prefix="test")
    assert find_queue(infos, "calls").dlq_visible == 2
    # When the calls DLQ is replayed (the moto path: receive, re-send, delete)
    result = move_messages(sqs, find_queue(infos, "calls"))
    fifo = move_messages(sqs, find_queue(infos, "payments"))
    # Then the messages are back on the source queue, attributes intact, DLQs empty
    assert (result.moved, result.failed) == (2, 0)
    assert fifo.moved == 1
    back = sqs.receive_message(
        QueueUrl=calls.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert sorted(m["MessageAttributes"]["correlation_id"]["StringValue"] for m in back) == [
        "c0",
        "c1",
    ]
    fifo_back = sqs.receive_message(QueueUrl=payments.url, AttributeNames=["All"])["Messages"]
    assert fifo_back[0]["Attributes"]["MessageGroupId"] == "demo-pizzaria"
    after = find_queue(list_queues(sqs, prefix="test"), "calls")
    assert after.dlq_visible == 0


def test_find_queue_accepts_short_and_full_names(aws: LocalResources) -> None:
    infos = list_queues(client("sqs"), prefix="test")
    assert find_queue(infos, "payments").name == "test-payments.fifo"
    assert find_queue(infos, "test-calls").name == "test-calls"
    assert find_queue(infos, "test-calls-dlq").name == "test-calls"


def test_the_demo_tenant_is_seeded_with_menu_and_secrets(aws: LocalResources) -> None:
    # When the demo is seeded
    report = seed_demo(main_table=aws.tables["main"], stage="local")
    # Then the tenant, its agent config and its Portuguese menu are readable
    store = tenant_store(aws.tables["main"])
    tenant = store.get_tenant(DEMO_TENANT_ID)
    menu = store.get_menu(DEMO_TENANT_ID)
    assert tenant.name == "Pizzaria Demo"
    assert store.get_agent_config(DEMO_TENANT_ID).language == "pt-BR"
    by_name = {item.name: item for item in menu.items}
    assert {"Pizza Margherita", "Calabresa", "Coca-Cola 2L", "Guaraná Antarctica lata"} <= set(
        by_name
    )
    assert [o.option_id for o in by_name["Pizza Margherita"].options] == [
        "grande",
        "media",
        "broto",
    ]
    assert [item.name for item in menu.items if not item.sellable] == ["Pepperoni"]
    # a real pizzeria's menu: half-and-half, crusts and extras, delivery zones with fees
    margherita = by_name["Pizza Margherita"]
    assert margherita.max_flavours == 3
    assert [g.group_id for g in menu.groups_of(margherita)] == ["borda", "adicionais"]
    assert [z.fee_cents for z in tenant.delivery.zones] == [500, 800]
    # And every webhook secret can be read the way the verifiers read it
    reader = SecretsManagerReader("local", max_age=0)
    for integration, values in DEMO_SECRETS.items():
        secret = reader.get(DEMO_TENANT_ID, integration)
        assert secret is not None
        assert secret.current == values
    assert report.secrets["custom"]["signing_secret"].startswith("whsec_")


def test_peek_shows_dlq_messages_without_removing_them(aws: LocalResources) -> None:
    sqs = client("sqs")
    sqs.send_message(QueueUrl=aws.queues["orders"].dlq_url, MessageBody='{"order": 7}')
    info = find_queue(list_queues(sqs, prefix="test"), "orders")
    first = peek(sqs, info)
    second = peek(sqs, info)
    assert [m["body"] for m in first] == ['{"order": 7}']
    assert [m["message_id"] for m in second] == [m["message_id"] for m in first]
