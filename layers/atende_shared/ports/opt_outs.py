"""Customers who asked for no more WhatsApp messages from a tenant ("PARAR"), as logic
sees them: the keywords, the store protocol and the two actions (no boto3 here: the
DynamoDB store is :mod:`atende_shared.dal.opt_outs`).

Shared because two domains need it: the WhatsApp conversation handler records the request
(:func:`opt_out`, after :func:`is_opt_out_request` recognises it) and the orders domain
honours it before every customer notification.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Protocol

from atende_shared.models.common import utc_now

OPTOUT_PREFIX = "OPTOUT#"
#: Whole-message keywords (accents and case ignored) that mean "stop messaging me".
OPT_OUT_KEYWORDS = frozenset({"parar", "pare", "sair", "stop", "unsubscribe", "cancelar avisos"})
OPT_IN_KEYWORDS = frozenset({"voltar", "start"})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .!")


def is_opt_out_request(text: str) -> bool:
    """True when the whole message asks to stop ("PARAR", "parar.", "Stop")."""
    return _fold(text) in OPT_OUT_KEYWORDS


def is_opt_in_request(text: str) -> bool:
    return _fold(text) in OPT_IN_KEYWORDS


class OptOutStore(Protocol):
    def put_opt_out(self, tenant_id: str, phone: str, *, at: datetime) -> None: ...
    def remove_opt_out(self, tenant_id: str, phone: str) -> None: ...
    def is_opted_out(self, tenant_id: str, phone: str) -> bool: ...


def opt_out(tenant_id: str, phone: str, *, store: OptOutStore, at: datetime | None = None) -> None:
    """Record that ``phone`` wants no more messages from ``tenant_id`` (idempotent)."""
    store.put_opt_out(tenant_id, phone, at=at or utc_now())


def opt_in(tenant_id: str, phone: str, *, store: OptOutStore) -> None:
    """Undo :func:`opt_out` (the customer wrote "VOLTAR")."""
    store.remove_opt_out(tenant_id, phone)
