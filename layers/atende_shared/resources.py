"""Names of the platform's shared resources and the environment variables that carry them.

The CDK app sets these variables on each function from the declared wiring, the local
platform sets them for the in-process handlers, and the settings models read them. One
place decides the names so the three can never disagree.
"""

from __future__ import annotations

from enum import StrEnum


class Table(StrEnum):
    """DynamoDB tables (see docs/data-model.md)."""

    MAIN = "main"
    IDEMPOTENCY = "idempotency"


class Queue(StrEnum):
    """SQS work queues, one per integration family or unit of work; each has a DLQ."""

    CALLS = "calls"
    CATALOG = "catalog"
    PAYMENTS = "payments"
    MESSAGING = "messaging"
    ORDERS = "orders"
    PROVISIONING = "provisioning"
    KITCHEN = "kitchen"  # the orders domain's intake: OrderPlaced and call outcomes
    NOTIFICATIONS = "notifications"  # order webhooks and WhatsApp messages, retried with backoff


class Bucket(StrEnum):
    """S3 buckets."""

    ARTIFACTS = "artifacts"  # transcripts, statements, quarantined sync records


EVENT_BUS_ENV = "ATENDE_EVENT_BUS"
EVENT_SOURCE = "atende"


def table_env(table: Table) -> str:
    """Environment variable holding a table's name, e.g. ``ATENDE_MAIN_TABLE``."""
    return f"ATENDE_{table.value.upper()}_TABLE"


def queue_url_env(queue: Queue) -> str:
    """Environment variable holding a queue's URL, e.g. ``ATENDE_CALLS_QUEUE_URL``."""
    return f"ATENDE_{queue.value.upper()}_QUEUE_URL"


def bucket_env(bucket: Bucket) -> str:
    """Environment variable holding a bucket's name, e.g. ``ATENDE_ARTIFACTS_BUCKET``."""
    return f"ATENDE_{bucket.value.upper()}_BUCKET"
