"""What the WhatsApp conversation logic needs from the outside, as protocols (the DynamoDB
implementations are in ``functions.orders.dal.sessions``; tests pass fakes)."""

from __future__ import annotations

from typing import Protocol

from functions.orders.models.whatsapp import Pause, Session


class StaleSession(Exception):
    """The session changed since it was read (its version moved): re-read and retry."""


class ConversationStore(Protocol):
    def get_session(self, tenant_id: str, customer: str) -> Session | None: ...

    def save_session(self, session: Session, *, expected_version: int | None) -> None:
        """Write ``session`` if the stored version is ``expected_version`` (None: no session
        stored), else raise :class:`StaleSession`."""
        ...

    def get_pause(self, tenant_id: str, customer: str) -> Pause | None: ...
    def put_pause(self, pause: Pause) -> None: ...
    def delete_pause(self, tenant_id: str, customer: str) -> None: ...

    def count_message(self, tenant_id: str, customer: str, minute: str) -> int:
        """Count one message of ``customer`` in the minute ``minute``; the count so far."""
        ...

    def count_llm_turn(self, tenant_id: str, day: str) -> int:
        """Count one LLM turn of the tenant on ``day``; the count so far."""
        ...

    def remember_lid(self, tenant_id: str, lid: str, phone: str) -> None: ...
    def phone_for_lid(self, tenant_id: str, lid: str) -> str | None: ...
