"""A contract-faithful fake of LiveKit's SIP Twirp API, served on loopback.

``livekit-api`` 1.2 POSTs protobuf to ``/twirp/livekit.SIP/<Method>`` with
``Authorization: Bearer <JWT>`` (HS256, issuer = API key, grant ``sip.admin``) and reads
Twirp errors as JSON ``{"code", "msg"}``. This server speaks that (and the JSON flavour
of Twirp) and enforces the behaviour the provisioner must survive, as documented in
docs/provisioning.md and /work/shared/DESIGN.md:

- ids are generated (``ST_...`` trunks, ``SDR_...`` dispatch rules), never chosen;
- a second inbound trunk with a number already in use fails with ``invalid_argument``
  "Conflicting inbound SIP Trunks ..."; a second dispatch rule with the same
  trunk+number+PIN fails with ``invalid_argument`` "Dispatch rule for the same trunk,
  inbound number, number, and PIN combination already exists ...";
- both checks are *not* atomic with the insert: two concurrent creates can both
  succeed (a race window is kept open on purpose: the real server lists, validates and
  stores in separate steps without a lock, but its window is far narrower);
- an update re-validates only against trunks/rules the *stored* record already shared a
  number/trunk with, so moving a trunk wholesale onto a taken number is accepted;
- an inbound trunk needs numbers, allowed addresses or a username+password;
- deleting an unknown trunk succeeds, deleting an unknown rule is ``not_found``,
  deleting a trunk leaves its rules in place;
- list filters are loose: ``numbers`` also returns trunks with no numbers and
  ``trunk_ids`` on rules also returns rules bound to no trunk; lists are ordered by id,
  ``page.after_id`` skips ids up to it and ``page.limit`` is a page size the server
  follows itself (the answer holds every remaining item);
- ``created_at``/``updated_at`` are left unset, as the real server leaves them;
- authentication failures answer 401 in plain text (not a Twirp body); a valid token
  without ``sip.admin`` is Twirp ``unauthenticated`` "permissions denied";
- JSON Twirp answers use the proto field names and print unset fields.

Every point above was checked against the real livekit-server (v1.13.5) by
``tests/provision/test_fake_livekit.py`` run both ways (``sip_server`` fake|real).
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import jwt
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit.api.access_token import TokenVerifier
from livekit.protocol import sip as proto

#: Local-only credentials the fake accepts by default (the local platform uses these).
DEV_API_KEY = "devkey"
DEV_API_SECRET = "devsecret-devsecret-devsecret-0123"  # noqa: S105 - a local fake's secret

M = TypeVar("M", bound=Message)
S = TypeVar("S", proto.SIPInboundTrunkInfo, proto.SIPDispatchRuleInfo)

_ALPHABET = string.ascii_letters + string.digits

#: Twirp error codes and their HTTP statuses (twirp spec v7).
_TWIRP_STATUS = {
    "invalid_argument": 400,
    "malformed": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "failed_precondition": 412,
    "internal": 500,
    "unknown": 500,
    "unavailable": 503,
    "deadline_exceeded": 504,
}


class TwirpFailure(Exception):
    """An error answered as a Twirp JSON error body (or, ``plain``, as bare text: what
    the real server's auth middleware answers before Twirp sees the request)."""

    def __init__(
        self, code: str, msg: str, status: int | None = None, *, plain: bool = False
    ) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status or _TWIRP_STATUS.get(code, 500)
        self.plain = plain


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(12))


@dataclass
class Fault:
    """One injected failure, consumed by the next ``count`` matching requests."""

    method: str | None
    kind: str  # "status" | "timeout"
    count: int
    status: int = 503
    code: str = "unavailable"
    seconds: float = 0.0
    apply: bool = False  # timeouts: perform the effect after sleeping (ambiguous outcome)


@dataclass
class FakeSipState:
    """Everything the fake stores, behind one lock (except the deliberate race)."""

    trunks: dict[str, proto.SIPInboundTrunkInfo] = field(default_factory=dict)
    rules: dict[str, proto.SIPDispatchRuleInfo] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


class FakeLiveKit:
    """A running fake: its ``url``, its state, the fault switches, ``stop()``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        api_key: str,
        api_secret: str,
        race_window_seconds: float = 0.02,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.state = FakeSipState()
        #: Sleep between the conflict check and the insert, so concurrent creates both win.
        self.race_window_seconds = race_window_seconds
        #: Extra latency on every request.
        self.latency_seconds = 0.0
        #: Names of the methods called, in order (for "was it retried?" assertions).
        self.calls: list[str] = []
        self._faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        self._verifier = TokenVerifier(api_key, api_secret)
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-livekit",
            daemon=True,
        )
        self._thread.start()

    # -- public handle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(
        self,
        method: str | None = None,
        *,
        count: int = 1,
        status: int = 503,
        code: str = "unavailable",
    ) -> None:
        """Answer the next ``count`` calls (of ``method``, or any) with a Twirp error."""
        with self._faults_lock:
            self._faults.append(Fault(method, "status", count, status=status, code=code))

    def timeout_next(
        self, method: str | None = None, *, seconds: float, count: int = 1, apply: bool = False
    ) -> None:
        """Stall the next ``count`` calls for ``seconds`` (past the client's timeout)."""
        with self._faults_lock:
            self._faults.append(Fault(method, "timeout", count, seconds=seconds, apply=apply))

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()
        self.latency_seconds = 0.0

    def trunks(self) -> list[proto.SIPInboundTrunkInfo]:
        with self.state.lock:
            return [_copy(t) for t in self.state.trunks.values()]

    def rules(self) -> list[proto.SIPDispatchRuleInfo]:
        with self.state.lock:
            return [_copy(r) for r in self.state.rules.values()]

    def reset(self) -> None:
        """Forget every trunk, rule, fault and recorded call."""
        with self.state.lock:
            self.state.trunks.clear()
            self.state.rules.clear()
        self.clear_faults()
        self.calls.clear()

    # -- request plumbing ----------------------------------------------------------------

    def _take_fault(self, method: str) -> Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.method in (None, method) and fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def authorize(self, header: str | None) -> None:
        if not header or not header.startswith("Bearer "):
            raise TwirpFailure(
                "unauthenticated",
                "invalid authorization header. Must start with Bearer ",
                plain=True,
            )
        token = header.removeprefix("Bearer ").strip()
        try:
            jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TwirpFailure(
                "unauthenticated", "invalid authorization token", plain=True
            ) from exc
        try:
            claims = self._verifier.verify(token)
        except (jwt.PyJWTError, ValueError) as exc:
            raise TwirpFailure(
                "unauthenticated", f"invalid token: {token}, error: {exc}", plain=True
            ) from exc
        if claims.sip is None or not claims.sip.admin:
            raise TwirpFailure("unauthenticated", "permissions denied")

    def dispatch(self, method: str, body: bytes, content_type: str, auth: str | None) -> bytes:
        self.calls.append(method)
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        route = _ROUTES.get(method)
        if route is None:
            raise TwirpFailure("bad_route", f"no handler for path /twirp/livekit.SIP/{method}")
        self.authorize(auth)
        fault = self._take_fault(method)
        if fault is not None and fault.kind == "status":
            raise TwirpFailure(fault.code, "injected failure", fault.status)
        request_type, operation = route
        request = _decode(request_type, body, content_type)
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds)
            if not fault.apply:
                raise TwirpFailure("deadline_exceeded", "injected timeout")
        answer = operation(self, request)
        return _encode(answer, content_type)

    # -- SIP operations ------------------------------------------------------------------

    def _trunk_conflicts(self, trunk: proto.SIPInboundTrunkInfo, *, update: bool = False) -> None:
        """Raise LiveKit's error when another trunk already holds one of ``trunk``'s numbers.

        On an update the real server lists trunks by the *new* numbers and swaps in the
        updated record only if its stored version is among them, so a trunk moved
        wholesale onto a taken number is not caught (``UpdateSIPInboundTrunk``)."""
        if update:
            stored = self.state.trunks.get(trunk.sip_trunk_id)
            if stored is None or (stored.numbers and not set(stored.numbers) & set(trunk.numbers)):
                return
        for other in sorted(self.state.trunks.values(), key=lambda t: t.sip_trunk_id):
            if other.sip_trunk_id == trunk.sip_trunk_id:
                continue
            shared = sorted(set(trunk.numbers) & set(other.numbers))
            if shared:
                quoted = " ".join(json.dumps(n) for n in shared)
                raise TwirpFailure(
                    "invalid_argument",
                    f'Conflicting inbound SIP Trunks: "{trunk.sip_trunk_id or "<new>"}" and '
                    f'"{other.sip_trunk_id}", '
                    f"using the same number(s) [{quoted}] without AllowedNumbers set",
                )

    def create_inbound_trunk(
        self, request: proto.CreateSIPInboundTrunkRequest
    ) -> proto.SIPInboundTrunkInfo:
        if not request.HasField("trunk"):
            raise TwirpFailure("invalid_argument", "trunk is required")
        if request.trunk.sip_trunk_id:
            raise TwirpFailure("invalid_argument", "trunk id must not be set")
        trunk = _copy(request.trunk)
        if (
            not trunk.numbers
            and not trunk.allowed_addresses
            and not (trunk.auth_username and trunk.auth_password)
        ):
            raise TwirpFailure(
                "invalid_argument",
                "for security, one of the fields must be set: "
                "AuthUsername+AuthPassword, AllowedAddresses or Numbers",
            )
        with self.state.lock:
            self._trunk_conflicts(trunk)  # id still empty: the message names "<new>"
        trunk.sip_trunk_id = _new_id("ST_")
        # The real server validates and inserts in separate steps; keep the window open.
        time.sleep(self.race_window_seconds)
        with self.state.lock:
            self.state.trunks[trunk.sip_trunk_id] = trunk
            return _copy(trunk)

    def list_inbound_trunks(
        self, request: proto.ListSIPInboundTrunkRequest
    ) -> proto.ListSIPInboundTrunkResponse:
        wanted_ids = set(request.trunk_ids)
        wanted_numbers = set(request.numbers)

        def wanted(t: proto.SIPInboundTrunkInfo) -> bool:
            return bool(
                (not wanted_ids or t.sip_trunk_id in wanted_ids)
                # Loose on purpose (like LiveKit): a trunk without numbers matches any.
                and (not wanted_numbers or not t.numbers or wanted_numbers & set(t.numbers))
            )

        with self.state.lock:
            selected = _select(self.state.trunks.values(), wanted)
        return proto.ListSIPInboundTrunkResponse(
            items=_page(selected, request, lambda t: t.sip_trunk_id)
        )

    def update_inbound_trunk(
        self, request: proto.UpdateSIPInboundTrunkRequest
    ) -> proto.SIPInboundTrunkInfo:
        with self.state.lock:
            current = self.state.trunks.get(request.sip_trunk_id)
            if current is None:
                raise TwirpFailure("not_found", "requested sip trunk does not exist")
            if request.HasField("replace"):
                updated = _copy(request.replace)
                updated.sip_trunk_id = current.sip_trunk_id
            elif request.HasField("update"):
                updated = _copy(current)
                change = request.update
                if change.HasField("numbers"):
                    _apply_list(updated.numbers, change.numbers)
                for name in ("name", "metadata", "auth_username", "auth_password"):
                    if change.HasField(name):
                        setattr(updated, name, getattr(change, name))
            else:
                raise TwirpFailure("internal", "missing or unsupported action")
            self._trunk_conflicts(updated, update=True)
            self.state.trunks[updated.sip_trunk_id] = updated
            return _copy(updated)

    def delete_trunk(self, request: proto.DeleteSIPTrunkRequest) -> proto.SIPTrunkInfo:
        # Unknown trunks delete fine, and the trunk's rules stay (they dangle).
        with self.state.lock:
            gone = self.state.trunks.pop(request.sip_trunk_id, None)
        info = proto.SIPTrunkInfo(sip_trunk_id=request.sip_trunk_id)
        if gone is not None:
            info.name = gone.name
            info.metadata = gone.metadata
            info.inbound_numbers.extend(gone.numbers)
        return info

    def _rule_conflicts(self, rule: proto.SIPDispatchRuleInfo, *, update: bool = False) -> None:
        """Raise LiveKit's error when another rule already takes one of ``rule``'s
        trunk+number+PIN combinations (on an update, only when the stored rule is among
        those listed by the new trunk ids, as ``UpdateSIPDispatchRule`` does)."""
        if update:
            stored = self.state.rules.get(rule.sip_dispatch_rule_id)
            if stored is None or (
                stored.trunk_ids and not set(stored.trunk_ids) & set(rule.trunk_ids)
            ):
                return

        def keys(r: proto.SIPDispatchRuleInfo) -> set[tuple[str, str, str]]:
            trunks = list(r.trunk_ids) or [""]
            numbers = list(r.inbound_numbers) or [""]
            pin = r.rule.dispatch_rule_individual.pin or r.rule.dispatch_rule_direct.pin
            return {(t, n, pin) for t in trunks for n in numbers}

        mine = keys(rule)
        for other in sorted(self.state.rules.values(), key=lambda r: r.sip_dispatch_rule_id):
            if other.sip_dispatch_rule_id != rule.sip_dispatch_rule_id and mine & keys(other):
                raise TwirpFailure(
                    "invalid_argument",
                    "Dispatch rule for the same trunk, inbound number, number, and PIN "
                    f'combination already exists in dispatch rule "{other.sip_dispatch_rule_id}" '
                    f'"{other.name or "<blank name>"}"',
                )

    def create_dispatch_rule(
        self, request: proto.CreateSIPDispatchRuleRequest
    ) -> proto.SIPDispatchRuleInfo:
        if request.HasField("dispatch_rule"):
            rule = _copy(request.dispatch_rule)
        else:  # the deprecated flat fields
            rule = proto.SIPDispatchRuleInfo(
                rule=request.rule,
                trunk_ids=request.trunk_ids,
                hide_phone_number=request.hide_phone_number,
                inbound_numbers=request.inbound_numbers,
                name=request.name,
                metadata=request.metadata,
                attributes=dict(request.attributes),
                room_preset=request.room_preset,
            )
            if request.HasField("room_config"):
                rule.room_config.CopyFrom(request.room_config)
        if rule.sip_dispatch_rule_id:
            raise TwirpFailure("invalid_argument", "rule id must not be set")
        if not rule.HasField("rule") or rule.rule.WhichOneof("rule") is None:
            raise TwirpFailure("invalid_argument", "missing rule")
        with self.state.lock:
            self._rule_conflicts(rule)
        rule.sip_dispatch_rule_id = _new_id("SDR_")
        time.sleep(self.race_window_seconds)
        with self.state.lock:
            self.state.rules[rule.sip_dispatch_rule_id] = rule
            return _copy(rule)

    def list_dispatch_rules(
        self, request: proto.ListSIPDispatchRuleRequest
    ) -> proto.ListSIPDispatchRuleResponse:
        wanted_ids = set(request.dispatch_rule_ids)
        wanted_trunks = set(request.trunk_ids)

        def wanted(r: proto.SIPDispatchRuleInfo) -> bool:
            return bool(
                (not wanted_ids or r.sip_dispatch_rule_id in wanted_ids)
                # Loose on purpose: a rule bound to no trunk applies to every trunk.
                and (not wanted_trunks or not r.trunk_ids or wanted_trunks & set(r.trunk_ids))
            )

        with self.state.lock:
            selected = _select(self.state.rules.values(), wanted)
        return proto.ListSIPDispatchRuleResponse(
            items=_page(selected, request, lambda r: r.sip_dispatch_rule_id)
        )

    def update_dispatch_rule(
        self, request: proto.UpdateSIPDispatchRuleRequest
    ) -> proto.SIPDispatchRuleInfo:
        with self.state.lock:
            current = self.state.rules.get(request.sip_dispatch_rule_id)
            if current is None:
                raise TwirpFailure("not_found", "requested sip dispatch rule does not exist")
            if request.HasField("replace"):
                updated = _copy(request.replace)
                updated.sip_dispatch_rule_id = current.sip_dispatch_rule_id
            elif request.HasField("update"):
                updated = _copy(current)
                change = request.update
                if change.HasField("trunk_ids"):
                    _apply_list(updated.trunk_ids, change.trunk_ids)
                if change.HasField("rule"):
                    updated.rule.CopyFrom(change.rule)
                for name in ("name", "metadata"):
                    if change.HasField(name):
                        setattr(updated, name, getattr(change, name))
                if change.attributes:
                    updated.attributes.clear()
                    updated.attributes.update(dict(change.attributes))
            else:
                raise TwirpFailure("internal", "missing or unsupported action")
            self._rule_conflicts(updated, update=True)
            self.state.rules[updated.sip_dispatch_rule_id] = updated
            return _copy(updated)

    def delete_dispatch_rule(
        self, request: proto.DeleteSIPDispatchRuleRequest
    ) -> proto.SIPDispatchRuleInfo:
        with self.state.lock:
            gone = self.state.rules.pop(request.sip_dispatch_rule_id, None)
        if gone is None:
            raise TwirpFailure("not_found", "requested sip dispatch rule does not exist")
        return gone


def _copy(message: M) -> M:
    clone = type(message)()
    clone.CopyFrom(message)
    return clone


def _select(items: Iterable[S], wanted: Callable[[S], bool]) -> list[S]:
    """Copies of the ``wanted`` items."""
    return [_copy(i) for i in items if wanted(i)]


def _page(items: list[Any], request: Any, ident: Callable[[Any], str]) -> list[Any]:
    """LiveKit's ``Pagination`` as the real server applies it: ordered by id, strictly after
    ``after_id``; ``limit`` is only the page size of the server's own iteration over its
    store (``ListPageIter``), so every remaining item is answered."""
    ordered = sorted(items, key=ident)
    after = request.page.after_id if request.HasField("page") else ""
    if after:
        ordered = [i for i in ordered if ident(i) > after]
    return ordered


def _apply_list(target: Any, change: Any) -> None:
    if change.set:
        del target[:]
        target.extend(change.set)
    for value in change.add:
        if value not in target:
            target.append(value)
    for value in change.remove:
        while value in target:
            target.remove(value)


def _decode(request_type: type[Message], body: bytes, content_type: str) -> Message:
    try:
        if "json" in content_type:
            return json_format.Parse(
                body.decode() or "{}", request_type(), ignore_unknown_fields=True
            )
        return request_type.FromString(body)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError) as exc:
        raise TwirpFailure("malformed", f"could not decode request: {exc}") from exc


def _encode(message: Message, content_type: str) -> bytes:
    if "json" in content_type:
        # The real server answers protojson with the proto field names and unset fields.
        return json_format.MessageToJson(
            message,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        ).encode()
    return message.SerializeToString()


Operation = Callable[[FakeLiveKit, Any], Message]

_ROUTES: dict[str, tuple[type[Message], Operation]] = {
    "CreateSIPInboundTrunk": (proto.CreateSIPInboundTrunkRequest, FakeLiveKit.create_inbound_trunk),
    "ListSIPInboundTrunk": (proto.ListSIPInboundTrunkRequest, FakeLiveKit.list_inbound_trunks),
    "UpdateSIPInboundTrunk": (proto.UpdateSIPInboundTrunkRequest, FakeLiveKit.update_inbound_trunk),
    "DeleteSIPTrunk": (proto.DeleteSIPTrunkRequest, FakeLiveKit.delete_trunk),
    "CreateSIPDispatchRule": (proto.CreateSIPDispatchRuleRequest, FakeLiveKit.create_dispatch_rule),
    "ListSIPDispatchRule": (proto.ListSIPDispatchRuleRequest, FakeLiveKit.list_dispatch_rules),
    "UpdateSIPDispatchRule": (proto.UpdateSIPDispatchRuleRequest, FakeLiveKit.update_dispatch_rule),
    "DeleteSIPDispatchRule": (proto.DeleteSIPDispatchRuleRequest, FakeLiveKit.delete_dispatch_rule),
}

_PREFIX = "/twirp/livekit.SIP/"


def _make_handler(fake: FakeLiveKit) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the local platform print their own story."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            content_type = (self.headers.get("Content-Type") or "application/protobuf").lower()
            try:
                if not self.path.startswith(_PREFIX):
                    raise TwirpFailure("bad_route", f"no handler for path {self.path}")
                method = self.path.removeprefix(_PREFIX).split("?", 1)[0]
                payload = fake.dispatch(
                    method, body, content_type, self.headers.get("Authorization")
                )
                self._answer(HTTPStatus.OK, payload, content_type)
            except TwirpFailure as failure:
                if failure.plain:
                    self._answer(failure.status, failure.msg.encode(), "text/plain")
                    return
                error = json.dumps({"code": failure.code, "msg": failure.msg}).encode()
                self._answer(failure.status, error, "application/json")
            except (BrokenPipeError, ConnectionResetError):
                return

        def _answer(self, status: int, payload: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str = DEV_API_KEY,
    api_secret: str = DEV_API_SECRET,
    race_window_seconds: float = 0.02,
) -> FakeLiveKit:
    """Start a fake LiveKit SIP API in a background thread; ``.url`` and ``.stop()``."""
    return FakeLiveKit(
        host=host,
        port=port,
        api_key=api_key,
        api_secret=api_secret,
        race_window_seconds=race_window_seconds,
    )
