"""Order-webhook endpoints: registration and the URL rules (no SSRF into the VPC)."""

from __future__ import annotations

import base64
import ipaddress
import secrets
from urllib.parse import urlsplit

from atende_shared.errors import Conflict, NotFound, ValidationFailed
from functions.orders.dal.protocol import HostResolver
from functions.orders.logic.ports import EndpointPolicy, OrdersDeps
from functions.orders.models.notifications import WebhookEndpoint, WebhookEventType


def _refused(address: str, policy: EndpointPolicy) -> str | None:
    """Why ``address`` may not be called (None when it may)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    checks = (
        (ip.is_link_local, "a link-local address"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_unspecified, "an unspecified address"),
        (not ip.is_global, "not a public address"),
    )
    for bad, why in checks:
        if bad:
            return why
    return None


def check_url(url: str, *, policy: EndpointPolicy, resolve: HostResolver) -> None:
    """Refuse (422) a URL that is not https (http only locally), carries credentials, or
    whose host is or resolves to a private, link-local, loopback or otherwise non-public
    address. Checked at registration and again before every delivery (DNS can change)."""
    parts = urlsplit(url)
    schemes = {"https", "http"} if policy.allow_http else {"https"}
    if parts.scheme not in schemes:
        raise ValidationFailed(f"endpoint URL must use {' or '.join(sorted(schemes))}")
    if parts.username or parts.password:
        raise ValidationFailed("endpoint URL must not carry credentials")
    host = parts.hostname
    if not host:
        raise ValidationFailed("endpoint URL has no host")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host)
        except OSError as exc:
            raise ValidationFailed(f"endpoint host {host!r} does not resolve") from exc
    if not addresses:
        raise ValidationFailed(f"endpoint host {host!r} does not resolve")
    for address in addresses:
        why = _refused(address, policy)
        if why:
            raise ValidationFailed(
                f"endpoint host {host!r} resolves to {why} ({address}); refused",
                details={"address": address},
            )


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def register_endpoint(
    deps: OrdersDeps,
    tenant_id: str,
    *,
    url: str,
    events: list[WebhookEventType],
    description: str | None,
) -> WebhookEndpoint:
    deps.tenant(tenant_id)  # 404 for an unknown tenant
    check_url(url, policy=deps.endpoints, resolve=deps.resolve)
    existing = deps.store.list_endpoints(tenant_id)
    if len(existing) >= deps.endpoints.max_endpoints:
        raise Conflict(f"a tenant may register at most {deps.endpoints.max_endpoints} endpoints")
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        endpoint_id=f"we_{secrets.token_hex(8)}",
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=new_secret(),
        created_at=deps.clock(),
    )
    deps.store.put_endpoint(endpoint)
    return endpoint


def delete_endpoint(deps: OrdersDeps, tenant_id: str, endpoint_id: str) -> None:
    if not deps.store.delete_endpoint(tenant_id, endpoint_id):
        raise NotFound(f"endpoint {endpoint_id!r} not found")
