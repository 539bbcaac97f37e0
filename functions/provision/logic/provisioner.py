"""Ensure and release the LiveKit SIP trunk + dispatch rule of one phone number.

LiveKit has no upsert, refuses a second trunk for a number ("Conflicting inbound SIP
Trunks"), lets two concurrent creates both succeed, and its list filters are loose. So
every operation on a number:

1. holds the number's DynamoDB lease (one worker per number at a time);
2. lists and matches exactly (the number in ``numbers``, the trunk in ``trunk_ids``,
   and the Atende tag in ``metadata``);
3. adopts what is already there and tagged for this tenant and number, deletes
   duplicates, refuses (409-style) anything that belongs to someone else;
4. creates only what is missing, storing each id as soon as it exists, so a crash
   between the trunk and the rule converges on the next run.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from livekit.protocol.sip import SIPDispatchRuleInfo, SIPInboundTrunkInfo

from atende_shared.models.common import utc_now
from atende_shared.models.tenant import TenantStatus
from atende_shared.ports.tenants import TenantStore
from functions.provision.dal.livekit_sip import SipApi
from functions.provision.dal.protocol import LeaseStore, PhoneStore
from functions.provision.logic.desired import (
    Tag,
    bound_to,
    created,
    desired_rule,
    desired_trunk,
    has_number,
    read_tag,
    rule_matches,
)
from functions.provision.logic.resilience import SipRetry
from functions.provision.models.api import PhoneStatus
from functions.provision.models.errors import (
    LeaseBusy,
    NumberOwnedElsewhere,
    SipRejected,
)
from functions.provision.models.phone import PhoneRecord


@dataclass
class SipDeps:
    """Everything provisioning talks to, injected (fakes in tests)."""

    sip: SipApi
    #: Applied at each LiveKit call: ``await deps.retry(deps.sip.create_trunk, t)``.
    retry: SipRetry
    phones: PhoneStore
    tenants: TenantStore
    leases: LeaseStore
    agent_name: str
    lease_seconds: int = 120
    lease_wait_seconds: float = 10.0
    clock: Callable[[], float] = time.time
    now: Callable[[], datetime] = utc_now
    #: Test hook: runs between storing the trunk id and creating the rule (crash tests).
    after_trunk: Callable[[str], None] | None = field(default=None, repr=False)


@asynccontextmanager
async def number_lease(deps: SipDeps, number: str) -> AsyncIterator[None]:
    """Hold the number's lease, waiting up to ``lease_wait_seconds`` for it."""
    holder = uuid.uuid4().hex
    name = f"PHONE#{number}"
    deadline = time.monotonic() + deps.lease_wait_seconds
    while not deps.leases.try_acquire(
        name, holder, now=deps.clock(), ttl_seconds=deps.lease_seconds
    ):
        if time.monotonic() >= deadline:
            raise LeaseBusy(f"another worker is provisioning {number}; retry later")
        await asyncio.sleep(random.uniform(0.02, 0.1))  # noqa: S311 - jitter, not crypto
    try:
        yield
    finally:
        deps.leases.release(name, holder)


# -- ensure ------------------------------------------------------------------------------


async def ensure(deps: SipDeps, tenant_id: str, number: str) -> PhoneRecord | None:
    """Make LiveKit hold exactly one trunk and one rule for the number, as desired.

    Returns the stored record, or None when the number is no longer assigned (or is being
    released). Raises :class:`SipRejected`/:class:`NumberOwnedElsewhere` after marking the
    record ``error`` (retrying cannot help), :class:`SipUnavailable`/:class:`LeaseBusy`
    when a retry later should.
    """
    async with number_lease(deps, number):
        record = deps.phones.get(tenant_id, number)
        if record is None or record.status == PhoneStatus.RELEASING:
            return None
        tenant = deps.tenants.get_tenant(tenant_id)
        suspended = tenant.status != TenantStatus.ACTIVE
        try:
            trunk = await _ensure_trunk(deps, tenant_id, number, record.trunk_id)
            record = record.model_copy(
                update={"trunk_id": trunk.sip_trunk_id, "updated_at": deps.now()}
            )
            if not deps.phones.save(record, unless_releasing=True):
                return None
            if deps.after_trunk is not None:
                deps.after_trunk(trunk.sip_trunk_id)
            rule = await _ensure_rule(
                deps, tenant_id, number, trunk.sip_trunk_id, record.dispatch_rule_id, suspended
            )
        except (SipRejected, NumberOwnedElsewhere) as exc:
            failed = record.model_copy(
                update={"status": PhoneStatus.ERROR, "error": exc.message, "updated_at": deps.now()}
            )
            deps.phones.save(failed, unless_releasing=True)
            raise
        final = record.model_copy(
            update={
                "status": PhoneStatus.SUSPENDED if suspended else PhoneStatus.ACTIVE,
                "dispatch_rule_id": rule.sip_dispatch_rule_id,
                "error": None,
                "updated_at": deps.now(),
            }
        )
        return final if deps.phones.save(final, unless_releasing=True) else None


def _foreign(number: str, tenant_id: str, what: str, ident: str) -> NumberOwnedElsewhere:
    return NumberOwnedElsewhere(
        f"{number}: LiveKit {what} {ident} is not managed by Atende for tenant {tenant_id!r}; "
        "remove it or assign the number to its owner"
    )


async def _ensure_trunk(
    deps: SipDeps, tenant_id: str, number: str, known_id: str | None
) -> SIPInboundTrunkInfo:
    mine = Tag(tenant_id, number)
    listed = await deps.retry(deps.sip.list_trunks, numbers=[number])
    holding = [t for t in listed if has_number(t, number)]
    foreign = [t for t in holding if read_tag(t.metadata) != mine]
    if foreign:
        raise _foreign(number, tenant_id, "trunk", foreign[0].sip_trunk_id)
    ours = {t.sip_trunk_id: t for t in holding}
    # Our trunk may have lost its number (edited by hand): list filters return numberless
    # trunks, and the stored id finds one whose numbers changed altogether.
    for trunk in listed:
        if not trunk.numbers and read_tag(trunk.metadata) == mine:
            ours[trunk.sip_trunk_id] = trunk
    if known_id and known_id not in ours:
        for trunk in await deps.retry(deps.sip.list_trunks, trunk_ids=[known_id]):
            if trunk.sip_trunk_id == known_id and read_tag(trunk.metadata) == mine:
                ours[known_id] = trunk
    keep = ours.get(known_id or "") or (min(ours.values(), key=created) if ours else None)
    for extra in sorted(ours.values(), key=created):
        if keep is not None and extra.sip_trunk_id != keep.sip_trunk_id:
            await _delete_trunk_and_rules(deps, extra.sip_trunk_id, mine)
    if keep is None:
        keep = await _create_trunk(deps, tenant_id, number)
    if list(keep.numbers) != [number]:
        keep = await deps.retry(deps.sip.set_trunk_numbers, keep.sip_trunk_id, [number])
    return keep


async def _create_trunk(deps: SipDeps, tenant_id: str, number: str) -> SIPInboundTrunkInfo:
    try:
        return await deps.retry(deps.sip.create_trunk, desired_trunk(tenant_id, number))
    except SipRejected as exc:
        if not exc.conflicting:
            raise
    # A trunk appeared since we listed (or an earlier, timed-out create did succeed).
    mine = Tag(tenant_id, number)
    holding = [
        t for t in await deps.retry(deps.sip.list_trunks, numbers=[number]) if has_number(t, number)
    ]
    for trunk in sorted(holding, key=created):
        if read_tag(trunk.metadata) == mine:
            return trunk
    ident = holding[0].sip_trunk_id if holding else "?"
    raise _foreign(number, tenant_id, "trunk", ident)


async def _ensure_rule(
    deps: SipDeps,
    tenant_id: str,
    number: str,
    trunk_id: str,
    known_id: str | None,
    suspended: bool,
) -> SIPDispatchRuleInfo:
    mine = Tag(tenant_id, number)
    wanted = desired_rule(
        tenant_id, number, trunk_id, agent_name=deps.agent_name, suspended=suspended
    )
    bound = [
        r
        for r in await deps.retry(deps.sip.list_rules, trunk_ids=[trunk_id])
        if bound_to(r, trunk_id)
    ]
    foreign = [r for r in bound if read_tag(r.metadata) != mine]
    if foreign:
        raise _foreign(number, tenant_id, "dispatch rule", foreign[0].sip_dispatch_rule_id)
    ours = sorted(bound, key=created)
    keep = next((r for r in ours if r.sip_dispatch_rule_id == known_id), None) or (
        ours[0] if ours else None
    )
    for extra in ours:
        if keep is not None and extra.sip_dispatch_rule_id != keep.sip_dispatch_rule_id:
            await deps.retry(deps.sip.delete_rule, extra.sip_dispatch_rule_id)
    if keep is None:
        return await _create_rule(deps, wanted, trunk_id, mine)
    if not rule_matches(keep, wanted):
        return await deps.retry(deps.sip.replace_rule, keep.sip_dispatch_rule_id, wanted)
    return keep


async def _create_rule(
    deps: SipDeps, wanted: SIPDispatchRuleInfo, trunk_id: str, mine: Tag
) -> SIPDispatchRuleInfo:
    try:
        return await deps.retry(deps.sip.create_rule, wanted)
    except SipRejected as exc:
        if not exc.conflicting:
            raise
    bound = [
        r
        for r in await deps.retry(deps.sip.list_rules, trunk_ids=[trunk_id])
        if bound_to(r, trunk_id)
    ]
    for rule in sorted(bound, key=created):
        if read_tag(rule.metadata) == mine:
            if not rule_matches(rule, wanted):
                return await deps.retry(deps.sip.replace_rule, rule.sip_dispatch_rule_id, wanted)
            return rule
    ident = bound[0].sip_dispatch_rule_id if bound else "?"
    raise _foreign(mine.number, mine.tenant_id, "dispatch rule", ident)


async def _delete_trunk_and_rules(deps: SipDeps, trunk_id: str, mine: Tag) -> None:
    """Delete our rules bound to a trunk, then the trunk (LiveKit keeps rules otherwise)."""
    for rule in await deps.retry(deps.sip.list_rules, trunk_ids=[trunk_id]):
        if bound_to(rule, trunk_id) and read_tag(rule.metadata) == mine:
            await deps.retry(deps.sip.delete_rule, rule.sip_dispatch_rule_id)
    await deps.retry(deps.sip.delete_trunk, trunk_id)


# -- release -----------------------------------------------------------------------------


async def release(deps: SipDeps, tenant_id: str, number: str) -> bool:
    """Delete the number's rule(s) then trunk(s), then its records. Safe to repeat.

    Returns True if LiveKit or DynamoDB held anything to remove.
    """
    mine = Tag(tenant_id, number)
    async with number_lease(deps, number):
        record = deps.phones.get(tenant_id, number)
        trunk_ids: set[str] = set()
        rule_ids: set[str] = set()
        if record is not None:
            trunk_ids.update(filter(None, [record.trunk_id]))
            rule_ids.update(filter(None, [record.dispatch_rule_id]))
        for trunk in await deps.retry(deps.sip.list_trunks, numbers=[number]):
            if read_tag(trunk.metadata) == mine:
                trunk_ids.add(trunk.sip_trunk_id)
        for trunk_id in sorted(trunk_ids):
            for rule in await deps.retry(deps.sip.list_rules, trunk_ids=[trunk_id]):
                if bound_to(rule, trunk_id) and read_tag(rule.metadata) == mine:
                    rule_ids.add(rule.sip_dispatch_rule_id)
        # Rule first: a trunk deleted first would leave its rule dangling in LiveKit.
        for rule_id in sorted(rule_ids):
            await deps.retry(deps.sip.delete_rule, rule_id)
        for trunk_id in sorted(trunk_ids):
            await deps.retry(deps.sip.delete_trunk, trunk_id)
        if record is not None:
            deps.phones.delete(tenant_id, number)
        return bool(record or trunk_ids or rule_ids)


# -- tenant status -----------------------------------------------------------------------


@dataclass
class StatusOutcome:
    tenant_id: str
    updated: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


async def apply_tenant_status(deps: SipDeps, tenant_id: str) -> StatusOutcome:
    """Bring every number of the tenant in line with its current status.

    Suspension keeps the dispatch rule (calls still reach the agent) and flips the rule's
    ``atende.mode`` attribute to ``suspended`` so the agent answers with a polite refusal
    and takes no order. The status is read from DynamoDB rather than from the event, so
    out-of-order ``TenantSuspended``/``TenantResumed`` deliveries still converge.
    """
    outcome = StatusOutcome(tenant_id)
    retry_later: Exception | None = None
    for record in deps.phones.list_for_tenant(tenant_id):
        if record.status == PhoneStatus.RELEASING:
            continue
        try:
            if await ensure(deps, tenant_id, record.number) is not None:
                outcome.updated.append(record.number)
        except (SipRejected, NumberOwnedElsewhere) as exc:
            outcome.failed[record.number] = exc.message
        except Exception as exc:
            outcome.failed[record.number] = str(exc)
            retry_later = exc
    if retry_later is not None:
        raise retry_later
    return outcome
