"""A spoken or typed address → :class:`OrderAddress`, and the tenant's delivery zone for it.

The customer's words are kept in ``raw``; the parts are best effort (street, number,
complement, neighbourhood, CEP, reference). The zone is found by CEP range first, then by a
zone's neighbourhood named in the address. With no zones configured the tenant delivers
anywhere without a fee.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from atende_shared.events import OrderAddress
from atende_shared.models.tenant import DeliverySettings, DeliveryZone
from atende_shared.ordering.catalog import normalise
from atende_shared.ordering.numbers import number_at

_CEP = re.compile(r"\b(\d{5})[-. ]?(\d{3})\b")
STREET_WORDS = (
    "rua", "r", "avenida", "av", "alameda", "al", "travessa", "tv", "estrada", "rodovia",
    "praca", "largo", "viela", "servidao", "street", "st", "avenue", "ave", "road", "rd",
    "lane", "boulevard", "blvd", "drive",
)  # fmt: skip
_COMPLEMENT = re.compile(
    r"\b(apto|apartamento|ap|apt|apartment|bloco|bl|casa|sala|suite|unit|fundos|andar|torre)"
    r"\b\.?\s*(?:n[ºo°]?\s*)?([\w-]*)",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\b(perto d[aoe]s?|proximo a[os]?|próximo a[os]?|ao lado d[aoe]|em frente a[os]?|"
    r"na frente d[aoe]|near|next to|across from|opposite)\b\s*(.+)$",
    re.IGNORECASE,
)
_NEIGHBOURHOOD = re.compile(
    r"\b(?:bairro|no bairro|neighbou?rhood|district)\s+(?:d[aoe]s?\s+)?([^,.;]+)", re.IGNORECASE
)


def looks_like_address(utterance: str) -> bool:
    """A street word followed by something, or a CEP: the caller is giving an address."""
    if _CEP.search(utterance):
        return True
    words = normalise(utterance).split()
    for i, word in enumerate(words[:-1]):
        if word in STREET_WORDS and (i == 0 or words[i - 1] not in ("da", "na", "de")):
            return any(w.isdigit() or number_at(words, j) for j, w in enumerate(words[i + 1 :]))
    return False


def parse_address(raw: str) -> OrderAddress:
    raw = " ".join(raw.split())[:500]
    cep_match = _CEP.search(raw)
    postal_code = f"{cep_match.group(1)}-{cep_match.group(2)}" if cep_match else None
    without_cep = _CEP.sub(" ", raw)
    complement = None
    if (comp := _COMPLEMENT.search(without_cep)) is not None:
        complement = " ".join(p for p in comp.groups() if p).strip() or None
    reference = None
    if (ref := _REFERENCE.search(without_cep)) is not None:
        reference = ref.group(0).strip(" .,") or None
    neighbourhood = None
    if (hood := _NEIGHBOURHOOD.search(without_cep)) is not None:
        neighbourhood = hood.group(1).strip(" .,") or None
    street = number = None
    words = normalise(without_cep).split()
    for i, word in enumerate(words):
        if word in STREET_WORDS:
            for j in range(i + 1, len(words)):
                found = number_at(words, j)
                if found is not None:
                    street_words = [w for w in words[i:j] if w != ","]
                    street = " ".join(street_words).title() or None
                    number = str(found[0])
                    break
            break
    return OrderAddress(
        raw=raw,
        street=street[:200] if street else None,
        number=number,
        complement=complement[:100] if complement else None,
        neighbourhood=neighbourhood[:100] if neighbourhood else None,
        postal_code=postal_code,
        reference=reference[:200] if reference else None,
    )


@dataclass(frozen=True)
class ZoneAnswer:
    """Where an address falls: a zone, anywhere (no zones), out of zone, or not yet known."""

    zone: DeliveryZone | None
    status: str  # "zone" | "anywhere" | "outside" | "unknown"
    place: str = ""


def _mentions(norm_text: str, name: str) -> bool:
    needle = normalise(name)
    return bool(needle) and f" {needle} " in f" {norm_text} "


def zone_for(address: OrderAddress, settings: DeliverySettings) -> ZoneAnswer:
    if not settings.zones:
        return ZoneAnswer(None, "anywhere")
    if address.postal_code:
        digits = address.postal_code.replace("-", "")
        for zone in settings.zones:
            if any(r.contains(digits) for r in zone.postal_codes):
                return ZoneAnswer(zone, "zone", address.postal_code)
    norm_text = normalise(address.raw)
    for zone in settings.zones:
        for hood in zone.neighbourhoods:
            if _mentions(norm_text, hood):
                return ZoneAnswer(zone, "zone", hood)
    if address.postal_code:
        return ZoneAnswer(None, "outside", f"CEP {address.postal_code}")
    if address.neighbourhood:
        return ZoneAnswer(None, "outside", address.neighbourhood)
    return ZoneAnswer(None, "unknown")


def known_place(norm_text: str, settings: DeliverySettings) -> bool:
    """Whether ``norm_text`` names one of the tenant's neighbourhoods (an answer to "which
    neighbourhood?")."""
    return any(_mentions(norm_text, h) for z in settings.zones for h in z.neighbourhoods)
