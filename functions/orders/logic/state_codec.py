"""The ordering core's :class:`OrderState` to and from a session's JSON, field by field.

A thin adapter on the channel's side: every field of the dataclass whose type pydantic can
serialise is kept (cart lines, fulfilment, address, what the brain awaits, the placed
order...), read back through the same type, so a field the core adds later is carried
without a change here. The conversation's context (tenant, agent config, menu) is loaded
fresh for each message and never stored; runtime-only fields (the confirmation lock, the
menu index) and the per-message correlation id are rebuilt.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from atende_shared.ordering.state import OrderState

_CONTEXT = frozenset({"tenant", "agent_config", "menu", "correlation_id"})


@cache
def _adapters() -> dict[str, TypeAdapter[Any]]:
    hints = typing.get_type_hints(OrderState)
    adapters: dict[str, TypeAdapter[Any]] = {}
    for field in dataclasses.fields(OrderState):
        if field.name in _CONTEXT or field.name.startswith("_") or not field.init:
            continue
        try:
            adapters[field.name] = TypeAdapter(hints[field.name])
        except Exception:  # noqa: S112 - runtime objects (locks, indexes) are rebuilt, not kept
            continue
    return adapters


def dump_state(state: OrderState) -> dict[str, Any]:
    """The state's storable fields as JSON-compatible values."""
    return {
        name: adapter.dump_python(getattr(state, name), mode="json")
        for name, adapter in _adapters().items()
    }


def load_state(
    data: dict[str, Any],
    *,
    tenant: Tenant,
    agent_config: AgentConfig,
    menu: Menu,
    correlation_id: str,
) -> OrderState:
    """The state stored by :func:`dump_state`, in this message's context. Unknown keys
    (a field the core dropped) are ignored; missing ones take the core's defaults."""
    values = {
        name: adapter.validate_python(data[name])
        for name, adapter in _adapters().items()
        if name in data
    }
    return OrderState(
        tenant=tenant,
        agent_config=agent_config,
        menu=menu,
        correlation_id=correlation_id,
        **values,
    )
