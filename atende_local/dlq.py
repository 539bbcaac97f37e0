"""Dead-letter queues: list them with their depth, and replay them to their source.

Works against moto and a real account alike (an SQS client is passed in). In AWS,
:func:`replay` uses SQS's own message move task; where that is not available (moto),
it moves messages itself: receive from the DLQ, re-send to the source queue, and delete
from the DLQ only after the re-send succeeded. That is at-least-once: a crash between
the send and the delete replays the message twice, never loses it (consumers are
idempotent on the business id).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class QueueInfo:
    name: str
    url: str
    arn: str
    visible: int
    in_flight: int
    dlq_name: str | None = None
    dlq_url: str | None = None
    dlq_arn: str | None = None
    dlq_visible: int = 0
    max_receive_count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReplayResult:
    queue: str
    moved: int = 0
    failed: int = 0
    method: str = "receive-send-delete"
    task_handle: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _attributes(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def _name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def list_queues(sqs: Any, *, prefix: str = "") -> list[QueueInfo]:
    """Every queue with a redrive policy, with its DLQ and their depths."""
    urls: list[str] = []
    paginator_args: dict[str, Any] = {"QueueNamePrefix": prefix} if prefix else {}
    token: str | None = None
    while True:
        request = dict(paginator_args, MaxResults=1000)
        if token:
            request["NextToken"] = token
        answer = sqs.list_queues(**request)
        urls.extend(answer.get("QueueUrls") or [])
        token = answer.get("NextToken")
        if not token:
            break
    attributes = {url: _attributes(sqs, url) for url in urls}
    by_arn = {attrs["QueueArn"]: url for url, attrs in attributes.items()}
    infos: list[QueueInfo] = []
    for url, attrs in sorted(attributes.items()):
        redrive = attrs.get("RedrivePolicy")
        if not redrive:
            continue
        policy = json.loads(redrive)
        dlq_arn = str(policy["deadLetterTargetArn"])
        dlq_url = by_arn.get(dlq_arn)
        dlq_attrs = attributes.get(dlq_url or "", {})
        infos.append(
            QueueInfo(
                name=_name(url),
                url=url,
                arn=attrs["QueueArn"],
                visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                dlq_name=_name(dlq_url) if dlq_url else dlq_arn.rsplit(":", 1)[-1],
                dlq_url=dlq_url,
                dlq_arn=dlq_arn,
                dlq_visible=int(dlq_attrs.get("ApproximateNumberOfMessages", 0)),
                max_receive_count=int(policy.get("maxReceiveCount", 0)) or None,
            )
        )
    return infos


def find_queue(infos: list[QueueInfo], wanted: str) -> QueueInfo:
    """The source queue named ``wanted`` (exact name, or suffix like ``calls``)."""
    for info in infos:
        if wanted in (info.name, info.dlq_name):
            return info
    candidates = [
        i
        for i in infos
        if i.name.removesuffix(".fifo").endswith(f"-{wanted.removesuffix('.fifo')}")
        or i.name.removesuffix(".fifo") == wanted.removesuffix(".fifo")
    ]
    if len(candidates) == 1:
        return candidates[0]
    names = ", ".join(i.name for i in infos) or "none"
    raise LookupError(f"no single queue matches {wanted!r} (queues with a DLQ: {names})")


def _resend_request(message: dict[str, Any], target_url: str) -> dict[str, Any]:
    request: dict[str, Any] = {"QueueUrl": target_url, "MessageBody": message["Body"]}
    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        converted = {"DataType": value["DataType"]}
        if "StringValue" in value:
            converted["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            converted["BinaryValue"] = value["BinaryValue"]
        attributes[name] = converted
    if attributes:
        request["MessageAttributes"] = attributes
    if target_url.endswith(".fifo"):
        system = message.get("Attributes") or {}
        request["MessageGroupId"] = system.get("MessageGroupId") or "replay"
        # A fresh id per re-send: the original id may still be inside the 5-minute
        # deduplication window, which would silently drop the replay.
        request["MessageDeduplicationId"] = f"replay-{uuid.uuid4()}"
    return request


def peek(sqs: Any, info: QueueInfo, *, max_messages: int = 10) -> list[dict[str, Any]]:
    """Up to ``max_messages`` DLQ messages, left in the DLQ (visible again at once).

    Peeking is a receive: it bumps each message's receive count on the DLQ, which has no
    redrive of its own, so nothing moves."""
    if not info.dlq_url:
        raise LookupError(f"the DLQ of {info.name} ({info.dlq_arn}) was not found")
    answer = sqs.receive_message(
        QueueUrl=info.dlq_url,
        MaxNumberOfMessages=max(1, min(10, max_messages)),
        WaitTimeSeconds=0,
        VisibilityTimeout=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return [
        {
            "message_id": m["MessageId"],
            "body": m.get("Body", ""),
            "attributes": m.get("Attributes") or {},
            "message_attributes": {
                k: v.get("StringValue") for k, v in (m.get("MessageAttributes") or {}).items()
            },
        }
        for m in answer.get("Messages") or []
    ]


def move_messages(sqs: Any, info: QueueInfo, *, max_messages: int | None = None) -> ReplayResult:
    """Receive → re-send → delete, until the DLQ is empty (or ``max_messages`` moved)."""
    result = ReplayResult(queue=info.name)
    if not info.dlq_url:
        raise LookupError(f"the DLQ of {info.name} ({info.dlq_arn}) was not found")
    while max_messages is None or result.moved < max_messages:
        answer = sqs.receive_message(
            QueueUrl=info.dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages") or []
        if not messages:
            break
        for message in messages:
            try:
                sqs.send_message(**_resend_request(message, info.url))
            except (ClientError, BotoCoreError) as exc:
                # Not deleted: it stays in the DLQ and is visible again after 60 s.
                result.failed += 1
                result.errors.append(f"{message['MessageId']}: {exc}")
                continue
            sqs.delete_message(QueueUrl=info.dlq_url, ReceiptHandle=message["ReceiptHandle"])
            result.moved += 1
        if result.failed:
            break  # do not spin on a source queue that refuses messages
    return result


def replay(sqs: Any, info: QueueInfo, *, use_move_task: bool = True) -> ReplayResult:
    """Move everything in ``info``'s DLQ back to ``info``'s queue."""
    if use_move_task and info.dlq_arn:
        try:
            answer = sqs.start_message_move_task(SourceArn=info.dlq_arn, DestinationArn=info.arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in {"UnsupportedOperation", "InternalFailure", "500", "NotImplemented"}:
                raise
        else:
            return ReplayResult(
                queue=info.name,
                moved=info.dlq_visible,
                method="start_message_move_task",
                task_handle=answer.get("TaskHandle"),
            )
    return move_messages(sqs, info)
