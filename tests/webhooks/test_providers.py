"""Per provider, through the real handler on moto: what is accepted, what is refused, and
that a refusal never enqueues."""

from __future__ import annotations

import json

import pytest

from atende_shared.models.livekit import LiveKitEvent
from tests.webhooks.cases import CASE_IDS, CASES, TENANT_CASES, Case
from tests.webhooks.conftest import Harness

every_sender = pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
# Only where the case applies: body signatures (not tokens), and tenant-scoped routes
# (LiveKit's secret is platform-wide and its tenant comes from the room name).
body_signers = pytest.mark.parametrize(
    "case", [c for c in CASES if c.signs_body], ids=lambda c: c.provider
)
tenant_routes = pytest.mark.parametrize("case", TENANT_CASES, ids=lambda c: c.provider)


@every_sender
def test_valid_delivery_is_accepted_and_enqueued_once(ingress: Harness, case: Case) -> None:
    # Given a delivery signed the way the provider signs it
    data = case.payload("acme")
    req = ingress.request(case, "acme", data)

    # When it arrives
    answer = ingress.send(req)

    # Then it is accepted and exactly one envelope sits on the provider's queue
    assert answer.status == 200, answer.body
    assert answer.body == {"status": "accepted"}
    messages = ingress.drain(case.queue)
    assert len(messages) == 1
    assert ingress.total_messages() == 0
    envelope = messages[0]["body"]
    assert envelope["tenant_id"] == "acme"
    assert envelope["provider"] == case.provider
    assert envelope["correlation_id"] == messages[0]["attributes"]["correlation_id"]["StringValue"]
    sent = {k: v for k, v in json.loads(req.body).items() if k != "apikey"}
    if case.provider == "livekit":  # the shared typed event, read from what LiveKit sent
        sent = LiveKitEvent.model_validate(sent).model_dump(mode="json")
    assert envelope["payload"] == sent


@every_sender
def test_base64_encoded_body_is_verified_on_the_decoded_bytes(ingress: Harness, case: Case) -> None:
    # Given a delivery whose body API Gateway hands over base64-encoded
    req = ingress.request(case)

    # When it arrives
    answer = ingress.send(req, base64_body=True)

    # Then the signature over the original bytes still verifies
    assert answer.status == 200, answer.body
    assert len(ingress.drain(case.queue)) == 1


@body_signers
def test_tampered_body_is_refused(ingress: Harness, case: Case) -> None:
    # Given a signed delivery whose body changed on the way
    req = ingress.request(case)
    req.body = req.body + b" "

    # When it arrives, then it is refused and nothing is enqueued
    answer = ingress.send(req)
    assert answer.status == 401
    assert ingress.total_messages() == 0


@every_sender
def test_wrong_secret_is_refused(ingress: Harness, case: Case) -> None:
    # Given a delivery authenticated with a secret that is not the tenant's
    req = ingress.request(case, secret=case.new_secret())

    # When it arrives, then 401, no reason in the answer, nothing enqueued
    answer = ingress.send(req)
    assert answer.status == 401
    assert answer.body["error"] == {"code": "unauthorized", "message": "Unauthorized"}
    assert ingress.total_messages() == 0


@every_sender
def test_missing_credentials_are_refused(ingress: Harness, case: Case) -> None:
    # Given a delivery without the authenticating header (or key in the body)
    if case.provider == "pluggto":
        req = ingress.request(case)
        req.path_params["path_secret"] = ""
    elif case.provider == "evolution":
        req = ingress.request(case)
        data = json.loads(req.body)
        del data["apikey"]
        req.body = json.dumps(data).encode()
    else:
        req = ingress.request(case)
        assert case.auth_header is not None
        del req.headers[case.auth_header]

    # When it arrives, then 401 and nothing enqueued
    assert ingress.send(req).status == 401
    assert ingress.total_messages() == 0


@every_sender
def test_malformed_json_is_400(ingress: Harness, case: Case) -> None:
    # Given an authentic delivery whose body is not JSON
    req = ingress.request(case, data=b'{"event": "room_started", ')

    # When it arrives, then 400 with a clear message
    answer = ingress.send(req)
    assert answer.status == 400, answer.body
    assert answer.body["error"]["message"] == "request body is not valid JSON"
    assert ingress.total_messages() == 0


@every_sender
def test_schema_violation_is_422_naming_the_field(ingress: Harness, case: Case) -> None:
    # Given an authentic delivery that lacks a field the provider always sends
    data = case.payload("acme")
    missing = {
        "livekit": "id",
        "bling": "eventId",
        "asaas": "id",
        "pluggto": "action",
        "zapi": "messageId",
        "evolution": "instance",
        "custom": "data",
    }[case.provider]
    del data[missing]

    # When it arrives
    answer = ingress.send(ingress.request(case, data=data))

    # Then 422 names it, and nothing is enqueued
    assert answer.status == 422, answer.body
    details = json.dumps(answer.body["error"])
    assert missing in details
    assert ingress.total_messages() == 0


@every_sender
def test_oversized_body_is_413(ingress: Harness, case: Case) -> None:
    # Given an authentic delivery larger than the configured maximum (64 KiB)
    data = case.payload("acme")
    data["padding"] = "x" * (65 * 1024)

    # When it arrives, then 413, before anything else
    assert ingress.send(ingress.request(case, data=data)).status == 413
    assert ingress.total_messages() == 0


@every_sender
def test_wrong_content_type_is_415(ingress: Harness, case: Case) -> None:
    req = ingress.request(case)
    req.headers["Content-Type"] = "text/plain"
    assert ingress.send(req).status == 415
    assert ingress.total_messages() == 0


@every_sender
def test_same_event_five_times_is_enqueued_once(ingress: Harness, case: Case) -> None:
    # Given one event the sender delivers five times (fresh signature each time)
    data = case.payload("acme")

    # When the five deliveries arrive
    answers = [ingress.send(ingress.request(case, data=data)) for _ in range(5)]

    # Then all are answered 200, and the queue holds one message
    assert [a.status for a in answers] == [200] * 5
    messages = ingress.drain(case.queue)
    if case.dedupes:
        assert [a.body["status"] for a in answers] == ["accepted"] + ["duplicate"] * 4
        assert len(messages) == 1
    else:  # Plugg.to: no event id; each notification is a (harmless) re-read trigger
        assert len(messages) == 5


@tenant_routes
def test_a_tenants_secret_does_not_open_another_tenants_route(ingress: Harness, case: Case) -> None:
    # Given a delivery to beta's route authenticated with acme's secret
    req = ingress.request(case, "beta", secret=ingress.secret(case, "acme"))

    # When it arrives, then it is refused and nothing is enqueued
    assert ingress.send(req).status == 401
    assert ingress.total_messages() == 0


@tenant_routes
def test_unknown_tenant_is_401_not_404(ingress: Harness, case: Case) -> None:
    req = ingress.request(case, "ghost", secret=ingress.secret(case, "acme"))
    assert ingress.send(req).status == 401
    assert ingress.total_messages() == 0
