"""Environment-specific settings, read from CDK context with defaults that synthesize.

Every key can be given in ``cdk.json`` or on the command line
(``npx cdk deploy -c stage=prod -c carrierCidrs=198.51.100.0/24,192.0.2.0/24``); values
from the command line arrive as strings, so each reader accepts both forms.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, fields
from typing import Any, get_args

from constructs import Node

from atende_shared.settings import Stage

#: A documentation range (RFC 5737): synthesizes, but reaches no real carrier, so SIP
#: stays closed until an operator names the carrier's signalling/media ranges.
DEFAULT_CARRIER_CIDRS = ("203.0.113.0/24",)
#: The most IPv4 addresses carrierCidrs may open SIP/RTP to, summed over every range
#: (overlaps counted once): a /16. A carrier's signalling and media ranges are a few
#: /24s at most; anything near this is a mistake or an attempt to open SIP to the world.
MAX_CARRIER_ADDRESSES = 2**16
#: The same for IPv6: a /48 per set.
MAX_CARRIER_ADDRESSES_V6 = 2**80
#: Deployable stages: the settings models' Stage literal, minus the local platform's.
STAGES = tuple(stage for stage in get_args(Stage) if stage != "local")
_WAF_BODY_KIB = (16, 32, 48, 64)
_OPTIONAL_BOOLS = frozenset({"interface_endpoints"})


class ConfigError(ValueError):
    """A context value that cannot be used."""


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


@dataclass(frozen=True, kw_only=True)
class DeploymentConfig:
    """What differs between deployments. Context key = the camelCase of the field name."""

    stage: str = "dev"
    account: str | None = None
    region: str = "us-east-1"
    carrier_cidrs: tuple[str, ...] = DEFAULT_CARRIER_CIDRS
    domain: str = "atende.example.com"
    certificate_arn: str | None = None
    enable_nat: bool = False
    #: None = follow enable_nat: endpoints pay off once private tasks would otherwise pull
    #: images and ship logs through the NAT gateway.
    interface_endpoints: bool | None = None
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    waf_max_body_kib: int = 64
    waf_rate_limit_per_path: int = 3000
    #: Requests per source address per 5 minutes, all paths: above what one provider's
    #: egress address sends for all its tenants (Asaas replays a paused queue in order).
    waf_rate_limit_per_ip: int = 6000
    alarm_email: str | None = None
    log_retention_days: int = 30
    reserved_concurrency: bool = True
    #: False: Lambda still traces every invocation, but the X-Ray SDK is not loaded (no
    #: handler/AWS-call subsegments), which takes ~0.1 s off every cold start.
    trace_subsegments: bool = True
    livekit_instance_type: str = "c7g.large"
    livekit_nodes: int = 1
    livekit_server_image: str = "livekit/livekit-server:v1.9.1"
    livekit_sip_image: str = "livekit/sip:v1.0.1"
    agent_cpu: int = 2048
    agent_memory_mib: int = 4096
    agent_min_tasks: int = 1
    agent_max_tasks: int = 10

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ConfigError(f"stage {self.stage!r} must be one of {STAGES}")
        if not self.carrier_cidrs:
            raise ConfigError("carrierCidrs needs at least one CIDR")
        carrier_address_space(self.carrier_cidrs)
        if self.waf_rate_limit_per_ip < 10:
            raise ConfigError("wafRateLimitPerIp must be >= 10 (the WAF minimum)")
        if self.waf_max_body_kib not in _WAF_BODY_KIB:
            raise ConfigError(f"wafMaxBodyKiB must be one of {_WAF_BODY_KIB}")
        if self.waf_rate_limit_per_path < 10:
            raise ConfigError("wafRateLimitPerPath must be >= 10 (the WAF minimum)")
        if not 1 <= self.livekit_nodes <= 10:
            raise ConfigError("livekitNodes must be between 1 and 10")
        if not 1 <= self.agent_min_tasks <= self.agent_max_tasks:
            raise ConfigError("need 1 <= agentMinTasks <= agentMaxTasks")

    @property
    def use_interface_endpoints(self) -> bool:
        return self.enable_nat if self.interface_endpoints is None else self.interface_endpoints

    @property
    def livekit_host(self) -> str:
        """Public name of the LiveKit API/WebSocket endpoint (TLS on the load balancer)."""
        return f"livekit.{self.domain}"

    @classmethod
    def from_context(cls, node: Node) -> DeploymentConfig:
        """Read every field from context (``stage`` -> ``stage``, ``carrier_cidrs`` ->
        ``carrierCidrs``); absent keys keep their defaults."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            key = _camel(field.name)
            raw = node.try_get_context(key)
            if raw is None or raw == "":
                continue
            default = field.default
            if isinstance(default, bool) or field.name in _OPTIONAL_BOOLS:
                values[field.name] = _as_bool(raw)
            elif isinstance(default, int):
                values[field.name] = int(raw)
            elif isinstance(default, tuple):
                values[field.name] = _as_tuple(raw)
            else:
                values[field.name] = str(raw)
        values.setdefault("account", os.environ.get("CDK_DEFAULT_ACCOUNT") or None)
        if "region" not in values and os.environ.get("CDK_DEFAULT_REGION"):
            values["region"] = os.environ["CDK_DEFAULT_REGION"]
        return cls(**values)


def carrier_address_space(cidrs: tuple[str, ...]) -> tuple[int, int]:
    """(IPv4, IPv6) address counts ``cidrs`` open, overlaps counted once; ConfigError
    when either exceeds its maximum (``0.0.0.0/1,128.0.0.0/1`` is the whole internet in
    two halves, and is refused like ``0.0.0.0/0``)."""
    try:
        networks = [ipaddress.ip_network(cidr, strict=True) for cidr in cidrs]
    except ValueError as exc:
        raise ConfigError(f"carrierCidrs: {exc}") from None
    v4 = list(ipaddress.collapse_addresses(n for n in networks if n.version == 4))
    v6 = list(ipaddress.collapse_addresses(n for n in networks if n.version == 6))
    total_v4 = sum(n.num_addresses for n in v4)
    total_v6 = sum(n.num_addresses for n in v6)
    if total_v4 > MAX_CARRIER_ADDRESSES or total_v6 > MAX_CARRIER_ADDRESSES_V6:
        raise ConfigError(
            f"carrierCidrs open SIP/RTP to {total_v4} IPv4 / {total_v6} IPv6 addresses; "
            f"at most {MAX_CARRIER_ADDRESSES} (a /16) and {MAX_CARRIER_ADDRESSES_V6} (a /48) "
            "are allowed: name the carrier's own signalling and media ranges"
        )
    return total_v4, total_v6


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    special = {"kib": "KiB", "mib": "MiB", "arn": "Arn"}
    return head + "".join(special.get(part, part.capitalize()) for part in rest)
