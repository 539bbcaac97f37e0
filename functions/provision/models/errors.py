"""Errors of the provision domain, on top of the shared ones (same HTTP mapping)."""

from __future__ import annotations

from atende_shared.errors import Conflict, DependencyUnavailable


class SipUnavailable(DependencyUnavailable):
    """LiveKit is slow, down or answered 5xx, or the circuit is open: retry later."""

    code = "livekit_unavailable"


class SipRejected(Conflict):
    """LiveKit refused the request (4xx): retrying the same request will not help."""

    code = "livekit_rejected"

    def __init__(self, message: str, *, twirp_code: str = "invalid_argument") -> None:
        super().__init__(message, details={"twirp_code": twirp_code})
        self.twirp_code = twirp_code

    @property
    def conflicting(self) -> bool:
        """LiveKit's refusal of a duplicate: "Conflicting inbound SIP Trunks ..." for a
        trunk, "Dispatch rule for the same trunk, inbound number, number, and PIN
        combination already exists ..." for a rule (livekit-server 1.13's wording)."""
        return self.twirp_code == "invalid_argument" and (
            "Conflicting" in self.message or "combination already exists" in self.message
        )

    @property
    def not_found(self) -> bool:
        return self.twirp_code == "not_found"


class NumberOwnedElsewhere(Conflict):
    """The number belongs to another tenant (in DynamoDB or on a LiveKit trunk)."""

    code = "number_taken"


class LeaseBusy(DependencyUnavailable):
    """Another worker holds the number's lease; the message is retried later."""

    code = "lease_busy"
