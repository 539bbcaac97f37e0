"""The onboarding wizard: every step in order, reruns reuse what exists, failures stop it."""

from __future__ import annotations

from typing import Any

import pytest

from atende_local.client import ApiError
from atende_local.onboard import OnboardingPlan, onboard


class FakeAdminApi:
    """Answers like the provisioning admin API: numbers turn active after N polls."""

    def __init__(self, *, polls_until_active: int = 2, number_status: str = "active") -> None:
        self.calls: list[tuple[str, str]] = []
        self.tenants: set[str] = set()
        self.polls_left = polls_until_active
        self.number_status = number_status
        self.number: str | None = None

    def request(self, method: str, path: str, payload: Any = None) -> Any:
        self.calls.append((method, path))
        if (method, path) == ("POST", "/v1/tenants"):
            if payload["tenant_id"] in self.tenants:
                raise ApiError("exists", status=409)
            self.tenants.add(payload["tenant_id"])
            return payload
        if method == "POST" and path.endswith("/phone-numbers"):
            self.number = "+551130000001"  # the API normalises
            return {"number": self.number, "status": "pending"}
        if method == "GET" and path.endswith("/phone-numbers"):
            self.polls_left -= 1
            status = self.number_status if self.polls_left <= 0 else "pending"
            return {"items": [{"number": self.number, "status": status, "error": "refused"}]}
        if path.endswith("/test-call-token"):
            return {"token": "jwt", "room_name": "atd_x_test"}
        return payload


PLAN = OnboardingPlan(
    tenant_id="pizzaria-bella",
    name="Pizzaria Bella",
    number="+55 11 3000-0001",
    agent={"greeting": "Oi"},
    menu={"items": []},
)


def test_the_wizard_runs_every_step_and_waits_for_the_number():
    api = FakeAdminApi(polls_until_active=3)
    report = onboard(api, PLAN, poll_seconds=0, sleep=lambda _s: None)
    assert report.ok
    assert [s["step"] for s in report.steps] == [
        "tenant",
        "agent",
        "menu",
        "phone-number",
        "test-call-token",
    ]
    assert report.phone == {"number": "+551130000001", "status": "active", "error": "refused"}
    assert api.calls.count(("GET", "/v1/tenants/pizzaria-bella/phone-numbers")) == 3
    assert ("PUT", "/v1/tenants/pizzaria-bella/menu") in api.calls


def test_a_rerun_reuses_the_existing_tenant():
    api = FakeAdminApi()
    onboard(api, PLAN, poll_seconds=0, sleep=lambda _s: None)
    report = onboard(api, PLAN, poll_seconds=0, sleep=lambda _s: None)
    assert report.steps[0] == {"step": "tenant", "outcome": "exists"}
    assert report.ok


def test_a_number_livekit_refused_fails_the_wizard():
    api = FakeAdminApi(polls_until_active=1, number_status="error")
    report = onboard(api, PLAN, poll_seconds=0, sleep=lambda _s: None)
    assert not report.ok
    assert report.steps[-1]["outcome"] == "failed"
    assert not any(path.endswith("/test-call-token") for _, path in api.calls)


def test_a_number_never_provisioned_times_out():
    api = FakeAdminApi(polls_until_active=10**6)
    report = onboard(api, PLAN, wait_seconds=0, poll_seconds=0, sleep=lambda _s: None)
    assert report.steps[-1]["outcome"] == "timed out"
    assert not report.ok


def test_an_unreadable_menu_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "menu.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        OnboardingPlan.from_files(
            tenant_id="x-y",
            name="X",
            number=None,
            legal_id=None,
            time_zone="America/Sao_Paulo",
            agent_file=None,
            menu_file=bad,
        )
