"""``atende chat --script FILE``: play a WhatsApp customer against the local platform.

Each line of the script is sent as a real webhook delivery — Z-API's ``ReceivedCallback``
(default), or Evolution API's ``messages.upsert`` as v1 or v2 servers post it — to the
platform's webhook route, authenticated with the tenant's webhook secret; the bot's reply
is read from what the local fake gateways received (``/_local/whatsapp/messages``) and
printed, then the conversation's outcome (``GET .../whatsapp/conversations/{customer}``).

Script lines: text is a text message; ``#`` starts a comment; directives send other
message types: ``@location LAT,LON [ADDRESS]``, ``@audio``, ``@image [CAPTION]``,
``@sticker``, ``@contact NAME``.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from atende_local.settings import LocalSettings

GATEWAYS = ("zapi", "evolution-v2", "evolution-v1")


def _content(line: str) -> tuple[str, dict[str, Any]]:
    """(kind, fields) of one script line."""
    if not line.startswith("@"):
        return "text", {"text": line}
    directive, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    if directive == "location":
        coordinates, _, address = rest.partition(" ")
        lat, _, lon = coordinates.partition(",")
        return "location", {"latitude": float(lat), "longitude": float(lon), "address": address}
    if directive in ("audio", "sticker"):
        return directive, {}
    if directive == "image":
        return "image", {"caption": rest}
    if directive == "contact":
        return "contact", {"name": rest or "Contato"}
    raise ValueError(f"unknown directive @{directive}")


def zapi_delivery(
    line: str, *, phone: str, message_id: str | None = None, from_me: bool = False
) -> dict[str, Any]:
    """A Z-API ``ReceivedCallback`` as ``docs/webhooks/on-message-received.md`` shows it."""
    kind, fields = _content(line)
    body: dict[str, Any] = {
        "isStatusReply": False,
        "senderLid": None,
        "connectedPhone": "551130000000",
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": False,
        "isNewsletter": False,
        "instanceId": "DEMOZAPIINSTANCE",
        "messageId": message_id or uuid.uuid4().hex[:20].upper(),
        "phone": phone,
        "fromMe": from_me,
        "momment": int(time.time() * 1000),
        "status": "RECEIVED",
        "chatName": "Cliente",
        "senderName": "Cliente",
        "participantPhone": None,
        "broadcast": False,
        "type": "ReceivedCallback",
    }
    if kind == "text":
        body["text"] = {"message": fields["text"]}
    elif kind == "location":
        body["location"] = {**fields, "url": "", "name": ""}
    elif kind == "image":
        body["image"] = {
            "mimeType": "image/jpeg",
            "imageUrl": "https://",
            "caption": fields["caption"],
        }
    elif kind == "audio":
        body["audio"] = {"audioUrl": "https://", "mimeType": "audio/ogg; codecs=opus"}
    elif kind == "sticker":
        body["sticker"] = {"stickerUrl": "https://", "mimeType": "image/webp"}
    else:
        body["contact"] = {"displayName": fields["name"], "vCard": "BEGIN:VCARD\nEND:VCARD"}
    return body


def evolution_delivery(
    line: str,
    *,
    phone: str,
    version: str = "v2",
    message_id: str | None = None,
    from_me: bool = False,
    apikey: str | None = None,
) -> dict[str, Any]:
    """An Evolution ``messages.upsert`` webhook body (v1 carries the apikey in the body;
    v2 in the ``apikey`` header, with ``null`` in the body)."""
    kind, fields = _content(line)
    message: dict[str, Any]
    if kind == "text":
        message = {"conversation": fields["text"]}
    elif kind == "location":
        message = {
            "locationMessage": {
                "degreesLatitude": fields["latitude"],
                "degreesLongitude": fields["longitude"],
                "address": fields["address"],
            }
        }
    elif kind == "image":
        message = {"imageMessage": {"caption": fields["caption"], "mimetype": "image/jpeg"}}
    elif kind == "audio":
        message = {"audioMessage": {"seconds": 3, "ptt": True}}
    elif kind == "sticker":
        message = {"stickerMessage": {"mimetype": "image/webp"}}
    else:
        message = {"contactMessage": {"displayName": fields["name"], "vcard": "BEGIN:VCARD"}}
    data: dict[str, Any] = {
        "key": {
            "remoteJid": f"{phone}@s.whatsapp.net",
            "fromMe": from_me,
            "id": message_id or "3EB0" + uuid.uuid4().hex[:16].upper(),
        },
        "pushName": "Cliente",
        "message": message,
        "messageType": next(iter(message)),
        "messageTimestamp": int(time.time()),
    }
    if version == "v2":
        data |= {"instanceId": "demo-instance-id", "status": "DELIVERY_ACK", "source": "android"}
    else:
        data |= {"owner": "demo-pizzaria", "source": "android"}
    return {
        "event": "messages.upsert",
        "instance": "demo-pizzaria",
        "data": data,
        "destination": "http://127.0.0.1/webhooks/evolution",
        "date_time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "sender": "551130000000@s.whatsapp.net",
        "server_url": "http://evolution.local",
        "apikey": apikey if version == "v1" else None,
    }


@dataclass
class ChatSession:
    """Talks to a running local platform as one WhatsApp customer."""

    base_url: str
    token: str
    tenant_id: str
    phone: str
    gateway: str
    secret: str
    timeout: float = 20.0

    def _http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10.0)

    def deliver(self, line: str) -> httpx.Response:
        """POST ``line`` as the gateway's webhook delivery; the platform's answer."""
        with self._http() as http:
            if self.gateway == "zapi":
                return http.post(
                    f"/webhooks/zapi/{self.tenant_id}",
                    json=zapi_delivery(line, phone=self.phone),
                    headers={"Client-Token": self.secret},
                )
            version = self.gateway.removeprefix("evolution-")
            body = evolution_delivery(line, phone=self.phone, version=version, apikey=self.secret)
            headers = {"apikey": self.secret} if version == "v2" else {}
            return http.post(f"/webhooks/evolution/{self.tenant_id}", json=body, headers=headers)

    def sent(self) -> list[dict[str, Any]]:
        """What the fake gateways sent to this customer so far."""
        with self._http() as http:
            answer = http.get(
                "/_local/whatsapp/messages", headers={"Authorization": f"Bearer {self.token}"}
            )
        answer.raise_for_status()
        return [m for m in answer.json()["messages"] if m["to"].lstrip("+") == self.phone]

    def wait_reply(self, seen: int) -> list[dict[str, Any]]:
        """The replies after the first ``seen`` ones (waits up to ``timeout``)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            replies = self.sent()
            if len(replies) > seen:
                time.sleep(0.3)  # a reply and a hand-off note can come together
                return self.sent()[seen:]
            time.sleep(0.2)
        return []

    def conversation(self) -> dict[str, Any]:
        with self._http() as http:
            answer = http.get(
                f"/v1/tenants/{self.tenant_id}/whatsapp/conversations/{self.phone}",
                headers={"Authorization": f"Bearer {self.token}"},
            )
        return dict(answer.json())


def run_script(session: ChatSession, lines: Sequence[str], *, echo: bool = True) -> dict[str, Any]:
    """Send each line, wait for the bot's reply, print both; the transcript and outcome."""
    transcript: list[dict[str, str]] = []
    for line in lines:
        seen = len(session.sent())
        answer = session.deliver(line)
        if echo:
            print(f"→ {line}")
        if answer.status_code >= 300:
            transcript.append({"customer": line, "error": f"{answer.status_code} {answer.text}"})
            if echo:
                print(f"  ! webhook answered {answer.status_code}: {answer.text[:200]}")
            continue
        replies = session.wait_reply(seen)
        for reply in replies:
            if echo:
                print("← " + reply["text"].replace("\n", "\n  "))
        if not replies and echo:
            print("← (no reply)")
        transcript.append({"customer": line, "bot": "\n\n".join(r["text"] for r in replies)})
    outcome = session.conversation()
    if echo:
        print(json.dumps(outcome, indent=2, ensure_ascii=False))
    return {"transcript": transcript, "conversation": outcome}


def read_script(path: Path) -> list[str]:
    lines = [raw.rstrip("\n") for raw in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atende chat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", type=Path, required=True, help="one message per line")
    parser.add_argument("--tenant", default="demo-pizzaria")
    parser.add_argument("--phone", default="5511988887777", help="the customer's number")
    parser.add_argument("--gateway", choices=GATEWAYS, default="zapi")
    parser.add_argument("--secret", help="webhook secret (default: the demo's, from the state)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    settings = LocalSettings()
    try:
        state = json.loads(settings.state_file.read_text())
    except (OSError, ValueError):
        print(f"no running local platform (no {settings.state_file}); start `make run`")
        return 1
    secrets = (state.get("seed") or {}).get("secrets") or {}
    integration = "zapi" if args.gateway == "zapi" else "evolution"
    field = "client_token" if integration == "zapi" else "apikey"
    secret = args.secret or secrets.get(integration, {}).get(field)
    if not secret:
        print(f"no {integration} webhook secret: pass --secret")
        return 1
    session = ChatSession(
        base_url=state["url"],
        token=state["admin_token"],
        tenant_id=args.tenant,
        phone=args.phone.lstrip("+"),
        gateway=args.gateway,
        secret=secret,
    )
    result = run_script(session, read_script(args.script), echo=not args.json)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0
