"""How LiveKit rooms, dispatch metadata and attributes name their tenant.

Dispatch rules give each call its own room: livekit-sip names an individual rule's room
``<roomPrefix>_<caller number>_<random>``, so with ``room_prefix(tenant)`` (which ends in
``_``) a real room reads ``atd_demo-pizzaria__+5511988887777_SdYde7d9oJCV`` (checked against
livekit-server 1.13.5 + livekit-sip 1.8.0 in tests/media/test_real_call.py); the
agent is dispatched with ``dispatch_metadata(tenant)`` and the rule carries
``TENANT_ATTRIBUTE``. Webhooks, billing, provisioning and the agent all resolve the
tenant through these functions, so they can never disagree.
"""

from __future__ import annotations

import json
import re

from atende_shared.dal.keys import tenant_pk

ROOM_PREFIX_HEAD = "atd_"
TENANT_ATTRIBUTE = "atende.tenant_id"
_ROOM = re.compile(r"^atd_([a-z0-9][a-z0-9-]{1,61}[a-z0-9])_")


def room_prefix(tenant_id: str) -> str:
    """``atd_<tenant>_``: tenant ids are slugs without ``_``, so the prefix is unambiguous."""
    tenant_pk(tenant_id)  # validates
    return f"{ROOM_PREFIX_HEAD}{tenant_id}_"


def tenant_from_room(room_name: str) -> str | None:
    """The tenant a room belongs to, or None for rooms Atende did not name."""
    match = _ROOM.match(room_name)
    return match.group(1) if match else None


def dispatch_metadata(tenant_id: str) -> str:
    """The JSON metadata the agent receives with its dispatch."""
    tenant_pk(tenant_id)
    return json.dumps({"tenant_id": tenant_id})


def tenant_from_metadata(metadata: str | None) -> str | None:
    """Read the tenant id back from dispatch or rule metadata (None if absent/invalid)."""
    if not metadata:
        return None
    try:
        value = json.loads(metadata).get("tenant_id")
    except (ValueError, AttributeError):
        return None
    if not isinstance(value, str):
        return None
    try:
        tenant_pk(value)
    except ValueError:
        return None
    return value
