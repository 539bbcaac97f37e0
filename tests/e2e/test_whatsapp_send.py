"""`make run` serves fake Z-API/Evolution send APIs and seeds the demo tenant to send there:
a send with the seeded credentials is accepted and shows in /_local/whatsapp/messages."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import PlatformClient

pytestmark = pytest.mark.e2e


def test_the_demo_tenant_sends_to_the_local_fake_gateways(platform: PlatformClient) -> None:
    # Given the demo tenant's seeded gateway secrets (their base_url is the local fake)
    zapi = platform.demo_secrets["zapi"]
    evolution = platform.demo_secrets["evolution"]
    assert zapi["base_url"] == evolution["base_url"]
    assert platform.http.delete("/_local/whatsapp/messages", headers=platform.admin).is_success
    # When both gateways' send-text APIs are called with those credentials
    sent_zapi = httpx.post(
        f"{zapi['base_url']}/instances/{zapi['instance_id']}/token/"
        f"{zapi['instance_token']}/send-text",
        json={"phone": "5511999990000", "message": "oi pelo zapi"},
        headers={"Client-Token": zapi["client_token"]},
        timeout=10,
    )
    sent_evolution = httpx.post(
        f"{evolution['base_url']}/message/sendText/{evolution['instance']}",
        json={"number": "5511999990000", "text": "oi pela evolution"},
        headers={"apikey": evolution["apikey"]},
        timeout=10,
    )
    assert (sent_zapi.status_code, sent_evolution.status_code) == (200, 201)
    # Then the local gateway shows both, admin-only
    assert platform.http.get("/_local/whatsapp/messages").status_code == 401
    messages = platform.http.get("/_local/whatsapp/messages", headers=platform.admin).json()
    texts = [(m["gateway"], m["text"]) for m in messages["messages"]]
    assert ("zapi", "oi pelo zapi") in texts
    assert ("evolution", "oi pela evolution") in texts
