"""Compare DynamoDB with LiveKit and repair the drift; report what was done.

Drift kinds (each repaired through :func:`ensure`/:func:`release`, under the lease):

- ``trunk_missing``: the number has no Atende trunk holding it;
- ``trunk_numbers``: our trunk for the number lists other numbers (edited by hand);
- ``rule_missing``: the trunk has no Atende rule bound to it;
- ``rule_mismatch``: the rule differs from the desired one (prefix, agent, attributes,
  suspended mode, metadata);
- ``duplicates``: more than one trunk or rule for the number (a race before leases);
- ``ids_stale``: DynamoDB stores ids that are not the live ones, or a status that does
  not say what LiveKit holds (``pending`` after a lost message);
- ``release_unfinished``: a number left ``releasing``.

Orphans: trunks and rules tagged by Atende whose (tenant, number) DynamoDB does not know,
and Atende rules bound to no live trunk. They are reported; deleted only with
``delete_orphans`` (``ATENDE_RECONCILE_DELETE_ORPHANS=true``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from livekit.protocol.sip import SIPDispatchRuleInfo, SIPInboundTrunkInfo

from atende_shared.models.tenant import TenantStatus
from atende_shared.ports.tenants import iter_tenants
from functions.provision.logic.desired import Tag, bound_to, desired_rule, read_tag, rule_matches
from functions.provision.logic.provisioner import SipDeps, ensure, number_lease, release
from functions.provision.models.api import PhoneStatus
from functions.provision.models.phone import PhoneRecord


@dataclass
class Repair:
    tenant_id: str
    number: str
    drift: list[str]
    result: str


@dataclass
class Orphan:
    kind: str  # "trunk" | "rule"
    resource_id: str
    tenant_id: str
    number: str
    deleted: bool = False


@dataclass
class ReconcileReport:
    numbers_checked: int = 0
    trunks_seen: int = 0
    rules_seen: int = 0
    repairs: list[Repair] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    delete_orphans: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def drift_kinds(self) -> set[str]:
        return {kind for repair in self.repairs for kind in repair.drift}


def _all_records(deps: SipDeps) -> list[PhoneRecord]:
    return [
        record
        for tenant in iter_tenants(deps.tenants)
        for record in deps.phones.list_for_tenant(tenant.tenant_id)
    ]


def diagnose(
    deps: SipDeps,
    record: PhoneRecord,
    trunks: list[SIPInboundTrunkInfo],
    rules: list[SIPDispatchRuleInfo],
    *,
    suspended: bool,
) -> list[str]:
    """The drift kinds affecting one number (empty when LiveKit matches DynamoDB)."""
    if record.status == PhoneStatus.RELEASING:
        return ["release_unfinished"]
    mine = Tag(record.tenant_id, record.number)
    ours = [t for t in trunks if read_tag(t.metadata) == mine]
    drift: list[str] = []
    holding = [t for t in ours if list(t.numbers) == [record.number]]
    if not ours:
        drift.append("trunk_missing")
    elif not holding:
        drift.append("trunk_numbers")
    if len(ours) > 1:
        drift.append("duplicates")
    trunk = holding[0] if holding else (ours[0] if ours else None)
    if trunk is not None:
        bound = [
            r for r in rules if bound_to(r, trunk.sip_trunk_id) and read_tag(r.metadata) == mine
        ]
        wanted = desired_rule(
            record.tenant_id,
            record.number,
            trunk.sip_trunk_id,
            agent_name=deps.agent_name,
            suspended=suspended,
        )
        if not bound:
            drift.append("rule_missing")
        else:
            if len(bound) > 1 and "duplicates" not in drift:
                drift.append("duplicates")
            if not rule_matches(bound[0], wanted):
                drift.append("rule_mismatch")
            expected_status = PhoneStatus.SUSPENDED if suspended else PhoneStatus.ACTIVE
            if (
                record.trunk_id != trunk.sip_trunk_id
                or record.dispatch_rule_id != bound[0].sip_dispatch_rule_id
                or record.status != expected_status
            ) and not drift:
                drift.append("ids_stale")
    return drift


async def reconcile(deps: SipDeps, *, delete_orphans: bool = False) -> ReconcileReport:
    report = ReconcileReport(delete_orphans=delete_orphans)
    records = _all_records(deps)
    trunks = await deps.retry(deps.sip.list_trunks)
    rules = await deps.retry(deps.sip.list_rules)
    report.numbers_checked = len(records)
    report.trunks_seen = len(trunks)
    report.rules_seen = len(rules)
    statuses: dict[str, bool] = {}

    for record in records:
        if record.tenant_id not in statuses:
            tenant = deps.tenants.get_tenant(record.tenant_id)
            statuses[record.tenant_id] = tenant.status != TenantStatus.ACTIVE
        drift = diagnose(deps, record, trunks, rules, suspended=statuses[record.tenant_id])
        if not drift:
            continue
        try:
            if record.status == PhoneStatus.RELEASING:
                await release(deps, record.tenant_id, record.number)
                result = "released"
            else:
                repaired = await ensure(deps, record.tenant_id, record.number)
                result = "repaired" if repaired is not None else "skipped"
        except Exception as exc:
            report.errors.append(
                {"tenant_id": record.tenant_id, "number": record.number, "error": str(exc)}
            )
            result = "failed"
        report.repairs.append(Repair(record.tenant_id, record.number, drift, result))

    known = {Tag(r.tenant_id, r.number) for r in records}
    live_trunks = {t.sip_trunk_id for t in trunks}
    # Rules first, then trunks: (kind, id, tag) of every Atende resource to report.
    found: list[tuple[str, str, Tag]] = [
        ("rule", r.sip_dispatch_rule_id, tag)
        for r in rules
        if (tag := read_tag(r.metadata)) is not None
        and (tag not in known or not (set(r.trunk_ids) & live_trunks))
    ]
    found += [
        ("trunk", t.sip_trunk_id, tag)
        for t in trunks
        if (tag := read_tag(t.metadata)) is not None and tag not in known
    ]

    async def delete_trunk(trunk_id: str) -> bool:
        await deps.retry(deps.sip.delete_trunk, trunk_id)
        return True

    delete: dict[str, Callable[[str], Awaitable[bool]]] = {
        # False when LiveKit no longer knew the rule
        "rule": lambda rule_id: deps.retry(deps.sip.delete_rule, rule_id),
        "trunk": delete_trunk,
    }
    for kind, resource_id, tag in found:
        orphan = Orphan(kind, resource_id, tag.tenant_id, tag.number)
        if delete_orphans:
            # A rule bound to no live trunk may belong to a number being repaired right now.
            async with number_lease(deps, tag.number):
                orphan.deleted = await delete[kind](resource_id)
        report.orphans.append(orphan)
    return report
