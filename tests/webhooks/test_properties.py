"""Property tests: arbitrary bytes and headers at every route never produce a 500 and
never enqueue without valid credentials; arbitrary bodies *with* valid credentials never
produce a 500 either."""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st

from tests.webhooks.cases import CASES, Case, Req, bling_signature, standard_headers
from tests.webhooks.conftest import Harness, api_event, invoke

BLING = CASES[1]

ROUTES = [(case, "acme") for case in CASES] + [(case, "ghost") for case in CASES[1:]]
REFUSALS = {400, 401, 404, 405, 413, 415, 422}
HEADER_NAMES = [
    "Authorization",
    "X-Bling-Signature-256",
    "asaas-access-token",
    "Client-Token",
    "apikey",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "Content-Type",
    "X-Correlation-Id",
]
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

header_values = st.one_of(
    st.text(alphabet=string.printable, max_size=80),
    st.sampled_from(["application/json", "application/webhook+json", "sha256=" + "0" * 64]),
    st.from_regex(r"v1,[A-Za-z0-9+/=]{0,60}( v1,[A-Za-z0-9+/=]{0,60})?", fullmatch=True),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=400),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"", b"{}", b"[]", b"null", b"[" * 5000, b'{"a": "\\ud800"}']),
)


@st.composite
def arbitrary_requests(draw: st.DrawFn) -> tuple[dict[str, Any], Case]:
    case, tenant = draw(st.sampled_from(ROUTES))
    base = case.make(tenant, "not-a-real-secret-0000000000000000", case.payload(tenant))
    # Start from the provider's own headers (right content type, wrong credentials), then
    # let hypothesis add, replace or drop, so most examples get past the content-type check.
    headers = dict(base.headers) if draw(st.booleans()) else {}
    headers |= draw(st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=6))
    if draw(st.booleans()):
        headers.setdefault("Content-Type", "application/json")
    path_params = dict(base.path_params)
    if "path_secret" in path_params:
        path_params["path_secret"] = draw(st.text(string.ascii_letters + "-_", min_size=1))
        path = f"/webhooks/pluggto/{tenant}/{path_params['path_secret']}"
    else:
        path = base.path
    req = Req(path, path_params, headers, draw(bodies))
    return api_event(req, base64_body=draw(st.booleans())), case


@PROPERTY_SETTINGS
@given(request=arbitrary_requests())
def test_arbitrary_requests_never_500_and_never_enqueue(
    ingress_env: Harness, request: tuple[dict[str, Any], Case]
) -> None:
    event, _case = request
    answer = invoke(event)
    hypothesis_event(f"status {answer.status}")
    assert answer.status in REFUSALS, (answer.status, answer.body)
    assert ingress_env.total_messages() == 0


arbitrary_data = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
lone_surrogate = st.just({"text": "\ud800"})  # valid JSON escape, invalid Unicode


@st.composite
def shaped_bodies(draw: st.DrawFn, bling: bool) -> bytes:
    """Bodies of the right shape with arbitrary content, so the accepted path is exercised."""
    data = draw(arbitrary_data | lone_surrogate)
    if bling:
        payload = BLING.payload("acme") | {"data": data}
    else:
        kind = draw(st.sampled_from(["payment.settled", "order.created", "unknown.kind"]))
        payload = {"type": kind, "data": data}
    return json.dumps(payload).encode()


@st.composite
def signed_arbitrary_bodies(draw: st.DrawFn, harness: Harness) -> dict[str, Any]:
    to_bling = draw(st.booleans())
    body = draw(bodies | shaped_bodies(to_bling))
    headers = {"Content-Type": "application/json"}
    if to_bling:
        secret = harness.secret(CASES[1])
        headers["X-Bling-Signature-256"] = bling_signature(body, secret)
        path, params = "/webhooks/bling/acme", {"tenant_id": "acme"}
    else:
        try:
            body.decode()
        except UnicodeDecodeError:
            body = body.decode("latin-1").encode()
        headers |= standard_headers(body, harness.secret(CASES[-1]))
        path, params = "/webhooks/custom/acme", {"tenant_id": "acme"}
    return api_event(Req(path, params, headers, body), base64_body=draw(st.booleans()))


@PROPERTY_SETTINGS
@given(data=st.data())
def test_authentic_but_arbitrary_bodies_never_500(
    ingress_env: Harness, data: st.DataObject
) -> None:
    event = data.draw(signed_arbitrary_bodies(ingress_env))
    answer = invoke(event)
    hypothesis_event(f"status {answer.status}")
    assert answer.status in {200, 400, 413, 422}, (answer.status, answer.body)
    enqueued = sum(len(ingress_env.drain(q)) for q in ingress_env.queues())
    assert enqueued == (1 if answer.body.get("status") == "accepted" else 0)
