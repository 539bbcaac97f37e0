"""The tenants part of the admin API, through the real handler and moto."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.provision.apigw import Answer

Admin = Callable[..., Answer]

PIZZARIA = {"tenant_id": "pizzaria-bella", "name": "Pizzaria Bella", "legal_id": "12345678000199"}


def test_create_then_get_returns_the_tenant_with_defaults(admin: Admin) -> None:
    # Given / When an admin creates a tenant
    created = admin("POST", "/v1/tenants", body=PIZZARIA)
    # Then 201 with pt-BR and Sao Paulo defaults, active
    assert created.status == 201, created.body
    assert created.body["languages"] == ["pt-BR"]
    assert created.body["time_zone"] == "America/Sao_Paulo"
    assert created.body["status"] == "active"
    # And it reads back identically
    fetched = admin("GET", "/v1/tenants/pizzaria-bella")
    assert fetched.status == 200
    assert fetched.body == created.body


def test_creating_the_same_tenant_twice_is_a_conflict(admin: Admin) -> None:
    assert admin("POST", "/v1/tenants", body=PIZZARIA).status == 201
    again = admin("POST", "/v1/tenants", body=PIZZARIA)
    assert again.status == 409
    assert "already exists" in again.body["error"]["message"]


def test_unknown_tenant_is_404_with_a_clear_message(admin: Admin) -> None:
    answer = admin("GET", "/v1/tenants/nobody-here")
    assert answer.status == 404
    assert answer.body["error"] == {
        "code": "not_found",
        "message": "tenant 'nobody-here' not found",
    }


def test_invalid_fields_are_422_naming_each_field(admin: Admin) -> None:
    # Given a body with a bad slug, a bad time zone and an unknown field
    body = {"tenant_id": "Bad_Id", "name": "x", "time_zone": "Mars/Base", "langauges": ["pt"]}
    answer = admin("POST", "/v1/tenants", body=body)
    assert answer.status == 422
    fields = {f["field"] for f in answer.body["error"]["details"]["fields"]}
    assert {"tenant_id", "time_zone", "langauges"} <= fields
    problems = json.dumps(answer.body)
    assert "IANA time zone" in problems


def test_malformed_json_is_400(admin: Admin) -> None:
    answer = admin("POST", "/v1/tenants", raw_body='{"tenant_id": ')
    assert answer.status == 400
    assert answer.body["error"]["code"] == "malformed_request"


def test_oversized_body_is_413_before_parsing(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atende_shared.settings import reset_settings_cache

    monkeypatch.setenv("ATENDE_ADMIN_MAX_BODY_BYTES", "1000")
    reset_settings_cache()
    answer = admin("POST", "/v1/tenants", raw_body=json.dumps({**PIZZARIA, "name": "x" * 2000}))
    assert answer.status == 413
    assert answer.body["error"]["code"] == "payload_too_large"


def test_non_json_content_type_is_415(admin: Admin) -> None:
    answer = admin(
        "POST", "/v1/tenants", raw_body="tenant_id=x", headers={"Content-Type": "text/plain"}
    )
    assert answer.status == 415


def test_patch_changes_only_the_fields_sent(admin: Admin) -> None:
    admin("POST", "/v1/tenants", body=PIZZARIA)
    patched = admin(
        "PATCH",
        "/v1/tenants/pizzaria-bella",
        body={"name": "Bella Pizza", "languages": ["pt-BR", "en-US"]},
    )
    assert patched.status == 200, patched.body
    assert patched.body["name"] == "Bella Pizza"
    assert patched.body["languages"] == ["pt-BR", "en-US"]
    assert patched.body["legal_id"] == PIZZARIA["legal_id"]
    assert admin("PATCH", "/v1/tenants/ghost-tenant", body={"name": "x"}).status == 404


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(admin: Admin) -> None:
    # Given a tenant two admins read at version 0
    created = admin("POST", "/v1/tenants", body=PIZZARIA)
    seen = created.body["version"]
    assert seen == 0
    # When the first one patches naming that version (any header case, quoted or not)
    first = admin(
        "PATCH",
        "/v1/tenants/pizzaria-bella",
        body={"name": "Bella Pizza"},
        headers={"If-Match": f'W/"{seen}"'},
    )
    assert (first.status, first.body["version"]) == (200, 1), first.body
    # Then the second one, still on version 0, is refused and told why
    second = admin(
        "PATCH",
        "/v1/tenants/pizzaria-bella",
        body={"name": "Bella Napoli"},
        headers={"if-match": str(seen)},
    )
    assert second.status == 412
    assert second.body["error"]["code"] == "precondition_failed"
    assert "version 1, not 0" in second.body["error"]["message"]
    assert admin("GET", "/v1/tenants/pizzaria-bella").body["name"] == "Bella Pizza"
    # And a header that names no version is a 422 naming the header
    bad = admin(
        "PATCH", "/v1/tenants/pizzaria-bella", body={"name": "x"}, headers={"If-Match": "abc"}
    )
    assert bad.status == 422
    assert bad.body["error"]["details"]["fields"] == [
        {"field": "If-Match", "problem": "not a version"}
    ]


def test_list_is_paginated_with_an_opaque_cursor(admin: Admin) -> None:
    # Given five tenants
    for i in range(5):
        assert (
            admin("POST", "/v1/tenants", body={"tenant_id": f"shop-{i}", "name": f"S{i}"}).status
            == 201
        )
    # When listing two at a time until the cursor runs out
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = admin("GET", "/v1/tenants", query=query)
        assert page.status == 200, page.body
        seen += [t["tenant_id"] for t in page.body["items"]]
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    # Then every tenant appears exactly once
    assert sorted(seen) == [f"shop-{i}" for i in range(5)]
    # And a forged cursor is refused clearly
    bad = admin("GET", "/v1/tenants", query={"cursor": "not-a-cursor"})
    assert bad.status == 400
    assert "cursor" in json.dumps(bad.body)
