"""``atende tenants onboard``: the onboarding wizard, one admin API call per step.

The same sequence the README walks through with curl: create the tenant, configure its
agent, upload its menu, assign its number, wait for provisioning, mint a test-call token.
Each step is idempotent from the caller's side (an existing tenant is reused, not an
error), so a wizard interrupted half-way can simply be run again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from atende_local.client import ApiError

TENANTS_PATH = "/v1/tenants"


class AdminApi(Protocol):
    def request(self, method: str, path: str, payload: Any = None) -> Any: ...


@dataclass(frozen=True)
class OnboardingPlan:
    """What the wizard will create. ``menu``/``agent`` are the admin API's JSON bodies."""

    tenant_id: str
    name: str
    number: str | None = None
    legal_id: str | None = None
    time_zone: str = "America/Sao_Paulo"
    agent: dict[str, Any] | None = None
    menu: dict[str, Any] | None = None

    @classmethod
    def from_files(
        cls,
        *,
        tenant_id: str,
        name: str,
        number: str | None,
        legal_id: str | None,
        time_zone: str,
        agent_file: Path | None,
        menu_file: Path | None,
    ) -> OnboardingPlan:
        return cls(
            tenant_id=tenant_id,
            name=name,
            number=number,
            legal_id=legal_id,
            time_zone=time_zone,
            agent=_read_json(agent_file),
            menu=_read_json(menu_file),
        )


def _read_json(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


@dataclass
class OnboardingReport:
    """What each step did, for the CLI to print (or emit as JSON)."""

    tenant_id: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    phone: dict[str, Any] | None = None
    test_call: dict[str, Any] | None = None

    def record(self, step: str, outcome: str, **detail: Any) -> None:
        self.steps.append({"step": step, "outcome": outcome, **detail})

    @property
    def ok(self) -> bool:
        return all(s["outcome"] not in {"failed", "timed out"} for s in self.steps)


def onboard(
    api: AdminApi,
    plan: OnboardingPlan,
    *,
    progress: Callable[[str], None] = lambda _msg: None,
    wait_seconds: float = 60.0,
    poll_seconds: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> OnboardingReport:
    """Run the wizard against the admin API; stops at the first step that fails."""
    report = OnboardingReport(tenant_id=plan.tenant_id)
    base = f"{TENANTS_PATH}/{plan.tenant_id}"

    progress("creating the tenant")
    body: dict[str, Any] = {
        "tenant_id": plan.tenant_id,
        "name": plan.name,
        "time_zone": plan.time_zone,
    }
    if plan.legal_id:
        body["legal_id"] = plan.legal_id
    try:
        api.request("POST", TENANTS_PATH, body)
        report.record("tenant", "created")
    except ApiError as exc:
        if exc.status != 409:
            report.record("tenant", "failed", error=str(exc))
            return report
        report.record("tenant", "exists")

    for step, payload in (("agent", plan.agent), ("menu", plan.menu)):
        if payload is None:
            report.record(step, "skipped")
            continue
        progress(f"writing the {step}")
        try:
            api.request("PUT", f"{base}/{step}", payload)
        except ApiError as exc:
            report.record(step, "failed", error=str(exc))
            return report
        report.record(step, "written")

    if plan.number:
        progress(f"assigning {plan.number}")
        try:
            assigned = api.request("POST", f"{base}/phone-numbers", {"number": plan.number})
        except ApiError as exc:
            report.record("phone-number", "failed", error=str(exc))
            return report
        number = plan.number
        if isinstance(assigned, dict) and assigned.get("number"):
            number = str(assigned["number"])
        progress(f"waiting for {number} to be provisioned")
        report.phone = _wait_for_number(api, base, number, wait_seconds, poll_seconds, sleep)
        phone = report.phone or {}
        status = phone.get("status")
        if status == "active":
            report.record("phone-number", "active", number=number)
        elif status == "error":
            report.record("phone-number", "failed", number=number, error=phone.get("error"))
            return report
        else:
            report.record("phone-number", "timed out", number=number, status=status)
            return report
    else:
        report.record("phone-number", "skipped")

    progress("minting a test-call token")
    try:
        report.test_call = api.request("POST", f"{base}/test-call-token")
        report.record("test-call-token", "issued")
    except ApiError as exc:
        # Without LiveKit credentials the platform cannot mint one; that is not a failure
        # of onboarding, just something to configure before a browser test call.
        report.record("test-call-token", "unavailable", error=str(exc))
    return report


def _wait_for_number(
    api: AdminApi,
    base: str,
    number: str,
    wait_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None],
) -> dict[str, Any] | None:
    deadline = time.monotonic() + wait_seconds
    latest: dict[str, Any] | None = None
    while True:
        listing = api.request("GET", f"{base}/phone-numbers")
        items = listing.get("items", []) if isinstance(listing, dict) else []
        latest = next((i for i in items if i.get("number") == number), latest)
        if latest and latest.get("status") in {"active", "error"}:
            return latest
        if time.monotonic() >= deadline:
            return latest
        sleep(poll_seconds)
