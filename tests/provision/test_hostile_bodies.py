"""Hostile bodies on the real admin API (issue 13, "Hostile clients"): 400/413/415 with the
platform's error body and correlation id, never a 502."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.provision.apigw import Answer

TENANT = {"tenant_id": "acme-foods", "name": "Acme"}


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ('{"categories": ' + "[" * 1_000 + "]" * 1_000 + "}", 400),  # RecursionError before
        ('{"version": ' + "9" * 4_301 + "}", 400),  # ValueError (int digits) before
        ("{" * 50, 400),
    ],
)
def test_hostile_menu_bodies_are_refused_with_the_error_body(
    admin: Callable[..., Answer], raw: str, status: int
) -> None:
    # Given a tenant
    assert admin("POST", "/v1/tenants", body=TENANT).status == 201
    # When a hostile menu is PUT, with the caller's correlation id
    answer = admin(
        "PUT",
        "/v1/tenants/acme-foods/menu",
        raw_body=raw,
        headers={"X-Correlation-Id": "menu-probe-1"},
    )
    # Then it is a 400 in the platform's body carrying that id
    assert answer.status == status, answer.body
    assert answer.body["error"]["code"] == "malformed_request"
    assert answer.body["correlation_id"] == "menu-probe-1"


def test_413_and_415_carry_the_correlation_id(
    admin: Callable[..., Answer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from atende_shared.settings import reset_settings_cache

    monkeypatch.setenv("ATENDE_ADMIN_MAX_BODY_BYTES", "1000")
    reset_settings_cache()
    big: dict[str, Any] = {"tenant_id": "big-one", "name": "x" * 2_000}
    answer = admin("POST", "/v1/tenants", body=big, headers={"X-Correlation-Id": "c-413"})
    assert (answer.status, answer.body["correlation_id"]) == (413, "c-413")
    answer = admin("POST", "/v1/tenants", raw_body="a=b", headers={"Content-Type": "text/plain"})
    assert answer.status == 415
    assert answer.body["correlation_id"]
    monkeypatch.undo()
    reset_settings_cache()
