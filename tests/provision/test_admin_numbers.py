"""Phone numbers, agent and menu through the admin API: validation, 409s, tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atende_shared.events import CatalogChanged, DomainEvent
from tests.provision.apigw import number_path
from tests.provision.conftest import Stack

A, B = "tenant-a", "tenant-b"
NUMBER = "+551130000001"


@pytest.fixture
def two(stack: Stack) -> Stack:
    for tenant in (A, B):
        assert (
            stack.admin("POST", "/v1/tenants", body={"tenant_id": tenant, "name": tenant}).status
            == 201
        )
    return stack


@pytest.mark.parametrize("bad", ["11 3000-0001", "+0123", "+55abc", "551130000001"])
def test_bad_e164_is_422_with_the_reason(two: Stack, bad: str) -> None:
    answer = two.admin("POST", f"/v1/tenants/{A}/phone-numbers", body={"number": bad})
    assert answer.status == 422, answer.body
    assert "is not an E.164 phone number" in answer.body["error"]["message"]
    assert answer.body["error"]["details"]["fields"][0]["field"] == "number"
    assert two.receive() == []


def test_unknown_tenant_is_404(two: Stack) -> None:
    answer = two.admin("POST", "/v1/tenants/ghost-tenant/phone-numbers", body={"number": NUMBER})
    assert answer.status == 404
    assert answer.body["error"]["message"] == "tenant 'ghost-tenant' not found"
    assert two.admin("GET", "/v1/tenants/ghost-tenant/phone-numbers").status == 404


def test_another_tenants_number_is_409(two: Stack) -> None:
    assert (
        two.admin("POST", f"/v1/tenants/{A}/phone-numbers", body={"number": NUMBER}).status == 202
    )
    # When B claims the same number, spelled differently
    taken = two.admin("POST", f"/v1/tenants/{B}/phone-numbers", body={"number": "+55 11 3000 0001"})
    # Then 409, without naming the owner
    assert taken.status == 409
    assert taken.body["error"] == {
        "code": "number_taken",
        "message": "+551130000001 is assigned to another tenant",
    }
    assert A not in json.dumps(taken.body)


def test_assigning_twice_is_idempotent(two: Stack) -> None:
    first = two.admin("POST", f"/v1/tenants/{A}/phone-numbers", body={"number": NUMBER})
    second = two.admin("POST", f"/v1/tenants/{A}/phone-numbers", body={"number": NUMBER})
    assert (first.status, second.status) == (202, 202)
    assert first.body["created_at"] == second.body["created_at"]
    assert len(two.admin("GET", f"/v1/tenants/{A}/phone-numbers").body["items"]) == 1


def test_tenant_isolation(two: Stack) -> None:
    # Given A has a number, agent config and menu
    two.admin("POST", f"/v1/tenants/{A}/phone-numbers", body={"number": NUMBER})
    two.admin("PUT", f"/v1/tenants/{A}/agent", body={"greeting": "Secret A greeting"})
    menu = {"items": [{"item_id": "a1", "name": "A only", "price_cents": 100}]}
    two.admin("PUT", f"/v1/tenants/{A}/menu", body=menu)
    # When admin calls are made for B
    numbers = two.admin("GET", f"/v1/tenants/{B}/phone-numbers")
    agent = two.admin("GET", f"/v1/tenants/{B}/agent")
    b_menu = two.admin("GET", f"/v1/tenants/{B}/menu")
    release = two.admin("DELETE", number_path(B, NUMBER))
    # Then none of A's data comes back, and B cannot release A's number
    assert numbers.body["items"] == []
    assert "Secret A" not in json.dumps(agent.body)
    assert agent.body["tenant_id"] == B
    assert b_menu.body["menu"]["items"] == []
    assert release.status == 404
    a_numbers = two.admin("GET", f"/v1/tenants/{A}/phone-numbers").body["items"]
    assert [n["status"] for n in a_numbers] == ["pending"]


def test_release_unknown_number_is_404(two: Stack) -> None:
    answer = two.admin("DELETE", number_path(A, NUMBER))
    assert answer.status == 404
    assert "is not assigned to tenant" in answer.body["error"]["message"]


def test_agent_config_validation(two: Stack) -> None:
    answer = two.admin(
        "PUT",
        f"/v1/tenants/{A}/agent",
        body={"max_call_seconds": 5, "transfer_number": "123", "voice": ""},
    )
    assert answer.status == 422
    fields = {f["field"] for f in answer.body["error"]["details"]["fields"]}
    assert {"max_call_seconds", "transfer_number", "voice"} <= fields


def test_menu_validation_and_catalog_changed(two: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.provision.handlers import admin_api

    published: list[DomainEvent] = []

    class Recorder:
        def publish(self, events: Any) -> None:
            published.extend(events)

    monkeypatch.setattr(admin_api, "_publisher", Recorder)
    # Duplicate ids and a negative price are refused with clear messages
    bad = {
        "items": [
            {"item_id": "x", "name": "X", "price_cents": -1},
            {"item_id": "x", "name": "X2", "price_cents": 1},
        ]
    }
    refused = two.admin("PUT", f"/v1/tenants/{A}/menu", body=bad)
    assert refused.status == 422
    assert "price_cents" in json.dumps(refused.body)
    assert published == []
    # A good menu is stored and announced once
    menu = {"items": [{"item_id": "x", "name": "X", "price_cents": 990}]}
    first = two.admin("PUT", f"/v1/tenants/{A}/menu", body=menu)
    assert first.status == 200
    assert first.body["changed"] is True
    [event] = published
    assert isinstance(event, CatalogChanged)
    assert (event.tenant_id, event.items_upserted, event.items_removed) == (A, 1, 0)
    assert event.menu_version == first.body["menu_version"]
    # The same menu again changes nothing and announces nothing
    again = two.admin("PUT", f"/v1/tenants/{A}/menu", body=menu)
    assert again.body["changed"] is False
    assert len(published) == 1
    # Removing the item is announced as a removal
    two.admin("PUT", f"/v1/tenants/{A}/menu", body={"items": []})
    assert (published[-1].items_upserted, published[-1].items_removed) == (0, 1)  # type: ignore[attr-defined]


def test_unknown_route_and_bad_tenant_id(two: Stack) -> None:
    assert two.admin("GET", "/v1/tenants/Not_A_Slug").status == 422


def test_release_accepts_the_number_raw_or_encoded(two: Stack) -> None:
    two.admin("POST", f"/v1/tenants/{A}/phone-numbers", body={"number": NUMBER})
    raw = two.admin("DELETE", f"/v1/tenants/{A}/phone-numbers/{NUMBER}")
    assert raw.status == 202, raw.body
    encoded = two.admin("DELETE", number_path(A, NUMBER))
    assert encoded.status == 202
    assert encoded.body["status"] == "releasing"


def test_menu_with_modifiers_and_flavours_round_trips_and_bad_groups_are_422(two: Stack) -> None:
    # Given a pizzeria menu: a shared crust group, a pizza of up to two flavours
    borda = {
        "group_id": "borda",
        "name": "Borda",
        "min": 0,
        "max": 1,
        "modifiers": [{"modifier_id": "catupiry", "name": "Catupiry", "price_delta_cents": 900}],
    }
    pizza = {
        "item_id": "calabresa",
        "name": "Calabresa",
        "price_cents": 4990,
        "max_flavours": 2,
        "modifier_group_ids": ["borda"],
    }
    menu = {"items": [pizza], "modifier_groups": [borda]}
    # When it is uploaded and read back, it is stored whole
    assert two.admin("PUT", f"/v1/tenants/{A}/menu", body=menu).status == 200
    stored = two.admin("GET", f"/v1/tenants/{A}/menu").body["menu"]
    assert stored["modifier_groups"][0]["modifiers"][0]["price_delta_cents"] == 900
    assert stored["items"][0]["modifier_group_ids"] == ["borda"]
    # And menus that cannot be right are refused with the reason
    for broken, reason in (
        ({"items": [{**pizza, "modifier_group_ids": ["massa"]}]}, "calabresa → massa"),
        ({"items": [pizza], "modifier_groups": [{**borda, "min": 2}]}, "min (2) > max (1)"),
        ({"items": [{**pizza, "max_flavours": 9}], "modifier_groups": [borda]}, "max_flavours"),
    ):
        refused = two.admin("PUT", f"/v1/tenants/{A}/menu", body=broken)
        assert refused.status == 422
        assert reason in json.dumps(refused.body, ensure_ascii=False)


def test_a_customer_is_forgotten_on_request_and_only_in_their_tenant(two: Stack) -> None:
    from atende_shared.dal.customers import customer_store
    from atende_shared.models.customer import Customer, RememberedLine

    # Given the same caller known to two tenants
    store = customer_store(two.aws.env["ATENDE_MAIN_TABLE"])
    line = RememberedLine(item_id="x", quantity=1)
    for tenant in (A, B):
        store.put(Customer(tenant_id=tenant, phone="+5511988887777", name="Ana", last_order=[line]))
    # When tenant A is asked to forget them (the number as typed, URL-encoded)
    gone = two.admin("DELETE", f"/v1/tenants/{A}/customers/%2B55%2011%2098888-7777")
    # Then A no longer knows them, B still does, and a bad number is a 422 with the reason
    assert gone.status == 204
    assert store.get(A, "+5511988887777") is None
    kept = store.get(B, "+5511988887777")
    assert kept is not None
    assert kept.name == "Ana"
    assert two.admin("DELETE", f"/v1/tenants/{A}/customers/12345").status == 422
    assert two.admin("DELETE", "/v1/tenants/nobody-here/customers/+5511988887777").status == 404
