"""What LiveKit should hold for one (tenant, number): the trunk and the dispatch rule.

Both carry a JSON ``metadata`` tag ``{"managed_by": "atende", "tenant_id", "number"}``;
that tag is how ensure adopts its own resources, refuses another tenant's, and how
reconcile tells Atende's orphans from resources someone else created by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration
from livekit.protocol.sip import (
    SIPDispatchRule,
    SIPDispatchRuleIndividual,
    SIPDispatchRuleInfo,
    SIPInboundTrunkInfo,
)

from atende_shared.rooms import TENANT_ATTRIBUTE, dispatch_metadata, room_prefix

MANAGED_BY = "atende"
#: Rule attribute the agent reads to answer in suspended mode (polite refusal, no order).
MODE_ATTRIBUTE = "atende.mode"
MODE_ACTIVE = "active"
MODE_SUSPENDED = "suspended"


@dataclass(frozen=True)
class Tag:
    """The Atende tag read back from a trunk's or rule's metadata."""

    tenant_id: str
    number: str


def tag_metadata(tenant_id: str, number: str) -> str:
    return json.dumps(
        {"managed_by": MANAGED_BY, "tenant_id": tenant_id, "number": number}, sort_keys=True
    )


def read_tag(metadata: str | None) -> Tag | None:
    """The tag of an Atende-managed resource, or None for anything else."""
    if not metadata:
        return None
    try:
        data = json.loads(metadata)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("managed_by") != MANAGED_BY:
        return None
    tenant, number = data.get("tenant_id"), data.get("number")
    if not isinstance(tenant, str) or not isinstance(number, str):
        return None
    return Tag(tenant, number)


def resource_name(tenant_id: str, number: str) -> str:
    return f"atende:{tenant_id}:{number}"


def desired_trunk(tenant_id: str, number: str) -> SIPInboundTrunkInfo:
    return SIPInboundTrunkInfo(
        name=resource_name(tenant_id, number),
        numbers=[number],
        metadata=tag_metadata(tenant_id, number),
    )


def desired_rule(
    tenant_id: str, number: str, trunk_id: str, *, agent_name: str, suspended: bool
) -> SIPDispatchRuleInfo:
    """Individual room per call under the tenant's prefix, the voice agent dispatched
    explicitly with the tenant in its metadata, the tenant in the rule's attributes."""
    return SIPDispatchRuleInfo(
        name=resource_name(tenant_id, number),
        trunk_ids=[trunk_id],
        rule=SIPDispatchRule(
            dispatch_rule_individual=SIPDispatchRuleIndividual(room_prefix=room_prefix(tenant_id))
        ),
        metadata=tag_metadata(tenant_id, number),
        attributes={
            TENANT_ATTRIBUTE: tenant_id,
            MODE_ATTRIBUTE: MODE_SUSPENDED if suspended else MODE_ACTIVE,
        },
        room_config=RoomConfiguration(
            agents=[RoomAgentDispatch(agent_name=agent_name, metadata=dispatch_metadata(tenant_id))]
        ),
    )


def rule_matches(actual: SIPDispatchRuleInfo, wanted: SIPDispatchRuleInfo) -> bool:
    """Whether ``actual`` already does what ``wanted`` says (ids and timestamps aside)."""
    return (
        list(actual.trunk_ids) == list(wanted.trunk_ids)
        and actual.rule == wanted.rule
        and read_tag(actual.metadata) == read_tag(wanted.metadata)
        and dict(actual.attributes) == dict(wanted.attributes)
        and list(actual.room_config.agents) == list(wanted.room_config.agents)
    )


def has_number(trunk: SIPInboundTrunkInfo, number: str) -> bool:
    """Exact match: list filters also return trunks without numbers."""
    return number in trunk.numbers


def bound_to(rule: SIPDispatchRuleInfo, trunk_id: str) -> bool:
    """Exact match: list filters also return rules bound to no trunk."""
    return trunk_id in rule.trunk_ids


def created(item: SIPInboundTrunkInfo | SIPDispatchRuleInfo) -> tuple[int, int, str]:
    ident = getattr(item, "sip_trunk_id", "") or getattr(item, "sip_dispatch_rule_id", "")
    return (item.created_at.seconds, item.created_at.nanos, ident)
